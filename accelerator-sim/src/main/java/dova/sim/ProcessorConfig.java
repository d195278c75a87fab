package dova.sim;

import dova.sim.cost.CostTable;

/**
 * The processor's parameters: an immutable value. The compact constructor rejects every
 * value outside its bound with a message naming the parameter and the bound.
 *
 * @param weightBits signed weight width, 2..8 (narrow range, so 8 bits hold [-127, 127])
 * @param activationBits activation width, 2..8
 * @param accumulatorBits A, the accumulator width, 8..32 (32 is the conventional baseline, 16 the paper's target)
 * @param overflow what the accumulator does on overflow
 * @param multiplierBits M, the requantization multiplier width, 4..32 (32 baseline, 12 the paper's target)
 * @param requantMode native M-bit requantization, or gemmlowp conformance
 * @param lanes L, input-channel lanes feeding one exact adder tree, 1..256
 * @param rows PE rows (output channels computed in parallel), 1..256
 * @param bufferBytes on-chip activation/weight buffer, at least 1 KiB (reported; the cost model assumes a layer's working set streams through it)
 * @param costTable per-operation energy and area figures
 * @param pairStage an intermediate stage before the accumulator (a real CPU's {@code vpmaddubsw}), or null for none
 */
public record ProcessorConfig(int weightBits, int activationBits, int accumulatorBits, Overflow overflow,
                              int multiplierBits, RequantMode requantMode, int lanes, int rows, long bufferBytes,
                              CostTable costTable, PairStage pairStage) {
    /** A configuration without an intermediate stage (the paper's processor). */
    public ProcessorConfig(int weightBits, int activationBits, int accumulatorBits, Overflow overflow, int multiplierBits,
                           RequantMode requantMode, int lanes, int rows, long bufferBytes, CostTable costTable) {
        this(weightBits, activationBits, accumulatorBits, overflow, multiplierBits, requantMode, lanes, rows, bufferBytes,
                costTable, null);
    }

    public ProcessorConfig {
        check("weightBits", weightBits, 2, 8);
        check("activationBits", activationBits, 2, 8);
        check("accumulatorBits", accumulatorBits, 8, 32);
        check("multiplierBits", multiplierBits, 4, 32);
        check("lanes", lanes, 1, 256);
        check("rows", rows, 1, 256);
        if (bufferBytes < 1024) {
            throw new IllegalArgumentException("bufferBytes must be >= 1024, got " + bufferBytes);
        }
        if (overflow == null || requantMode == null || costTable == null) {
            throw new IllegalArgumentException("overflow, requantMode and costTable are required");
        }
    }

    private static void check(String name, int v, int lo, int hi) {
        if (v < lo || v > hi) {
            throw new IllegalArgumentException(name + " must be in [" + lo + ", " + hi + "], got " + v);
        }
    }

    /** 8-bit weights and activations, A32 WRAP, M32, 16 lanes x 16 rows, 256 KiB buffer, Horowitz 45 nm table. */
    public static ProcessorConfig baseline() {
        return new ProcessorConfig(8, 8, 32, Overflow.WRAP, 32, RequantMode.NATIVE, 16, 16, 256 * 1024,
                CostTable.horowitz45nm());
    }

    /** The paper's target: A16 and M12, otherwise the baseline; {@code overflow} as given. */
    public static ProcessorConfig paperTarget(Overflow overflow) {
        return baseline().withAccumulator(16, overflow).withMultiplierBits(12);
    }

    public ProcessorConfig withAccumulator(int bits, Overflow mode) {
        return new ProcessorConfig(weightBits, activationBits, bits, mode, multiplierBits, requantMode, lanes, rows,
                bufferBytes, costTable, pairStage);
    }

    public ProcessorConfig withMultiplierBits(int bits) {
        return new ProcessorConfig(weightBits, activationBits, accumulatorBits, overflow, bits, requantMode, lanes, rows,
                bufferBytes, costTable, pairStage);
    }

    public ProcessorConfig withRequantMode(RequantMode mode) {
        return new ProcessorConfig(weightBits, activationBits, accumulatorBits, overflow, multiplierBits, mode, lanes, rows,
                bufferBytes, costTable, pairStage);
    }

    public ProcessorConfig withArray(int lanes, int rows) {
        return new ProcessorConfig(weightBits, activationBits, accumulatorBits, overflow, multiplierBits, requantMode, lanes,
                rows, bufferBytes, costTable, pairStage);
    }

    public ProcessorConfig withCostTable(CostTable table) {
        return new ProcessorConfig(weightBits, activationBits, accumulatorBits, overflow, multiplierBits, requantMode, lanes,
                rows, bufferBytes, table, pairStage);
    }

    /** The same with {@code stage} before the accumulator (null: none). */
    public ProcessorConfig withPairStage(PairStage stage) {
        return new ProcessorConfig(weightBits, activationBits, accumulatorBits, overflow, multiplierBits, requantMode, lanes,
                rows, bufferBytes, costTable, stage);
    }

    /** Short label such as {@code A16/M12 saturate}. */
    public String label() {
        return "A" + accumulatorBits + "/M" + (requantMode == RequantMode.GEMMLOWP ? "q31" : String.valueOf(multiplierBits))
                + " " + overflow.name().toLowerCase(java.util.Locale.ROOT)
                + (pairStage == null ? "" : ", " + pairStage.products() + " products per " + pairStage.bits() + "-bit "
                        + pairStage.overflow().name().toLowerCase(java.util.Locale.ROOT));
    }
}
