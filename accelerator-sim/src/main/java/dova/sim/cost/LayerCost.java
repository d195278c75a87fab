package dova.sim.cost;

/**
 * Cost of one layer for one inference.
 *
 * @param macs multiply-accumulates (conv / fully connected); 0 for other layers
 * @param cycles cycles on the {@code rows x lanes} PE array
 * @param utilisation {@code macs / (cycles * rows * lanes)}; 0 for layers without MACs
 * @param bufferReadBytes on-chip buffer reads (weights and activations)
 * @param bufferWriteBytes on-chip buffer writes (output activations)
 * @param computeEnergyPicojoules multiplies and adds of the products (MAC array and adder trees)
 * @param accumulateEnergyPicojoules A-bit accumulator updates and M-bit requantization
 * @param bufferEnergyPicojoules SRAM traffic
 */
public record LayerCost(String name, String kind, long macs, long cycles, double utilisation, long bufferReadBytes,
                        long bufferWriteBytes, double computeEnergyPicojoules, double accumulateEnergyPicojoules,
                        double bufferEnergyPicojoules) {
    public double energyPicojoules() {
        return computeEnergyPicojoules + accumulateEnergyPicojoules + bufferEnergyPicojoules;
    }
}
