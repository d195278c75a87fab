package dova.calibrate;

import akka.NotUsed;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import dova.calibrate.drift.DriftDetector;
import dova.calibrate.drift.DriftEvent;
import dova.calibrate.observe.RangeProfile;
import dova.sim.model.IntegerModel;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Range observers and drift detection as Akka Streams stages over images (raw CHW pixel arrays).
 * The service's calibration branch is {@link #windowsOf} then {@link #driftChecks}: windows of
 * the serving model's ranges, each compared with that model's first window (or with a reference
 * established elsewhere: the fleet's, for a replica that joins late).
 */
public final class CalibrationStages {
    private CalibrationStages() {
    }

    /** The ranges of one window of images, observed through {@code model} (the model serving while they arrived). */
    public record Window(IntegerModel model, RangeProfile profile) {
    }

    /**
     * One window's drift check against the reference of its model (the first window observed
     * through that model): {@code reference} is true for that first window, {@code psi} the
     * population stability index of the pixel distribution (0 for the reference), and
     * {@code event} present when it drifted.
     */
    public record DriftCheck(Window window, boolean reference, double psi, Optional<DriftEvent> event) {
    }

    /**
     * Tumbling windows of {@code window} images through whichever model {@code current} supplies:
     * when the model changes (a swap), the open window is dropped and a new one starts on the new
     * model, so that no window mixes two models' ranges. Images whose size is not the model's
     * input are skipped. Bounded memory: one collector.
     */
    public static Flow<byte[], Window, NotUsed> windowsOf(java.util.function.Supplier<IntegerModel> current, int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        return Flow.<byte[]>create().statefulMapConcat(() -> {
            IntegerModel[] model = {null};
            RangeProfile.Collector[] collector = {null};
            int[] count = {0};
            return px -> {
                IntegerModel m = current.get();
                if (m != model[0]) {
                    model[0] = m;
                    collector[0] = new RangeProfile.Collector(m);
                    count[0] = 0;
                }
                if (px.length != m.inputSpec().size()) {
                    return List.of();
                }
                collector[0].add(px, 0);
                if (++count[0] < window) {
                    return List.of();
                }
                RangeProfile p = collector[0].profile();
                collector[0] = new RangeProfile.Collector(m);
                count[0] = 0;
                return List.of(new Window(m, p));
            };
        }).named("range-windows-of-serving-model");
    }

    /** Checks every window against its model's reference window (the first one seen for that model). */
    public static Flow<Window, DriftCheck, NotUsed> driftChecks(double psiThreshold) {
        return driftChecks(psiThreshold, m -> null);
    }

    /**
     * As {@link #driftChecks(double)}, with a reference that others may have established: at a
     * model's first window {@code sharedReference} is asked for that model's reference pixel
     * histogram (256 bins; for example the fleet's, the first window another replica observed
     * through the same model version). When it has one, that is the reference and the first window
     * is checked against it like any other, so that a stage started after the traffic drifted still
     * sees the drift; when it returns null, the first window is the reference.
     */
    public static Flow<Window, DriftCheck, NotUsed> driftChecks(double psiThreshold,
                                                               java.util.function.Function<IntegerModel, long[]> sharedReference) {
        return Flow.<Window>create().statefulMapConcat(() -> {
            IntegerModel[] model = {null};
            DriftDetector[] detector = {null};
            return w -> {
                if (w.model() != model[0]) {
                    model[0] = w.model();
                    long[] shared = sharedReference.apply(w.model());
                    if (shared == null) {
                        detector[0] = new DriftDetector(w.profile().pixelHistogram(), psiThreshold);
                        return List.of(new DriftCheck(w, true, 0, Optional.empty()));
                    }
                    detector[0] = new DriftDetector(shared, psiThreshold);
                }
                long[] px = w.profile().pixelHistogram();
                return List.of(new DriftCheck(w, false, detector[0].psi(px), detector[0].check(px, w.profile().images())));
            };
        }).named("drift-checks");
    }

    /** Folds every image into a {@link RangeProfile} of {@code model}; completes with it when the stream ends. */
    public static Sink<byte[], CompletionStage<RangeProfile>> profile(IntegerModel model) {
        return Sink.<RangeProfile.Collector, byte[]>fold(new RangeProfile.Collector(model), (c, px) -> {
            c.add(px, 0);
            return c;
        }).mapMaterializedValue(f -> f.thenApply(RangeProfile.Collector::profile)).named("range-profile");
    }

    /**
     * Emits one {@link RangeProfile} per window of {@code window} images (tumbling windows):
     * bounded memory whatever the stream length; downstream merges or compares them.
     */
    public static Flow<byte[], RangeProfile, NotUsed> windows(IntegerModel model, int window) {
        return Flow.<byte[]>create().grouped(window).map(batch -> profileOf(model, batch)).named("range-windows");
    }

    static RangeProfile profileOf(IntegerModel model, List<byte[]> images) {
        RangeProfile.Collector c = new RangeProfile.Collector(model);
        for (byte[] px : images) {
            c.add(px, 0);
        }
        return c.profile();
    }

    /** Emits a drift event for every window whose pixel distribution left the reference's. */
    public static Flow<RangeProfile, DriftEvent, NotUsed> drift(DriftDetector detector) {
        return Flow.<RangeProfile>create()
                .map(p -> detector.check(p.pixelHistogram(), p.images()))
                .filter(Optional::isPresent)
                .map(Optional::get)
                .named("drift-detector");
    }
}
