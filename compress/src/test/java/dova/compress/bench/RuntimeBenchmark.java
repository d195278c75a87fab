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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The bit-exact simulator against ONNX Runtime on the same integer model, single-threaded, in one
 * JMH run (scripts/bench-simulator.sh): dova at A16/M12 WRAP and SATURATE and at A32/M32, ORT int8
 * (the model exported as QOperator ONNX) and ORT FP32 (the same network in float), per batch of
 * images. Images per second = batch / (seconds per operation) per thread. State is per thread
 * (each thread its own executor or ORT session), so {@code -t 2} measures two cores side by side.
 * Networks: {@link BenchNetworks}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Xmx6g"})
public class RuntimeBenchmark {
    @Param({"resnet28", "mobilenet224", "lenet", "worst28"})
    String model;

    @Param({"1", "32"})
    int batch;

    @Param({"dova-a16-wrap", "dova-a16-saturate", "dova-a32", "ort-int8", "ort-fp32"})
    String engine;

    private Executor executor;
    private byte[] images;
    private int size;
    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor input;

    @Setup(Level.Trial)
    public void setup() throws OrtException {
        IntegerModel m = BenchNetworks.model(model);
        size = m.inputSpec().size();
        images = BenchNetworks.images(model, m, batch);
        System.out.printf("%n%s: %d MACs per image; %s%n", model, m.macs(), Executor.fastPath(m, BenchNetworks.A16));
        switch (engine) {
            case "dova-a16-wrap" -> executor = Executor.fast(m, ProcessorConfig.paperTarget(Overflow.WRAP));
            case "dova-a16-saturate" -> executor = Executor.fast(m, ProcessorConfig.paperTarget(Overflow.SATURATE));
            case "dova-a32" -> executor = Executor.fast(m, ProcessorConfig.baseline());
            case "ort-int8", "ort-fp32" -> {
                env = OrtEnvironment.getEnvironment();
                OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                o.setIntraOpNumThreads(1);
                o.setInterOpNumThreads(1);
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(OnnxExporter.export(m, engine.equals("ort-int8") ? OnnxExporter.Flavour.INT8
                        : OnnxExporter.Flavour.FLOAT), o);
                ByteBuffer b = ByteBuffer.allocateDirect(images.length);
                b.put(images).flip();
                input = OnnxTensor.createTensor(env, b, new long[] {batch, m.inputSpec().channels(), m.inputSpec().height(),
                    m.inputSpec().width()}, OnnxJavaType.UINT8);
            }
            default -> throw new IllegalArgumentException("unknown engine " + engine);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (session != null) {
            input.close();
            session.close();
        }
        if (executor != null) {
            System.out.printf("%s %s: %d overflow events in the run%n", model, engine, executor.totalOverflowEvents());
        }
    }

    @Benchmark
    public void infer(Blackhole bh) throws OrtException {
        if (executor != null) {
            for (int i = 0; i < batch; i++) {
                bh.consume(executor.run(images, i * size));
            }
        } else {
            try (OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, input))) {
                bh.consume(r.get(0));
            }
        }
    }
}
