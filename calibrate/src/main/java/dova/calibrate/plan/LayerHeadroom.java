package dova.calibrate.plan;

/**
 * Accumulator headroom of one conv layer under a plan.
 *
 * @param observedMaxAbsAccumulator largest |accumulator| seen on the calibration data, in the planned model's units
 * @param headroomBits {@code log2((2^(A-1) - 1) / observedMaxAbsAccumulator)}: negative means overflow
 * @param weightCoarsening factor by which the plan widened this layer's weight scales (1 = unchanged)
 * @param overflowEvents overflow events of the planned model on the calibration data at the target configuration
 */
public record LayerHeadroom(String layer, double observedMaxAbsAccumulator, double headroomBits, double weightCoarsening,
                            long overflowEvents) {
}
