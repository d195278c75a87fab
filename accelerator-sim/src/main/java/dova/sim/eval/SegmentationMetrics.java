package dova.sim.eval;

/**
 * Mean intersection over union of per-pixel class maps, accumulated over a whole set: a
 * {@code classes x classes} confusion of true against predicted labels; a class's IoU is
 * {@code TP / (TP + FP + FN)} over every pixel of the set, and the mean runs over the classes that
 * occur in the truth or the prediction (union above 0), background (class 0) included.
 */
public final class SegmentationMetrics {
    private final int classes;
    private final long[][] confusion;

    public SegmentationMetrics(int classes) {
        if (classes < 1 || classes > 256) {
            throw new IllegalArgumentException("classes must be in [1, 256], got " + classes);
        }
        this.classes = classes;
        this.confusion = new long[classes][classes];
    }

    /** Adds {@code n} pixels of truth and prediction (unsigned bytes) from the given offsets. */
    public void add(byte[] truth, int truthOffset, byte[] predicted, int predictedOffset, int n) {
        for (int i = 0; i < n; i++) {
            int t = truth[truthOffset + i] & 0xff;
            int p = predicted[predictedOffset + i] & 0xff;
            if (t >= classes || p >= classes) {
                throw new IllegalArgumentException("pixel " + i + ": class " + Math.max(t, p) + " outside [0, " + classes + ")");
            }
            confusion[t][p]++;
        }
    }

    /** IoU of class {@code c}; NaN when it occurs neither in the truth nor in the prediction. */
    public double iou(int c) {
        long tp = confusion[c][c];
        long fp = 0;
        long fn = 0;
        for (int k = 0; k < classes; k++) {
            if (k != c) {
                fp += confusion[k][c];
                fn += confusion[c][k];
            }
        }
        long union = tp + fp + fn;
        return union == 0 ? Double.NaN : (double) tp / union;
    }

    /** Mean of the defined per-class IoUs (NaN before any pixel). */
    public double meanIou() {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < classes; c++) {
            double v = iou(c);
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Share of pixels labelled correctly. */
    public double pixelAccuracy() {
        long right = 0;
        long all = 0;
        for (int t = 0; t < classes; t++) {
            for (int p = 0; p < classes; p++) {
                all += confusion[t][p];
                right += t == p ? confusion[t][p] : 0;
            }
        }
        return all == 0 ? Double.NaN : (double) right / all;
    }
}
