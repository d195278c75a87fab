package dova.sim.model;

import java.util.Random;

/**
 * Seeded random integer models covering every layer kind: dense, strided, padded, grouped
 * and depthwise convolutions, residual adds, max / average / global average pools, flatten
 * and fully connected. Weights include the narrow-range extremes so that accumulators are
 * pushed towards overflow.
 */
public final class RandomModels {
    private RandomModels() {
    }

    public static byte[] weights(Random rnd, int n, int weightBits, boolean extreme) {
        int max = (1 << (weightBits - 1)) - 1;
        byte[] w = new byte[n];
        for (int i = 0; i < n; i++) {
            int v = extreme && rnd.nextInt(3) == 0 ? (rnd.nextBoolean() ? max : -max) : rnd.nextInt(2 * max + 1) - max;
            w[i] = (byte) v;
        }
        return w;
    }

    private static int[] bias(Random rnd, int n, int accBits) {
        int[] b = new int[n];
        int range = Math.min(1 << (accBits - 3), 1 << 12);
        for (int i = 0; i < n; i++) {
            b[i] = rnd.nextInt(2 * range + 1) - range;
        }
        return b;
    }

    private static double[] scales(Random rnd, int n) {
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = Math.scalb(0.5 + rnd.nextDouble(), -6 - rnd.nextInt(4));
        }
        return s;
    }

    private static Activation act(Random rnd) {
        return Activation.values()[rnd.nextInt(3)];
    }

    /** A small random model on a {@code channels x size x size} input. */
    public static IntegerModel model(long seed, int weightBits, int activationBits, int accBits, int mulBits) {
        return model(seed, weightBits, activationBits, accBits, mulBits, false);
    }

    /**
     * As {@link #model(long, int, int, int, int)}; with {@code unsignedConvInputs} every conv reads
     * a ReLU output or pixels and grouped convs are depthwise (what the native kernels run), and
     * channel counts range wider (up to 40, not all multiples of 16).
     */
    public static IntegerModel model(long seed, int weightBits, int activationBits, int accBits, int mulBits,
                                     boolean unsignedConvInputs) {
        Random rnd = new Random(seed);
        boolean extreme = rnd.nextBoolean();
        int channels = 1 + rnd.nextInt(3);
        int size = 5 + rnd.nextInt(6);
        ModelBuilder b = new ModelBuilder("random-" + seed, weightBits, activationBits, accBits, mulBits);
        int x = b.input("image", channels, size, size, 1 / 255.0);
        int c1 = unsignedConvInputs ? 2 + 2 * rnd.nextInt(20) : 8 + 8 * rnd.nextInt(3);
        int k = 1 + 2 * rnd.nextInt(2);
        int stride = 1 + rnd.nextInt(2);
        x = b.conv("conv1", x, c1, k, stride, k / 2, 1, weights(rnd, c1 * channels * k * k, weightBits, extreme),
                bias(rnd, c1, accBits), scales(rnd, c1), 0.02 + 0.05 * rnd.nextDouble(), Activation.RELU);
        // a grouped or depthwise conv
        int groups = unsignedConvInputs || rnd.nextBoolean() ? c1 : (c1 % 4 == 0 ? 4 : 2);
        int inPerGroup = c1 / groups;
        int c2 = groups == c1 ? c1 : c1;
        int y = b.conv("conv2", x, c2, 3, 1, 1, groups, weights(rnd, c2 * inPerGroup * 9, weightBits, extreme),
                bias(rnd, c2, accBits), scales(rnd, c2), 0.02 + 0.05 * rnd.nextDouble(),
                unsignedConvInputs ? (rnd.nextBoolean() ? Activation.RELU : Activation.RELU6) : act(rnd));
        // a wide dense conv so that A-bit accumulators really overflow
        int z = b.conv("conv3", y, c1, 3, 1, 1, 1, weights(rnd, c1 * c2 * 9, weightBits, extreme),
                bias(rnd, c1, accBits), scales(rnd, c1), 0.02 + 0.05 * rnd.nextDouble(), act(rnd));
        x = b.add("add", x, z, 0.03 + 0.05 * rnd.nextDouble(), unsignedConvInputs || rnd.nextBoolean() ? Activation.RELU : Activation.NONE);
        TensorSpec t = b.tensor(x);
        switch (rnd.nextInt(3)) {
            case 0 -> x = b.maxPool("pool", x, 2 + rnd.nextInt(2), 2, rnd.nextInt(2));
            case 1 -> x = t.height() >= 2 ? b.avgPool("pool", x, 2, 2, 0.03 + 0.02 * rnd.nextDouble()) : x;
            default -> {
            }
        }
        int classes = 4 + rnd.nextInt(7);
        if (rnd.nextBoolean()) {
            x = b.globalAvgPool("gap", x, 0.02 + 0.03 * rnd.nextDouble());
        } else {
            x = b.flatten("flatten", x);
        }
        int features = b.tensor(x).channels();
        x = b.dense("fc", x, classes, weights(rnd, classes * features, weightBits, extreme), bias(rnd, classes, accBits),
                scales(rnd, classes), 0.05 + 0.1 * rnd.nextDouble(), Activation.NONE);
        return b.build(x);
    }

    /** A random image for {@code model}, with a share of extreme pixels (0 and 255). */
    public static byte[] image(Random rnd, IntegerModel model) {
        byte[] px = new byte[model.inputSpec().size()];
        for (int i = 0; i < px.length; i++) {
            int r = rnd.nextInt(4);
            px[i] = (byte) (r == 0 ? 0 : r == 1 ? 255 : rnd.nextInt(256));
        }
        return px;
    }
}
