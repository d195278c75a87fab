package dova.calibrate.drift;

import java.time.Instant;

/**
 * Evidence that the input distribution moved away from the one the model was calibrated on.
 *
 * @param psi population stability index of the pixel histogram (16 buckets) against the reference
 * @param meanShift mean pixel value of the window minus that of the reference
 * @param windowImages images in the window that triggered the event
 */
public record DriftEvent(Instant at, double psi, double threshold, double meanShift, long windowImages) {
    public String describe() {
        return String.format(java.util.Locale.ROOT, "PSI %.3f > %.3f over %d images (mean pixel shift %+.1f)", psi,
                threshold, windowImages, meanShift);
    }
}
