package dova.sim.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import dova.sim.model.TensorSpec;
import java.nio.ByteBuffer;
import java.util.Map;

/** Where ONNX Runtime and the simulator at A32/M32 part: per layer, the values 1 LSB and further apart on one image. */
final class OnnxDivergence {
    private OnnxDivergence() {
    }

    static String report(IntegerModel m, byte[] px) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Executor e = Executor.reference(m, ProcessorConfig.baseline());
        e.run(px, 0);
        StringBuilder sb = new StringBuilder();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(OnnxExporter.exportEveryTensor(m, OnnxExporter.Flavour.INT8), o);
                 OnnxTensor t = OnnxTensor.createTensor(env, ByteBuffer.wrap(px), new long[] {1, m.inputSpec().channels(),
                         m.inputSpec().height(), m.inputSpec().width()}, OnnxJavaType.UINT8);
                 OrtSession.Result r = s.run(Map.of(OnnxExporter.INPUT, t))) {
                for (Layer l : m.layers()) {
                    TensorSpec spec = m.tensor(l.output());
                    OnnxValue v = r.get(OnnxExporter.tensorName(m, l.output())).orElseThrow();
                    ByteBuffer b = ((OnnxTensor) v).getByteBuffer();
                    int[] sim = e.tensorValues(l.output());
                    int one = 0;
                    int more = 0;
                    StringBuilder examples = new StringBuilder();
                    for (int i = 0; i < sim.length; i++) {
                        int ort = (b.get(i) & 0xff) - (spec.signed() ? 128 : 0);
                        int d = Math.abs(ort - sim[i]);
                        one += d == 1 ? 1 : 0;
                        more += d > 1 ? 1 : 0;
                        if (d > 1 && more <= 4) {
                            examples.append(String.format(" [%d (channel %d): simulator %d, ORT %d]", i,
                                    i / (spec.height() * spec.width()), sim[i], ort));
                        }
                    }
                    sb.append(String.format("%-10s %-16s %6d values: %5d 1 LSB apart, %5d further%n", l.kind(), l.name(),
                            sim.length, one, more)).append(examples.length() > 0 ? "  first:" + examples + "\n" : "");
                }
            }
        }
        return sb.toString();
    }
}
