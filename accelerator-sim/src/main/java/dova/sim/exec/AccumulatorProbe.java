package dova.sim.exec;

import dova.sim.model.Conv2d;

/**
 * Sees the final A-bit accumulator values of one output channel of a conv layer, before
 * requantization, once per image. Calibration uses it to learn real pre-clamp ranges
 * ({@code acc * Sx * Sw[c]}) and accumulator headroom. Every executor calls it (the native one from
 * accumulators captured during its run).
 */
@FunctionalInterface
public interface AccumulatorProbe {
    /**
     * @param acc accumulators of {@code channel}, one per output pixel, in {@code acc[0, count)};
     *     valid only during the call
     */
    void accumulators(int layerIndex, Conv2d layer, int channel, int[] acc, int count);
}
