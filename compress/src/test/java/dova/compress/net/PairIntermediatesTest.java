package dova.compress.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The two ways training computes a conv's vpmaddubsw pair sums, the stacked windows of all taps
 * and by the masked-tap convolution (any order), give the same intermediates: the same saturated
 * sum for every output and the same number of saturated pairs, on inputs and weights at full range
 * (strides, padding, groups). The masked path itself is checked against the simulator by
 * ExportAgreementTest.
 */
class PairIntermediatesTest {
    @ParameterizedTest(name = "{0} channels, {1} groups, kernel {2}, stride {3}, pad {4}")
    @CsvSource({"6, 1, 5, 1, 0", "8, 2, 3, 2, 1", "16, 16, 3, 1, 1", "4, 1, 1, 1, 0"})
    void stackedAndMaskedIntermediatesAgree(int channels, int groups, int kernel, int stride, int pad) {
        Random rnd = new Random(channels * 31L + kernel);
        int n = 3;
        int size = 9;
        int out = groups == channels ? channels : 6;
        int cg = channels / groups;
        float[] x = new float[n * channels * size * size];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextInt(4) == 0 ? 255 : rnd.nextInt(256);
        }
        float[] w = new float[out * cg * kernel * kernel];
        for (int i = 0; i < w.length; i++) {
            w[i] = rnd.nextInt(3) == 0 ? 127 : rnd.nextInt(255) - 127;
        }
        Op.Conv conv = new Op.Conv("c", out, kernel, stride, pad, groups, true);
        try (NDManager mgr = NDManager.newBaseManager()) {
            NDArray xa = mgr.create(x, new Shape(n, channels, size, size));
            NDArray wa = mgr.create(w, new Shape(out, cg, kernel, kernel));
            NDArray taps = IntegerForward.intermediates(conv, xa, wa, 2);
            NDArray masked = masked(conv, xa, wa, 2);
            float[] tapSum = taps.clip(-32768, 32767).sum(new int[] {2}).toFloatArray();
            float[] maskedSum = masked.clip(-32768, 32767).sum(new int[] {2}).toFloatArray();
            assertArrayEquals(maskedSum, tapSum, "saturated sums per output");
            float[] exact = ai.djl.nn.convolutional.Conv2d.conv2d(xa, wa, mgr.zeros(new Shape(out)),
                    new Shape(stride, stride), new Shape(pad, pad), new Shape(1, 1), groups).singletonOrThrow().toFloatArray();
            assertArrayEquals(exact, taps.sum(new int[] {2}).toFloatArray(), "unsaturated intermediates add up to the conv");
            long satTaps = countOutside(taps);
            long satMasked = countOutside(masked);
            System.out.printf("%d channels / %d groups, kernel %d: %d pairs saturate (stacked), %d (masked)%n", channels,
                    groups, kernel, satTaps, satMasked);
            assertTrue(satTaps > 0, "the case exercises saturation");
            org.junit.jupiter.api.Assertions.assertEquals(satMasked, satTaps);
        }
    }

    /**
     * The reference: one convolution with the weights masked to each intermediate's taps (output
     * channel o's intermediate j is channel o * P + j, so a grouped conv's group still produces its
     * own channels' intermediates), {@code (N, O, P, H', W')}.
     */
    private static NDArray masked(Op.Conv conv, NDArray x, NDArray wq, int k) {
        NDManager mgr = x.getManager();
        long[] d = wq.getShape().getShape();
        int oc = (int) d[0];
        int cg = (int) d[1];
        int kh = (int) d[2];
        int kw = (int) d[3];
        int p = (cg * kh * kw + k - 1) / k;
        float[] mask = new float[p * cg * kh * kw];
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                for (int c = 0; c < cg; c++) {
                    int j = ((ky * kw + kx) * cg + c) / k;
                    mask[((j * cg + c) * kh + ky) * kw + kx] = 1;
                }
            }
        }
        NDArray w = wq.reshape(oc, 1, cg, kh, kw).mul(mgr.create(mask, new Shape(1, p, cg, kh, kw)))
                .reshape(oc * p, cg, kh, kw);
        NDArray y = ai.djl.nn.convolutional.Conv2d.conv2d(x, w, mgr.zeros(new Shape(oc * p)),
                new Shape(conv.stride(), conv.stride()), new Shape(conv.pad(), conv.pad()), new Shape(1, 1),
                conv.groups()).singletonOrThrow();
        return y.reshape(x.getShape().get(0), oc, p, y.getShape().get(2), y.getShape().get(3));
    }

    private static long countOutside(NDArray parts) {
        long c = 0;
        for (float v : parts.toFloatArray()) {
            c += v > 32767 || v < -32768 ? 1 : 0;
        }
        return c;
    }
}
