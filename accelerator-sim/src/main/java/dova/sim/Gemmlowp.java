package dova.sim;

/**
 * TFLite / gemmlowp requantization (conformance mode, not the processor's native one):
 * a Q31 multiplier applied with {@code SaturatingRoundingDoublingHighMul} followed by
 * {@code RoundingDivideByPOT}, exactly as {@code MultiplyByQuantizedMultiplier} in
 * tensorflow/lite/kernels/internal/common.h. Used to compare results with the wider ecosystem.
 */
public final class Gemmlowp {
    private Gemmlowp() {
    }

    /** A Q31 multiplier in [2^30, 2^31-1] (or 0) and a power-of-two exponent (positive: left shift). */
    public record QuantizedMultiplier(int multiplier, int shift) {
    }

    /** TFLite's {@code QuantizeMultiplier}: frexp, round the significand to Q31, fix up 1.0. */
    public static QuantizedMultiplier quantize(double r) {
        if (r == 0) {
            return new QuantizedMultiplier(0, 0);
        }
        int exp = Math.getExponent(r) + 1;           // frexp: r = q * 2^exp, q in [0.5, 1)
        double q = Math.scalb(r, -exp);
        long qFixed = Math.round(q * (1L << 31));    // std::round: half away from zero (q > 0)
        if (qFixed == (1L << 31)) {
            qFixed /= 2;
            exp++;
        }
        if (exp < -31) {                             // as TFLite: too small, flush to zero
            return new QuantizedMultiplier(0, 0);
        }
        return new QuantizedMultiplier((int) qFixed, exp);
    }

    /** gemmlowp {@code SaturatingRoundingDoublingHighMul}: round(a*b / 2^31), saturating the one overflow case. */
    public static int saturatingRoundingDoublingHighMul(int a, int b) {
        if (a == b && a == Integer.MIN_VALUE) {
            return Integer.MAX_VALUE;
        }
        long ab = (long) a * b;
        long nudge = ab >= 0 ? (1L << 30) : (1 - (1L << 30));
        return (int) ((ab + nudge) / (1L << 31));     // C++ integer division truncates toward zero, as Java's
    }

    /** gemmlowp {@code RoundingDivideByPOT}: divide by 2^exponent, rounding half away from zero. */
    public static int roundingDivideByPOT(int x, int exponent) {
        int mask = (int) ((1L << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /** TFLite {@code MultiplyByQuantizedMultiplier(x, multiplier, shift)}. */
    public static int multiplyByQuantizedMultiplier(int x, int multiplier, int shift) {
        int leftShift = shift > 0 ? shift : 0;
        int rightShift = shift > 0 ? 0 : -shift;
        return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x * (1 << leftShift), multiplier), rightShift);
    }
}
