package dova.compress.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dova.compress.net.Architecture;
import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
import dova.sim.data.LabelledImages;
import java.util.Random;
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

/**
 * One optimizer step (forward, backward, Adam) at batch 32: FP32 against downscaling- and
 * overflow-aware QAT (A16/M12 WRAP), LeNet and the ResNet-20-like network. QAT's first
 * iterations are slower while the native allocator settles, hence the long warm-up.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1"})
public class TrainingStepBenchmark {
    @Param({"lenet", "resnet"})
    String model;

    @Param({"fp32", "qat"})
    String mode;

    TrainingLoop loop;
    Trainer trainer;
    NDArray x;
    NDArray y;

    @Setup(Level.Trial)
    public void setup() {
        Architecture arch = Architecture.parse(model);
        // the folded network (no batch norm) in both modes: the same conv graph, as quantization sees it
        QuantNet net = new QuantNet(arch, QuantNet.withoutBatchNorm(arch.ops(10, 1)), 10, 1, 28, 28);
        loop = TrainingLoop.create(net, 1);
        byte[] px = new byte[256 * 784];
        new Random(3).nextBytes(px);
        loop.calibrate(new LabelledImages("random", 256, 28, 28, px, new byte[256]), 64);
        if ("qat".equals(mode)) {
            net.quantize(dova.compress.net.QuantTarget.PAPER);
        }
        trainer = loop.model().newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(Optimizer.adam().build()).optInitializer(new XavierInitializer(), Parameter.Type.WEIGHT));
        trainer.initialize(new Shape(32, 1, 28, 28));
        float[] f = new float[32 * 784];
        float[] l = new float[32];
        for (int i = 0; i < f.length; i++) {
            f[i] = px[i] & 0xff;
        }
        for (int i = 0; i < 32; i++) {
            l[i] = i % 10;
        }
        x = trainer.getManager().create(f, new Shape(32, 1, 28, 28));
        y = trainer.getManager().create(l);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.close();
        loop.model().close();
    }

    @Benchmark
    public void step() {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList pred = trainer.forward(new NDList(x));
                gc.backward(trainer.getLoss().evaluate(new NDList(y), pred));
            }
        }
        trainer.step();
    }
}
