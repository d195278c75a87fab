package dova.sim;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Named datapaths of real hardware, each the instruction sequence an int8 convolution kernel runs
 * there, as a {@link ProcessorConfig} transformation (weights and activations stay 8-bit, the
 * requantization is the configuration's):
 * <ul>
 *   <li>{@link #PROCESSOR}: the paper's processor as configured (A-bit accumulator, L-lane exact adder tree);</li>
 *   <li>{@link #X86_AVX2}: {@code vpmaddubsw} (u8 x s8, two adjacent products summed into a
 *       saturating int16), {@code vpmaddwd} by ones (adjacent int16 pairs, exact into int32) and
 *       {@code vpaddd} (int32, wrapping): {@code PairStage(2, 16, SATURATE)} then A32 WRAP. The
 *       pairs are consecutive inputs in the canonical (filter row, filter column, channel) order;</li>
 *   <li>{@link #X86_VNNI}: {@code vpdpbusd} (four u8 x s8 products, exact, added into int32,
 *       wrapping): A32 WRAP with no intermediate narrowing;</li>
 *   <li>{@link #ARM_SDOT}: {@code sdot}/{@code udot} (four 8-bit products exact into int32): the same.</li>
 * </ul>
 */
public enum DatapathProfile {
    PROCESSOR("processor"),
    X86_AVX2("x86-avx2"),
    X86_VNNI("x86-vnni"),
    ARM_SDOT("arm-sdot");

    private final String id;

    DatapathProfile(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** The configuration that runs as this profile does. */
    public ProcessorConfig apply(ProcessorConfig c) {
        return switch (this) {
            case PROCESSOR -> c;
            case X86_AVX2 -> c.withAccumulator(32, Overflow.WRAP).withPairStage(new PairStage(2, 16, Overflow.SATURATE));
            case X86_VNNI, ARM_SDOT -> c.withAccumulator(32, Overflow.WRAP).withPairStage(null);
        };
    }

    public static DatapathProfile parse(String s) {
        for (DatapathProfile p : values()) {
            if (p.id.equalsIgnoreCase(s) || p.name().equalsIgnoreCase(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown datapath profile '" + s + "'; known: "
                + Arrays.stream(values()).map(DatapathProfile::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id.toLowerCase(Locale.ROOT);
    }
}
