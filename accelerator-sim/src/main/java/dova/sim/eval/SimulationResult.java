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
 * @param predictions the predicted class of every image, in order
 */
public record SimulationResult(String model, ProcessorConfig config, int images, int correct, List<String> layerNames,
                               long[] overflowEventsPerLayer, long imagesWithOverflow, CostReport cost,
                               double imagesPerSecond, long[][] confusion, int[] predictions) {
    /** How {@code this}'s predictions differ from {@code other}'s on the same images. */
    public record Changed(int changed, int rightOnlyInOther, int rightOnlyHere, int[] firstImages) {
        /** How many changed images {@link #firstImages} lists at most. */
        public static final int EXAMPLES = 20;
    }

    /**
     * The images whose prediction differs from {@code other}'s (the same images, for example the
     * same model at A32), and of those how many only {@code other} or only this run got right.
     */
    public Changed changedAgainst(SimulationResult other, byte[] labels) {
        if (other.images != images) {
            throw new IllegalArgumentException("cannot compare runs over " + images + " and " + other.images + " images");
        }
        int changed = 0;
        int otherRight = 0;
        int hereRight = 0;
        int[] first = new int[Math.min(Changed.EXAMPLES, images)];
        for (int i = 0; i < images; i++) {
            if (predictions[i] != other.predictions[i]) {
                if (changed < first.length) {
                    first[changed] = i;
                }
                changed++;
                int label = labels[i] & 0xff;
                otherRight += other.predictions[i] == label ? 1 : 0;
                hereRight += predictions[i] == label ? 1 : 0;
            }
        }
        return new Changed(changed, otherRight, hereRight, java.util.Arrays.copyOf(first, Math.min(changed, first.length)));
    }

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
