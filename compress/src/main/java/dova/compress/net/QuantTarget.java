package dova.compress.net;

import dova.sim.DatapathProfile;
import dova.sim.Overflow;
import dova.sim.PairStage;
import dova.sim.ProcessorConfig;

/**
 * The processor a quantized forward pass simulates, and which of its effects training sees.
 * Immutable; {@link #of(ProcessorConfig)} is the paper's method at that processor's widths.
 *
 * @param downscalingAware simulate the M-bit multiplier {@code m / 2^s} (false: the exact real multiplier)
 * @param overflowAware simulate the A-bit accumulator, wrapping or saturating (false: an exact accumulator)
 * @param guaranteed bound each channel's integer weights in L1 so that no input can overflow A bits
 * @param pairStage a real CPU's intermediate stage before the accumulator ({@code vpmaddubsw}'s saturating
 *     int16 pair sums, {@link dova.sim.DatapathProfile#X86_AVX2}), simulated in the forward when overflow-aware;
 *     null for none
 */
public record QuantTarget(int accumulatorBits, int multiplierBits, Overflow overflow, boolean downscalingAware,
                          boolean overflowAware, boolean guaranteed, PairStage pairStage) {
    /** The paper's target: A16/M12 WRAP, downscaling- and overflow-aware. */
    public static final QuantTarget PAPER = new QuantTarget(16, 12, Overflow.WRAP, true, true, false);

    public QuantTarget {
        if (accumulatorBits < 8 || accumulatorBits > 32) {
            throw new IllegalArgumentException("accumulator bits must be in [8, 32], got " + accumulatorBits);
        }
        if (multiplierBits < 4 || multiplierBits > 32) {
            throw new IllegalArgumentException("multiplier bits must be in [4, 32], got " + multiplierBits);
        }
        if (overflow == null) {
            throw new IllegalArgumentException("overflow mode must be set");
        }
    }

    /** No intermediate stage: the paper's processor. */
    public QuantTarget(int accumulatorBits, int multiplierBits, Overflow overflow, boolean downscalingAware,
                       boolean overflowAware, boolean guaranteed) {
        this(accumulatorBits, multiplierBits, overflow, downscalingAware, overflowAware, guaranteed, null);
    }

    /**
     * The datapath of {@code profile} (its accumulator, overflow mode and intermediate stage) at this
     * target's multiplier and awareness: what training for a real CPU simulates.
     */
    public QuantTarget forProfile(DatapathProfile profile) {
        ProcessorConfig c = profile.apply(processor());
        return new QuantTarget(c.accumulatorBits(), multiplierBits, c.overflow(), downscalingAware, overflowAware,
                guaranteed, c.pairStage());
    }

    /** Downscaling- and overflow-aware at {@code p}'s accumulator, multiplier and overflow mode; not guaranteed. */
    public static QuantTarget of(ProcessorConfig p) {
        return new QuantTarget(p.accumulatorBits(), p.multiplierBits(), p.overflow(), true, true, false);
    }

    public QuantTarget withAccumulatorBits(int bits) {
        return new QuantTarget(bits, multiplierBits, overflow, downscalingAware, overflowAware, guaranteed, pairStage);
    }

    public QuantTarget withDownscalingAware(boolean v) {
        return new QuantTarget(accumulatorBits, multiplierBits, overflow, v, overflowAware, guaranteed, pairStage);
    }

    public QuantTarget withOverflowAware(boolean v) {
        return new QuantTarget(accumulatorBits, multiplierBits, overflow, downscalingAware, v, guaranteed, pairStage);
    }

    public QuantTarget withGuaranteed(boolean v) {
        return new QuantTarget(accumulatorBits, multiplierBits, overflow, downscalingAware, overflowAware, v, pairStage);
    }

    /** The processor this target simulates (16 lanes, the baseline's other parameters). */
    public ProcessorConfig processor() {
        return ProcessorConfig.baseline().withAccumulator(accumulatorBits, overflow).withMultiplierBits(multiplierBits)
                .withPairStage(pairStage);
    }
}
