package dova.calibrate.observe;

import java.util.Arrays;

/**
 * A histogram of magnitudes {@code |v|} on floating-point bins: each octave
 * {@code [2^e, 2^(e+1))} from 2^MIN_EXP to 2^MAX_EXP is split into {@code SUB} equal bins by
 * the top 4 bits of the mantissa (no logarithm: the bin is read off the double's bits), plus a
 * zero bin and an overflow bin. Memory is fixed ({@value #BINS} counters) whatever the number
 * of values; a bin is at most 1/16 (6.25%) of its lower edge wide, which bounds the error of a
 * percentile. Mergeable by adding counts. Not thread-safe.
 */
public final class LogHistogram {
    static final int SUB = 16;
    static final int MIN_EXP = -40;
    static final int MAX_EXP = 40;
    /** zero bin + octaves * SUB + overflow bin. */
    public static final int BINS = 2 + (MAX_EXP - MIN_EXP) * SUB;

    private final long[] counts = new long[BINS];
    private long total;

    private static final double SMALLEST = Math.scalb(1.0, MIN_EXP);

    static int bin(double magnitude) {
        if (!(magnitude >= SMALLEST)) {
            return 0; // zero, tiny or NaN
        }
        int e = Math.getExponent(magnitude);
        if (e >= MAX_EXP) {
            return BINS - 1;
        }
        int sub = (int) ((Double.doubleToRawLongBits(magnitude) >>> 48) & 0xf); // top 4 mantissa bits
        return 1 + (e - MIN_EXP) * SUB + sub;
    }

    /** Upper edge of bin {@code b}. */
    static double upper(int b) {
        if (b == 0) {
            return Math.scalb(1.0, MIN_EXP);
        }
        if (b == BINS - 1) {
            return Double.POSITIVE_INFINITY;
        }
        int e = MIN_EXP + (b - 1) / SUB;
        int sub = (b - 1) % SUB;
        return Math.scalb(1.0 + (sub + 1) / (double) SUB, e);
    }

    public void add(double v) {
        counts[bin(Math.abs(v))]++;
        total++;
    }

    /** Adds {@code n} copies of a value (for integer tensors, whose values repeat). */
    public void add(double v, long n) {
        counts[bin(Math.abs(v))] += n;
        total += n;
    }

    /** Adds {@code n} values to bin {@code b} (a decoded snapshot); {@code 0 <= b < BINS}, {@code n >= 0}. */
    void addToBin(int b, long n) {
        counts[b] += n;
        total += n;
    }

    public void merge(LogHistogram o) {
        for (int i = 0; i < BINS; i++) {
            counts[i] += o.counts[i];
        }
        total += o.total;
    }

    public long count() {
        return total;
    }

    /** The magnitude below which a share {@code p} (0..1) of the values lie: the upper edge of that bin. */
    public double percentile(double p) {
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(p * total);
        long seen = 0;
        for (int i = 0; i < BINS; i++) {
            seen += counts[i];
            if (seen >= rank && counts[i] > 0) {
                return upper(i);
            }
        }
        return upper(BINS - 1);
    }

    /** Share of values whose magnitude exceeds {@code limit}. */
    public double shareAbove(double limit) {
        if (total == 0) {
            return 0;
        }
        int b = bin(limit);
        long above = 0;
        for (int i = b + 1; i < BINS; i++) {
            above += counts[i];
        }
        return (double) above / total;
    }

    /** Counts per bin (a copy). */
    public long[] counts() {
        return counts.clone();
    }

    /** Bytes held by this observer: constant. */
    public static long memoryBytes() {
        return 8L * BINS + 16;
    }

    public LogHistogram copy() {
        LogHistogram h = new LogHistogram();
        h.merge(this);
        return h;
    }

    @Override
    public String toString() {
        return "LogHistogram{n=" + total + ", p50=" + percentile(0.5) + ", p99.99=" + percentile(0.9999) + ", nonzero bins="
                + Arrays.stream(counts).filter(c -> c > 0).count() + "}";
    }
}
