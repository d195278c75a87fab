package dova.compress.bench;

import dova.compress.net.Architecture;
import dova.compress.net.QuantNet;
import dova.compress.train.EpochStats;
import dova.compress.train.TrainingLoop;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Native memory over thousands of quantization-aware training steps: trains the ResNet-20-like
 * network (A16/M12 WRAP, downscaling- and overflow-aware) on Fashion-MNIST in short "epochs"
 * and prints the resident set size after each, so that growth shows as a trend.
 *
 * <pre>scripts/run-test-main.sh compress dova.compress.bench.QatMemory [DATA_DIR] [EPOCHS] [STEPS_PER_EPOCH]</pre>
 */
public final class QatMemory {
    private QatMemory() {
    }

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args.length > 0 ? args[0] : "data");
        int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        int batch = 32;
        LabelledImages train = DataSet.FASHION_MNIST.load(data, DataSet.Split.TRAIN).head(steps * batch);
        QuantNet net = new QuantNet(Architecture.RESNET, QuantNet.withoutBatchNorm(Architecture.RESNET.ops(10, 1)), 10, 1, 28,
                28);
        TrainingLoop loop = TrainingLoop.create(net, 5);
        loop.fit("fp32", train.head(Math.min(train.count(), 200 * batch)), 1, batch, 1e-3f, 5, System.err, null);
        loop.calibrate(train.head(1024), 128);
        net.quantize(dova.compress.net.QuantTarget.PAPER);
        System.out.printf(Locale.ROOT, "before QAT: resident memory %d MiB%n", EpochStats.residentMegabytesNow());
        for (int e = 1; e <= epochs; e++) {
            EpochStats s = loop.fit("qat", train, 1, batch, 1e-4f, e, System.err, null).get(0);
            System.out.printf(Locale.ROOT, "after %d QAT steps: resident memory %d MiB, loss %.4f, %.1f s%n",
                    e * steps, s.residentMegabytes(), s.loss(), s.seconds());
        }
        loop.model().close();
    }
}
