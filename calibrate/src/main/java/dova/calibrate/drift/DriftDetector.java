package dova.calibrate.drift;

import java.time.Instant;
import java.util.Optional;

/**
 * Compares the pixel distribution of a window of frames with the reference the model was
 * calibrated on, by the population stability index over 16 buckets of 16 grey levels:
 * {@code PSI = sum (w - r) * ln(w / r)} with shares smoothed by 1e-4. The usual reading: below
 * 0.1 stable, 0.1-0.25 moderate shift, above 0.25 significant. Brightness, contrast, noise and
 * blur drift all move this histogram.
 */
public final class DriftDetector {
    static final int BUCKETS = 16;
    private final double[] reference;
    private final double referenceMean;
    private final double threshold;

    /** @param referencePixels 256-bin pixel histogram of the calibration data */
    public DriftDetector(long[] referencePixels, double threshold) {
        if (referencePixels.length != 256) {
            throw new IllegalArgumentException("reference histogram must have 256 bins, has " + referencePixels.length);
        }
        if (!(threshold > 0)) {
            throw new IllegalArgumentException("threshold must be positive, got " + threshold);
        }
        this.reference = shares(referencePixels);
        this.referenceMean = mean(referencePixels);
        this.threshold = threshold;
    }

    static double[] shares(long[] hist) {
        double[] s = new double[BUCKETS];
        long total = 0;
        for (int i = 0; i < 256; i++) {
            s[i / 16] += hist[i];
            total += hist[i];
        }
        for (int b = 0; b < BUCKETS; b++) {
            s[b] = (s[b] / Math.max(1, total)) + 1e-4;
        }
        return s;
    }

    static double mean(long[] hist) {
        double sum = 0;
        long n = 0;
        for (int i = 0; i < 256; i++) {
            sum += (double) i * hist[i];
            n += hist[i];
        }
        return n == 0 ? 0 : sum / n;
    }

    /** PSI of a window's 256-bin pixel histogram against the reference. */
    public double psi(long[] windowPixels) {
        double[] w = shares(windowPixels);
        double psi = 0;
        for (int b = 0; b < BUCKETS; b++) {
            psi += (w[b] - reference[b]) * Math.log(w[b] / reference[b]);
        }
        return psi;
    }

    public Optional<DriftEvent> check(long[] windowPixels, long windowImages) {
        double p = psi(windowPixels);
        if (p > threshold) {
            return Optional.of(new DriftEvent(Instant.now(), p, threshold, mean(windowPixels) - referenceMean, windowImages));
        }
        return Optional.empty();
    }

    public double threshold() {
        return threshold;
    }
}
