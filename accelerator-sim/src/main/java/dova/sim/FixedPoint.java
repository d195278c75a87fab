package dova.sim;

/**
 * The processor's arithmetic primitives (docs/datapath.md sections 2 and 3). Every method is
 * pure and exact on {@code long}; the hardware equivalent is named on each.
 */
public final class FixedPoint {
    /** Largest shift a multiplier may use: keeps {@code 2^s} and the rounding term inside a long. */
    public static final int MAX_SHIFT = 62;

    private FixedPoint() {
    }

    /** Smallest value of a signed {@code bits}-bit register. */
    public static long minSigned(int bits) {
        return -(1L << (bits - 1));
    }

    /** Largest value of a signed {@code bits}-bit register. */
    public static long maxSigned(int bits) {
        return (1L << (bits - 1)) - 1;
    }

    /** True when {@code v} lies in the signed {@code bits}-bit range. */
    public static boolean fitsSigned(long v, int bits) {
        return v >= minSigned(bits) && v <= maxSigned(bits);
    }

    /**
     * Two's complement wrap of {@code v} to {@code bits} bits (1..64): the value an adder of
     * that width holds after discarding carries. Sign-extends bit {@code bits-1}.
     */
    public static long wrap(long v, int bits) {
        int drop = 64 - bits;
        return (v << drop) >> drop;
    }

    /** Clamps {@code v} to the signed {@code bits}-bit range: a saturating adder's output. */
    public static long saturate(long v, int bits) {
        long lo = minSigned(bits);
        long hi = maxSigned(bits);
        return v < lo ? lo : (v > hi ? hi : v);
    }

    /**
     * {@code (v + 2^(s-1)) >> s} for {@code s > 0} (arithmetic shift, round half up), {@code v}
     * for {@code s = 0}. Computed as {@code (v >> s) + bit_{s-1}(v)}, which is the same value
     * and cannot overflow for any long {@code v}: hardware is a shifter plus an incrementer.
     *
     * @param s shift in [0, 63]
     * @throws IllegalArgumentException for a shift outside [0, 63]
     */
    public static long roundShift(long v, int s) {
        if ((s & ~63) != 0) {
            throw new IllegalArgumentException("roundShift: shift " + s + " outside [0, 63]");
        }
        if (s == 0) {
            return v;
        }
        return (v >> s) + ((v >> (s - 1)) & 1L);
    }

    /**
     * An unsigned {@code M}-bit multiplier {@code m} and a right shift {@code s} that together
     * approximate a positive real multiplier {@code R ~ m / 2^s}.
     */
    public record Multiplier(long m, int shift) {
        /** The real value {@code m / 2^s} this pair stands for. */
        public double value() {
            return Math.scalb((double) m, -shift);
        }
    }

    /**
     * Chooses {@code m, s} for a real multiplier {@code r} (docs/datapath.md section 3): the largest
     * {@code s <= MAX_SHIFT} such that {@code round(r * 2^s) <= 2^M - 1}, then
     * {@code m = round(r * 2^s)} (half away from zero). Returns {@code m = 0} for a multiplier
     * too small to represent (a dead channel; the caller reports it).
     *
     * @throws IllegalArgumentException if {@code r} is not positive and finite, or is so large
     *     that even {@code s = 0} needs more than {@code M} bits
     */
    public static Multiplier chooseMultiplier(double r, int multiplierBits) {
        if (!(r > 0) || Double.isInfinite(r)) {
            throw new IllegalArgumentException("real multiplier must be positive and finite, got " + r);
        }
        long max = (1L << multiplierBits) - 1;
        // start near the answer: r * 2^s ~ 2^M  =>  s ~ M - log2(r)
        int s = Math.min(MAX_SHIFT, Math.max(0, multiplierBits - Math.getExponent(r)));
        while (s > 0 && roundHalfAway(Math.scalb(r, s)) > max) {
            s--;
        }
        if (roundHalfAway(Math.scalb(r, s)) > max) {
            throw new IllegalArgumentException("real multiplier " + r + " needs more than " + multiplierBits
                    + " bits even with shift 0");
        }
        while (s < MAX_SHIFT && roundHalfAway(Math.scalb(r, s + 1)) <= max) {
            s++;
        }
        return new Multiplier(roundHalfAway(Math.scalb(r, s)), s);
    }

    /**
     * Two multipliers with one shared shift for a residual add (docs/datapath.md section 4): the
     * smaller of the two individual shifts keeps both {@code m} within {@code M} bits.
     *
     * @return the two multipliers; an {@code m} of 0 means the two scales are too far apart
     */
    public static SharedShift chooseSharedShift(double r1, double r2, int multiplierBits) {
        int s = Math.min(chooseMultiplier(r1, multiplierBits).shift(), chooseMultiplier(r2, multiplierBits).shift());
        return new SharedShift(new Multiplier(roundHalfAway(Math.scalb(r1, s)), s),
                new Multiplier(roundHalfAway(Math.scalb(r2, s)), s));
    }

    /** Two multipliers with one shift (a residual add's operands). */
    public record SharedShift(Multiplier first, Multiplier second) {
        public SharedShift {
            if (first.shift() != second.shift()) {
                throw new IllegalArgumentException("shared shift: " + first.shift() + " and " + second.shift());
            }
        }

        public int shift() {
            return first.shift();
        }
    }

    private static long roundHalfAway(double x) {
        return (long) Math.floor(x + 0.5); // x >= 0 here, so half-up is half-away-from-zero
    }
}
