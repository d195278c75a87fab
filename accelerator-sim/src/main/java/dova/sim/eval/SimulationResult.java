package dova.sim.eval;

import dova.sim.ProcessorConfig;
import dova.sim.cost.CostReport;
import java.util.List;

/**
 * Accuracy, overflow events and cost of a model on one processor configuration over a labelled set.
 *
 * @param overflowEventsPerLayer summed over all images, indexed like {@code layerNames}
 * @param imagesPerSecond simulator throughput of this run (wall clock, all threads)
 * @param confusion {@code confusion[label][predicted]} image counts (labels beyond the model's classes left out)
 */
public record SimulationResult(String model, ProcessorConfig config, int images, int correct, List<String> layerNames,
                               long[] overflowEventsPerLayer, long imagesWithOverflow, CostReport cost,
                               double imagesPerSecond, long[][] confusion) {
    /** Accuracy on the images labelled {@code c} (NaN when there are none). */
    public double classAccuracy(int c) {
        long all = 0;
        for (long v : confusion[c]) {
            all += v;
        }
        return all == 0 ? Double.NaN : (double) confusion[c][c] / all;
    }

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
