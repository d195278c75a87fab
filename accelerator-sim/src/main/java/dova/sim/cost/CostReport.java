package dova.sim.cost;

import java.util.List;

/**
 * Cost of one inference of a model on one processor configuration, per layer and in total,
 * plus the datapath area. Names the cost table that produced it.
 *
 * @param macArrayAreaSquareMicrometres rows x lanes multipliers and the exact adder trees
 * @param accumulatorAreaSquareMicrometres rows A-bit accumulator adders, rows A x M requantization
 *     multipliers and their (A+M)-bit rounding adders: the part the paper shrinks
 */
public record CostReport(String configLabel, String costTable, List<LayerCost> layers,
                         double macArrayAreaSquareMicrometres, double accumulatorAreaSquareMicrometres) {
    public CostReport {
        layers = List.copyOf(layers);
    }

    public long macs() {
        return layers.stream().mapToLong(LayerCost::macs).sum();
    }

    public long cycles() {
        return layers.stream().mapToLong(LayerCost::cycles).sum();
    }

    public double energyPicojoules() {
        return layers.stream().mapToDouble(LayerCost::energyPicojoules).sum();
    }

    public double accumulateEnergyPicojoules() {
        return layers.stream().mapToDouble(LayerCost::accumulateEnergyPicojoules).sum();
    }

    public long bufferBytes() {
        return layers.stream().mapToLong(l -> l.bufferReadBytes() + l.bufferWriteBytes()).sum();
    }

    public double areaSquareMicrometres() {
        return macArrayAreaSquareMicrometres + accumulatorAreaSquareMicrometres;
    }

    /** MAC-weighted PE utilisation over the conv layers. */
    public double utilisation(int rows, int lanes) {
        long cycles = layers.stream().filter(l -> l.macs() > 0).mapToLong(LayerCost::cycles).sum();
        return cycles == 0 ? 0 : (double) macs() / ((double) cycles * rows * lanes);
    }
}
