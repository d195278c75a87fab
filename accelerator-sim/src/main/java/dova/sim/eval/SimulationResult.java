package dova.sim.eval;

import dova.sim.ProcessorConfig;
import dova.sim.cost.CostReport;
import java.util.List;

/**
 * Accuracy, overflow events and cost of a model on one processor configuration over a labelled set.
 *
 * @param overflowEventsPerLayer summed over all images, indexed like {@code layerNames}
 * @param imagesPerSecond simulator throughput of this run (wall clock, all threads)
 */
public record SimulationResult(String model, ProcessorConfig config, int images, int correct, List<String> layerNames,
                               long[] overflowEventsPerLayer, long imagesWithOverflow, CostReport cost,
                               double imagesPerSecond) {
    public double accuracy() {
        return images == 0 ? 0 : (double) correct / images;
    }

    public long overflowEvents() {
        long t = 0;
        for (long e : overflowEventsPerLayer) {
            t += e;
        }
        return t;
    }
}
