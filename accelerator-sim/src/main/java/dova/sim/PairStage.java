package dova.sim;

/**
 * An intermediate stage of the datapath before the A-bit accumulation: consecutive products, in
 * the canonical order of a convolution's inputs (filter row, filter column, input channel,
 * flattened over the whole filter: a kernel reading NHWC im2col rows pairs them so), are summed
 * {@code products} at a time into a {@code bits}-bit value with its own overflow mode; each such
 * value is then one update of the accumulator. x86's {@code vpmaddubsw} is
 * {@code PairStage(2, 16, SATURATE)}: u8 x s8 products of two adjacent bytes summed into a
 * saturating int16 lane.
 */
public record PairStage(int products, int bits, Overflow overflow) {
    public PairStage {
        if (products < 1 || products > 64) {
            throw new IllegalArgumentException("pair stage: products per intermediate must be in [1, 64], got " + products);
        }
        if (bits < 2 || bits > 32) {
            throw new IllegalArgumentException("pair stage: bits must be in [2, 32], got " + bits);
        }
        if (overflow == null) {
            throw new IllegalArgumentException("pair stage: an overflow mode is required");
        }
    }

    public long min() {
        return -(1L << (bits - 1));
    }

    public long max() {
        return (1L << (bits - 1)) - 1;
    }

    /** The intermediate value of an exact sum {@code v}: itself when it fits, else saturated or wrapped. */
    public long stage(long v) {
        if (v >= min() && v <= max()) {
            return v;
        }
        return overflow == Overflow.SATURATE ? (v < min() ? min() : max()) : FixedPoint.wrap(v, bits);
    }

    public boolean fits(long v) {
        return v >= min() && v <= max();
    }

    /**
     * The dot product of unsigned bytes {@code a} and signed bytes {@code b} as the stage computes it,
     * the intermediates summed exactly into a 64-bit total (a 32-bit accumulator that never
     * overflows here): what {@code vpmaddubsw} then {@code vpmaddwd} by ones and {@code vpaddd} give.
     */
    public long dot(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("dot: " + a.length + " and " + b.length + " elements");
        }
        long total = 0;
        long part = 0;
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            part += (long) (a[i] & 0xff) * b[i];
            if (++n == products) {
                total += stage(part);
                part = 0;
                n = 0;
            }
        }
        return n == 0 ? total : total + stage(part);
    }
}
