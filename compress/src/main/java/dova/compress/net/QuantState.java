package dova.compress.net;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The quantization state a {@link QuantNet} has learned: activation scales, per-layer weight
 * limits (the integer range that overflow-aware training narrows), activation widths, and the
 * statistics gathered on the way (calibration maxima, overflow counts). Mutable; owned by one
 * network. What the forward simulates is the network's {@link QuantNet.Mode} and
 * {@link QuantTarget}, not part of this state.
 */
public final class QuantState {
    /** Scale of every tensor produced by a conv, dense, residual or pool op, by op name. */
    public final Map<String, Double> activationScales = new LinkedHashMap<>();
    /** Largest integer magnitude of each layer's weights (127 for 8 bits); overflow-aware training lowers it. */
    public final Map<String, Integer> weightLimits = new LinkedHashMap<>();
    /**
     * Per-channel weight limits where per-channel narrowing has lowered some channels below their
     * layer's limit (absent: every channel has the layer's limit), by layer.
     */
    public final Map<String, int[]> channelLimits = new LinkedHashMap<>();
    /** Integer width of each conv / dense output (8 unless overflow-aware training narrowed it), by op name. */
    public final Map<String, Integer> activationBits = new LinkedHashMap<>();
    /** Calibration: sum of per-batch maxima and the batch count, by op name. */
    public final Map<String, double[]> observedMax = new LinkedHashMap<>();
    /** Outputs whose exact accumulator sum left the A-bit range, and outputs computed, by layer. */
    public final Map<String, long[]> overflowCounts = new LinkedHashMap<>();
    /** Intermediates of a real CPU's stage ({@link QuantTarget#pairStage}) that saturated or wrapped, by layer. */
    public final Map<String, long[]> pairSaturations = new LinkedHashMap<>();
    /** Overflowed outputs per output channel, by layer (collected while per-channel narrowing is on). */
    public final Map<String, long[]> channelOverflowCounts = new LinkedHashMap<>();
    /** Whether the quantized forward collects {@link #channelOverflowCounts} (per-channel narrowing). */
    public boolean collectChannelOverflow;
    /**
     * Whether overflow-aware training counts the P/N bound (any prefix may overflow) for every conv,
     * not only for the one that reads the image.
     */
    public boolean prefixBoundEverywhere;
    /**
     * Whether training for a profile with an intermediate stage ({@link QuantTarget#pairStage})
     * simulates it in every layer that can leave it, not only in the one that reads the image.
     */
    public boolean pairStageEverywhere;

    public void resetOverflowCounts() {
        overflowCounts.clear();
        channelOverflowCounts.clear();
        pairSaturations.clear();
    }

    /** The weight limit of channel {@code c} of {@code layer}: its own where narrowed, else the layer's. */
    public int weightLimit(String layer, int c) {
        int[] ch = channelLimits.get(layer);
        return ch != null ? ch[c] : weightLimits.get(layer);
    }

    /** Overflowed outputs / all outputs over every layer since the last reset. */
    public double overflowRate() {
        long over = 0;
        long all = 0;
        for (long[] c : overflowCounts.values()) {
            over += c[0];
            all += c[1];
        }
        return all == 0 ? 0 : (double) over / all;
    }

    /** Largest integer of an op output at its current width. */
    public int qmax(String op, boolean unsigned) {
        int bits = activationBits.getOrDefault(op, 8);
        return unsigned ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
    }

    public double overflowRate(String layer) {
        long[] c = overflowCounts.get(layer);
        return c == null || c[1] == 0 ? 0 : (double) c[0] / c[1];
    }

    /** Turns the calibration maxima into activation scales: mean per-batch max / qmax. */
    public void finishCalibration(Map<String, Integer> qmax) {
        for (Map.Entry<String, double[]> e : observedMax.entrySet()) {
            double mean = e.getValue()[0] / Math.max(1, e.getValue()[1]);
            activationScales.put(e.getKey(), Math.max(mean, 1e-6) / qmax.get(e.getKey()));
        }
        observedMax.clear();
    }
}
