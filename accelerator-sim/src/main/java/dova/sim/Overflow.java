package dova.sim;

/** What an A-bit accumulator does when a group update leaves its range (docs/datapath.md section 2). */
public enum Overflow {
    /** Two's complement modulo 2^A: the final value is wrap_A(exact sum), whatever the order. */
    WRAP,
    /** Clamp to [-2^(A-1), 2^(A-1)-1] after every group update: the canonical order defines the result. */
    SATURATE;

    /** Parses "wrap" / "saturate", case-insensitively; the error names the valid values. */
    public static Overflow parse(String s) {
        for (Overflow o : values()) {
            if (o.name().equalsIgnoreCase(s)) {
                return o;
            }
        }
        throw new IllegalArgumentException("unknown overflow mode '" + s + "'; expected wrap or saturate");
    }
}
