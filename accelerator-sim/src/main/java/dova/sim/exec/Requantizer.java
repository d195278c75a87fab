package dova.sim.exec;

import dova.sim.FixedPoint;
import dova.sim.Gemmlowp;

/**
 * Per-channel requantization of an accumulator value, before the clamp. Two implementations:
 * the processor's native M-bit multiplier and shift, and TFLite/gemmlowp conformance.
 */
abstract class Requantizer {
    /** The scaled value of accumulator {@code acc} (an A-bit value, A <= 32) for output channel {@code channel}. */
    abstract long apply(long acc, int channel);

    /**
     * Native: {@code roundShift(acc * m[c], s[c])}. With A <= 32 and M <= 32 the product lies in
     * (-2^63, 2^63): |acc| <= 2^31 and m <= 2^32 - 1, so no pre-shift is ever needed.
     */
    static final class Native extends Requantizer {
        private final long[] m;
        private final int[] s;

        Native(long[] m, int[] s) {
            this.m = m;
            this.s = s;
        }

        @Override
        long apply(long acc, int channel) {
            return FixedPoint.roundShift(acc * m[channel], s[channel]);
        }
    }

    /** gemmlowp: {@code MultiplyByQuantizedMultiplier(acc, qm[c], shift[c])} on 32-bit values. */
    static final class Q31 extends Requantizer {
        private final int[] multiplier;
        private final int[] shift;

        Q31(double[] real) {
            multiplier = new int[real.length];
            shift = new int[real.length];
            for (int c = 0; c < real.length; c++) {
                Gemmlowp.QuantizedMultiplier q = Gemmlowp.quantize(real[c]);
                multiplier[c] = q.multiplier();
                shift[c] = q.shift();
            }
        }

        @Override
        long apply(long acc, int channel) {
            return Gemmlowp.multiplyByQuantizedMultiplier((int) acc, multiplier[channel], shift[channel]);
        }
    }
}
