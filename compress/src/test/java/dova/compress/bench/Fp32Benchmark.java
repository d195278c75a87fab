package dova.compress.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
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

/** FP32 inference of the same architectures in DJL / PyTorch (CPU, one intra-op thread), per batch. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1"})
public class Fp32Benchmark {
    @Param({"resnet28", "mobilenet224"})
    String model;

    @Param({"1", "32"})
    int batch;

    TrainingLoop loop;
    NDArray input;
    ParameterStore store;

    @Setup(Level.Trial)
    public void setup() {
        QuantNet net = BenchModels.net(model);
        loop = TrainingLoop.create(net, 1);
        net.setMode(QuantNet.Mode.FP32);
        byte[] px = BenchModels.images(net, batch, 2);
        float[] f = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            f[i] = px[i] & 0xff;
        }
        Shape s = net.inputShape();
        input = loop.model().getNDManager().create(f, new Shape(batch, s.get(0), s.get(1), s.get(2)));
        store = new ParameterStore(loop.model().getNDManager(), false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loop.model().close();
    }

    @Benchmark
    public float fp32() {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return loop.net().forward(store, new NDList(input), false).singletonOrThrow().getFloat(0, 0);
        }
    }
}
