package dova.compress.bench;

import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
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
 * Throughput of the fast bit-exact executor, one thread, per batch of images: scripts/bench-simulator.sh.
 * Images per second = batch / (seconds per operation).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1"})
public class SimulatorBenchmark {
    @Param({"resnet28", "mobilenet224"})
    String model;

    @Param({"1", "32"})
    int batch;

    @Param({"WRAP", "SATURATE"})
    String overflow;

    Executor executor;
    byte[] images;
    int size;
    TrainingLoop loop;

    @Setup(Level.Trial)
    public void setup() {
        QuantNet net = BenchModels.net(model);
        loop = TrainingLoop.create(net, 1);
        IntegerModel m = BenchModels.export(loop, model);
        executor = Executor.fast(m, ProcessorConfig.baseline().withAccumulator(16, Overflow.valueOf(overflow))
                .withMultiplierBits(12));
        size = m.inputSpec().size();
        images = BenchModels.images(net, batch, 2);
        System.out.printf("%n%s: %d MACs per image%n", model, m.macs());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loop.model().close();
    }

    @Benchmark
    public void simulate(Blackhole bh) {
        for (int i = 0; i < batch; i++) {
            bh.consume(executor.run(images, i * size));
        }
    }
}
