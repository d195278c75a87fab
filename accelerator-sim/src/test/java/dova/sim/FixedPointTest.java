package dova.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FixedPointTest {
    @Test
    void roundShiftRoundsHalfUp() {
        assertEquals(3, FixedPoint.roundShift(5, 1));    // 2.5 -> 3
        assertEquals(-2, FixedPoint.roundShift(-5, 1));  // -2.5 -> -2 (half up, not away)
        assertEquals(2, FixedPoint.roundShift(7, 2));    // 1.75
        assertEquals(-2, FixedPoint.roundShift(-7, 2));  // -1.75
        assertEquals(-1, FixedPoint.roundShift(-6, 2));  // -1.5 -> -1
        assertEquals(9, FixedPoint.roundShift(9, 0));
    }

    @Test
    void roundShiftCannotOverflowAtTheEdges() {
        assertEquals(1L << 62, FixedPoint.roundShift(Long.MAX_VALUE, 1));
        assertEquals(-(1L << 62), FixedPoint.roundShift(Long.MIN_VALUE, 1));
        assertEquals(1, FixedPoint.roundShift(Long.MAX_VALUE, 63));
        assertEquals(-1, FixedPoint.roundShift(Long.MIN_VALUE, 63));
    }

    @Test
    void roundShiftMatchesBigIntegerOracle() {
        Random r = new Random(1);
        BigInteger two = BigInteger.TWO;
        for (int i = 0; i < 100_000; i++) {
            long v = r.nextLong() >> r.nextInt(64);
            int s = 1 + r.nextInt(62);
            // floor((v + 2^(s-1)) / 2^s) computed without overflow
            BigInteger expect = BigInteger.valueOf(v).add(two.pow(s - 1)).shiftRight(s);
            assertEquals(expect.longValueExact(), FixedPoint.roundShift(v, s), v + " >> " + s);
        }
    }

    @Test
    void wrapAndSaturateAroundPowersOfTwo() {
        assertEquals(-32768, FixedPoint.wrap(32768, 16));
        assertEquals(32767, FixedPoint.wrap(-32769, 16));
        assertEquals(0, FixedPoint.wrap(65536, 16));
        assertEquals(32767, FixedPoint.wrap(32767, 16));
        assertEquals(Integer.MIN_VALUE, FixedPoint.wrap(1L << 31, 32));
        assertEquals(32767, FixedPoint.saturate(40000, 16));
        assertEquals(-32768, FixedPoint.saturate(-40000, 16));
        assertEquals(-5, FixedPoint.saturate(-5, 16));
        assertTrue(FixedPoint.fitsSigned(-128, 8) && !FixedPoint.fitsSigned(128, 8));
    }

    @Test
    void chooseMultiplierTakesTheLargestShift() {
        // 0.1 * 2^15 = 3276.8 -> 3277 fits 12 bits; 0.1 * 2^16 = 6553.6 does not
        assertEquals(new FixedPoint.Multiplier(3277, 15), FixedPoint.chooseMultiplier(0.1, 12));
        assertEquals(new FixedPoint.Multiplier(2048, 11), FixedPoint.chooseMultiplier(1.0, 12));
        assertEquals(new FixedPoint.Multiplier(4095, 0), FixedPoint.chooseMultiplier(4095, 12));
        // 4095.5 / 2^12 at s = 12 rounds to 4096 > 4095, so s drops to 11: 2047.75 -> 2048
        assertEquals(new FixedPoint.Multiplier(2048, 11), FixedPoint.chooseMultiplier(4095.5 / 4096, 12));
        assertThrows(IllegalArgumentException.class, () -> FixedPoint.chooseMultiplier(4096, 12));
        assertThrows(IllegalArgumentException.class, () -> FixedPoint.chooseMultiplier(0, 12));
        assertThrows(IllegalArgumentException.class, () -> FixedPoint.chooseMultiplier(Double.NaN, 12));
    }

    @Test
    void multiplierRelativeErrorIsBoundedByTwoToMinusM() {
        Random r = new Random(2);
        for (int bits : new int[] {4, 8, 12, 16, 32}) {
            for (int i = 0; i < 10_000; i++) {
                double real = Math.scalb(0.5 + r.nextDouble(), -r.nextInt(30));
                FixedPoint.Multiplier q = FixedPoint.chooseMultiplier(real, bits);
                assertTrue(q.m() >= 1L << (bits - 1) && q.m() <= (1L << bits) - 1, "normalised m: " + q);
                assertTrue(Math.abs(q.value() - real) / real <= Math.scalb(1.0, -bits), real + " -> " + q);
            }
        }
    }
}
