package dova.compress.bench;

import dova.calibrate.observe.RangeProfile;
import dova.calibrate.plan.RescalingPlan;
import dova.calibrate.plan.RescalingPlanner;
import dova.compress.net.Exporter;
import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
import dova.sim.data.LabelledImages;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * The networks of {@link RuntimeBenchmark}, built once and cached under {@code target/bench-models}
 * (every JMH fork loads the same file):
 * <ul>
 *   <li>{@code resnet28}: the ResNet-20-like network for 28x28x1, seeded random weights,
 *       activation scales calibrated on MNIST test images, then made A16/M12-feasible by the
 *       rescaling planner on 64 of them; benchmarked on 64 other MNIST test images;</li>
 *   <li>{@code mobilenet224}: the MobileNet-v1-style network at width 0.5 for 224x224x3, seeded
 *       random weights, planned on 8 random images, benchmarked on other random images;</li>
 *   <li>{@code lenet}: the shipped, trained LeNet ({@code models/lenet-mnist-a16m12-wrap.dova}) on MNIST test images;</li>
 *   <li>{@code worst28}: {@code resnet28} before planning: random weights whose A16 accumulators
 *       overflow almost everywhere, so that nearly every output is replayed in canonical order.</li>
 * </ul>
 */
final class BenchNetworks {
    static final ProcessorConfig A16 = ProcessorConfig.paperTarget(Overflow.WRAP);

    private BenchNetworks() {
    }

    static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("models/lenet-mnist-a16m12-wrap.dova"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("run from inside the dova checkout (models/ not found)");
        }
        return p;
    }

    static IntegerModel model(String name) {
        Path cache = root().resolve("compress/target/bench-models/" + name + ".dova");
        try {
            if (name.equals("lenet")) {
                return ModelIo.read(root().resolve("models/lenet-mnist-a16m12-wrap.dova"));
            }
            if (Files.exists(cache)) {
                return ModelIo.read(cache);
            }
            IntegerModel m = build(name);
            Files.createDirectories(cache.getParent());
            ModelIo.write(m, cache);
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static IntegerModel build(String name) {
        String net = name.equals("worst28") ? "resnet28" : name;
        QuantNet q = BenchModels.net(net);
        TrainingLoop loop = TrainingLoop.create(q, 1);
        try {
            IntegerModel m;
            byte[] calib;
            int n;
            if (net.equals("resnet28")) {
                LabelledImages mnist = mnist();
                loop.calibrate(mnist.head(256), 64);
                m = Exporter.export(q, net, 32, 32);
                n = 64;
                calib = Arrays.copyOf(mnist.pixels(), n * 784);
            } else {
                m = BenchModels.export(loop, net);
                n = 8;
                calib = randomImages(m, n, 11);
            }
            if (name.equals("worst28")) {
                return m;
            }
            RangeProfile.Collector c = new RangeProfile.Collector(m);
            for (int i = 0; i < n; i++) {
                c.add(calib, i * m.inputSpec().size());
            }
            RescalingPlan plan = RescalingPlanner.plan(m, c.profile(), A16, 0.9999, calib, n, 30);
            System.out.printf("%n%s planned for %s in %d iterations, %d overflow events left on its calibration images%n%s%n",
                    name, A16.label(), plan.iterations(), plan.overflowEvents(), plan.table());
            return plan.model();
        } finally {
            loop.model().close();
        }
    }

    static LabelledImages mnist() {
        Path d = root().resolve("data/mnist");
        try {
            return LabelledImages.load("mnist-test", d.resolve("t10k-images-idx3-ubyte"), d.resolve("t10k-labels-idx1-ubyte"));
        } catch (IOException e) {
            throw new UncheckedIOException("MNIST is needed (scripts/fetch-data.sh): " + e.getMessage(), e);
        }
    }

    /** {@code n} benchmark images for {@code name}, distinct from its calibration images. */
    static byte[] images(String name, IntegerModel m, int n) {
        if (name.equals("mobilenet224")) {
            return randomImages(m, n, 29);
        }
        LabelledImages mnist = mnist();
        return Arrays.copyOfRange(mnist.pixels(), 5000 * 784, (5000 + n) * 784);
    }

    static byte[] randomImages(IntegerModel m, int n, long seed) {
        byte[] px = new byte[n * m.inputSpec().size()];
        new Random(seed).nextBytes(px);
        return px;
    }
}
