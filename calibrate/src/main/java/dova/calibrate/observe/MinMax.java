package dova.calibrate.observe;

/** Running minimum and maximum; mergeable; constant memory. Not thread-safe. */
public final class MinMax {
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private long count;

    public void add(double v) {
        if (v < min) {
            min = v;
        }
        if (v > max) {
            max = v;
        }
        count++;
    }

    /** Restores a decoded snapshot's state. */
    void restore(double min, double max, long count) {
        this.min = min;
        this.max = max;
        this.count = count;
    }

    public void merge(MinMax o) {
        min = Math.min(min, o.min);
        max = Math.max(max, o.max);
        count += o.count;
    }

    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    public long count() {
        return count;
    }

    public MinMax copy() {
        MinMax m = new MinMax();
        m.merge(this);
        return m;
    }
}
