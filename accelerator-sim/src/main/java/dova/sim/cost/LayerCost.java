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
public record LayerCost(String name, Kind kind, long macs, long cycles, double utilisation, long bufferReadBytes,
                        long bufferWriteBytes, double computeEnergyPicojoules, double accumulateEnergyPicojoules,
                        double bufferEnergyPicojoules) {
    /** What the processor does for the layer, as reports name it. */
    public enum Kind {
        CONV("conv"), DEPTHWISE_CONV("dwconv"), ADD("add"), MAX_POOL("maxpool"), AVG_POOL("avgpool"),
        GLOBAL_AVG_POOL("gap"), FLATTEN("flatten");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The short name in reports and JSON. */
        public String label() {
            return label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    public double energyPicojoules() {
        return computeEnergyPicojoules + accumulateEnergyPicojoules + bufferEnergyPicojoules;
    }
}
