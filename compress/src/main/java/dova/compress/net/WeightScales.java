package dova.compress.net;

import dova.sim.FixedPoint;

/**
 * Per-channel weight scales as the quantized forward and the exporter both compute them, in
 * float32: {@code max|W[c]| / limit}, and in guaranteed mode raised until no input can overflow
 * the accumulator.
 */
public final class WeightScales {
    private WeightScales() {
    }

    /** Per-channel {@code max|W[c]|} of weights laid out output channel first (the exporter's side of it). */
    public static float[] channelMaxima(float[] w, int outChannels) {
        int per = w.length / outChannels;
        float[] max = new float[outChannels];
        for (int c = 0; c < outChannels; c++) {
            for (int i = c * per; i < (c + 1) * per; i++) {
                max[c] = Math.max(max[c], Math.abs(w[i]));
            }
        }
        return max;
    }

    /** {@code max(maxima[c], 1e-8) / limit} in float32; non-finite maxima mean training diverged. */
    static float[] scalesFromMaxima(float[] maxima, int limit) {
        return scalesFromMaxima(maxima, c -> limit);
    }

    /** As above with a limit per channel. */
    static float[] scalesFromMaxima(float[] maxima, java.util.function.IntUnaryOperator limit) {
        float[] s = new float[maxima.length];
        for (int c = 0; c < maxima.length; c++) {
            if (!Float.isFinite(maxima[c])) {
                throw new IllegalStateException("output channel " + c + " has non-finite weights: training diverged"
                        + " (try a lower learning rate)");
            }
            s[c] = Math.max(maxima[c], 1e-8f) / (float) limit.applyAsInt(c);
        }
        return s;
    }

    /**
     * Guaranteed mode: raises {@code Sw[c]} until {@code (sum|round(W/Sw)| * xmax + |bias|)} fits
     * A bits for every input, so that no partial sum can overflow (the A2Q-style L1 bound).
     */
    public static float[] guaranteedScales(float[] w, float[] bias, float[] scales, double sx, int xmax, int accBits) {
        int oc = scales.length;
        int per = w.length / oc;
        long bound = FixedPoint.maxSigned(accBits);
        float[] s = scales.clone();
        for (int c = 0; c < oc; c++) {
            for (int iter = 0; iter < 200; iter++) {
                long l1 = 0;
                for (int i = c * per; i < (c + 1) * per; i++) {
                    l1 += Math.abs((long) Math.rint(w[i] / s[c]));
                }
                long b = Math.abs((long) Math.rint(bias[c] / (sx * s[c])));
                if (l1 * xmax + b <= bound) {
                    break;
                }
                s[c] *= 1.05f;
            }
        }
        return s;
    }
}
