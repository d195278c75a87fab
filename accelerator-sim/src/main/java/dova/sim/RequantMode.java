package dova.sim;

/** How accumulators are scaled down to output activations. */
public enum RequantMode {
    /** The processor's native datapath: an M-bit multiplier m and a shift s with roundShift (docs/datapath.md section 3). */
    NATIVE,
    /** TFLite/gemmlowp conformance: Q31 multiplier, SaturatingRoundingDoublingHighMul, RoundingDivideByPOT. Ignores M. */
    GEMMLOWP
}
