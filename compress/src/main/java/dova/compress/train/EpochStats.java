package dova.compress.train;

/**
 * One epoch of training.
 *
 * @param overflowRate share of layer outputs whose exact accumulator sum left the A-bit range
 *     (0 in FP32 training)
 */
public record EpochStats(String phase, int epoch, double loss, double trainAccuracy, double overflowRate, double seconds) {
}
