package dova.calibrate.observe;

/**
 * Exponential moving average of per-batch minima and maxima (the TFLite/PyTorch
 * "moving average min/max" observer): {@code m <- m + alpha * (batchMax - m)}. The first
 * batch initialises it. Constant memory; merging averages by batch count.
 */
public final class MovingMinMax {
    private final double alpha;
    private double min;
    private double max;
    private long batches;

    /** @param alpha weight of each new batch, in (0, 1] */
    public MovingMinMax(double alpha) {
        if (!(alpha > 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1], got " + alpha);
        }
        this.alpha = alpha;
    }

    public void addBatch(double batchMin, double batchMax) {
        if (batches == 0) {
            min = batchMin;
            max = batchMax;
        } else {
            min += alpha * (batchMin - min);
            max += alpha * (batchMax - max);
        }
        batches++;
    }

    /** Batch-count-weighted average of two observers' states. */
    public void merge(MovingMinMax o) {
        if (o.batches == 0) {
            return;
        }
        if (batches == 0) {
            min = o.min;
            max = o.max;
        } else {
            double w = (double) o.batches / (batches + o.batches);
            min += w * (o.min - min);
            max += w * (o.max - max);
        }
        batches += o.batches;
    }

    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    public long batches() {
        return batches;
    }
}
