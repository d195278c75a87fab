package dova.compress.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.onnx.OnnxExporter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The simulator and ONNX Runtime int8 interleaved in one JVM, for ratios that the shared machine's
 * drifting load cannot bias: every round runs each engine for a short slice in turn (the order
 * rotating), and the ratio of each engine to ORT int8 is taken within the round; the report gives
 * the median over rounds of the images per second and of those ratios, with the quartiles. The
 * engines: dova A16/M12 WRAP and SATURATE and A32/M32 (native kernels, u8 mode where the weights
 * allow it), dova A32/M32 with u8 mode off (int16 rows only), ORT int8 and ORT FP32.
 *   scripts/run-test-main.sh compress dova.compress.bench.SideBySide resnet28 [batch] [rounds] [slice seconds]
 */
public final class SideBySide {
    private SideBySide() {
    }

    interface Engine {
        void run() throws OrtException;
    }

    public static void main(String[] args) throws Exception {
        String name = args.length > 0 ? args[0] : "resnet28";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        double slice = args.length > 3 ? Double.parseDouble(args[3]) : 0.4;
        IntegerModel m = BenchNetworks.model(name);
        byte[] images = BenchNetworks.images(name, m, batch);
        int size = m.inputSpec().size();
        Map<String, Engine> engines = new LinkedHashMap<>();
        for (String[] e : new String[][] {{"dova A16/M12 wrap", "a16w"}, {"dova A16/M12 saturate", "a16s"},
            {"dova A32/M32", "a32"}, {"dova A32/M32 int16 rows", "a32-int16"}}) {
            ProcessorConfig cfg = switch (e[1]) {
                case "a16w" -> ProcessorConfig.paperTarget(Overflow.WRAP);
                case "a16s" -> ProcessorConfig.paperTarget(Overflow.SATURATE);
                default -> ProcessorConfig.baseline();
            };
            if (e[1].equals("a32-int16")) {
                System.setProperty("dova.sim.u8", "false");
            }
            Executor x = Executor.fast(m, cfg);
            System.clearProperty("dova.sim.u8");
            engines.put(e[0], () -> {
                for (int i = 0; i < batch; i++) {
                    x.run(images, i * size);
                }
            });
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<AutoCloseable> closing = new ArrayList<>();
        for (OnnxExporter.Flavour f : new OnnxExporter.Flavour[] {OnnxExporter.Flavour.INT8, OnnxExporter.Flavour.FLOAT}) {
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(1);
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtSession session = env.createSession(OnnxExporter.export(m, f), o);
            ByteBuffer b = ByteBuffer.allocateDirect(images.length);
            b.put(images).flip();
            OnnxTensor input = OnnxTensor.createTensor(env, b, new long[] {batch, m.inputSpec().channels(),
                m.inputSpec().height(), m.inputSpec().width()}, OnnxJavaType.UINT8);
            closing.add(input);
            closing.add(session);
            engines.put(f == OnnxExporter.Flavour.INT8 ? "ORT int8" : "ORT FP32", () -> {
                try (OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, input))) {
                    r.get(0);
                }
            });
        }
        List<String> names = new ArrayList<>(engines.keySet());
        for (Engine e : engines.values()) { // warm-up: JIT, caches, ORT's first runs
            long end = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < end) {
                e.run();
            }
        }
        double[][] rate = new double[names.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < names.size(); k++) {
                int e = (k + r) % names.size();
                Engine engine = engines.get(names.get(e));
                long t0 = System.nanoTime();
                long end = t0 + (long) (slice * 1e9);
                long n = 0;
                while (System.nanoTime() < end) {
                    engine.run();
                    n++;
                }
                rate[e][r] = n * batch / ((System.nanoTime() - t0) / 1e9);
            }
        }
        int ort = names.indexOf("ORT int8");
        System.out.printf(Locale.ROOT, "%n%s, batch %d, %d rounds of %.1f s per engine, one thread (%d MACs per image)%n",
                name, batch, rounds, slice, m.macs());
        System.out.printf(Locale.ROOT, "%-26s %12s %22s%n", "engine", "images/s", "speed / ORT int8");
        for (int e = 0; e < names.size(); e++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = rate[e][r] / rate[ort][r];
            }
            double[] q = quartiles(ratio);
            System.out.printf(Locale.ROOT, "%-26s %12.1f %8.2fx (%.2f-%.2f)%n", names.get(e), quartiles(rate[e])[1], q[1], q[0],
                    q[2]);
        }
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    /** First quartile, median and third quartile. */
    static double[] quartiles(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return new double[] {s[(s.length - 1) / 4], s[(s.length - 1) / 2], s[(3 * (s.length - 1) + 3) / 4]};
    }
}
