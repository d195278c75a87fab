package dova.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Hand-derived values of TFLite's MultiplyByQuantizedMultiplier; the derivations are in the comments. */
class GemmlowpTest {
    @Test
    void quantizeMultiplierIsFrexpToQ31() {
        assertEquals(new Gemmlowp.QuantizedMultiplier(1 << 30, 0), Gemmlowp.quantize(0.5));
        // 0.1 = 0.8 * 2^-3; round(0.8 * 2^31) = round(1717986918.4) = 1717986918
        assertEquals(new Gemmlowp.QuantizedMultiplier(1717986918, -3), Gemmlowp.quantize(0.1));
        // 3 = 0.75 * 2^2
        assertEquals(new Gemmlowp.QuantizedMultiplier(1610612736, 2), Gemmlowp.quantize(3.0));
        // a significand that rounds up to 2^31 is halved and the exponent bumped
        assertEquals(new Gemmlowp.QuantizedMultiplier(1 << 30, 1), Gemmlowp.quantize(Math.nextDown(1.0)));
    }

    @Test
    void saturatingRoundingDoublingHighMul() {
        // (100 * 2^30 + 2^30) / 2^31 = 50.5 -> truncated to 50
        assertEquals(50, Gemmlowp.saturatingRoundingDoublingHighMul(100, 1 << 30));
        // (101 * 2^30 + 2^30) / 2^31 = 51
        assertEquals(51, Gemmlowp.saturatingRoundingDoublingHighMul(101, 1 << 30));
        // (-101 * 2^30 + 1 - 2^30) / 2^31 = -50.9999... -> truncated toward zero: -50
        assertEquals(-50, Gemmlowp.saturatingRoundingDoublingHighMul(-101, 1 << 30));
        assertEquals(Integer.MAX_VALUE, Gemmlowp.saturatingRoundingDoublingHighMul(Integer.MIN_VALUE, Integer.MIN_VALUE));
    }

    @Test
    void roundingDivideByPowerOfTwoRoundsHalfAwayFromZero() {
        assertEquals(3, Gemmlowp.roundingDivideByPOT(5, 1));   // 2.5 -> 3
        assertEquals(-3, Gemmlowp.roundingDivideByPOT(-5, 1)); // -2.5 -> -3
        assertEquals(2, Gemmlowp.roundingDivideByPOT(7, 2));   // 1.75 -> 2
        assertEquals(-1, Gemmlowp.roundingDivideByPOT(-5, 2)); // -1.25 -> -1
        assertEquals(7, Gemmlowp.roundingDivideByPOT(7, 0));
    }

    @Test
    void multiplyByQuantizedMultiplier() {
        Gemmlowp.QuantizedMultiplier tenth = Gemmlowp.quantize(0.1);
        // SRDHM(1000, 1717986918) = 800 (800.49...), then 800 / 2^3 = 100
        assertEquals(100, Gemmlowp.multiplyByQuantizedMultiplier(1000, tenth.multiplier(), tenth.shift()));
        // SRDHM(1004, .) = 803, 803 / 8 = 100.375 -> 100
        assertEquals(100, Gemmlowp.multiplyByQuantizedMultiplier(1004, tenth.multiplier(), tenth.shift()));
        Gemmlowp.QuantizedMultiplier three = Gemmlowp.quantize(3.0);
        // left shift 2: SRDHM(20, 0.75 * 2^31) = (20 * 1610612736 + 2^30) / 2^31 = 15.5 -> 15
        assertEquals(15, Gemmlowp.multiplyByQuantizedMultiplier(5, three.multiplier(), three.shift()));
        Gemmlowp.QuantizedMultiplier threeQuarters = Gemmlowp.quantize(0.75);
        // (10 * 0.75 * 2^31 + 2^30) / 2^31 = 8
        assertEquals(8, Gemmlowp.multiplyByQuantizedMultiplier(10, threeQuarters.multiplier(), threeQuarters.shift()));
    }
}
