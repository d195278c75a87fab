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

/** Range observers and drift detection as Akka Streams stages over images (raw CHW pixel arrays). */
public final class CalibrationStages {
    private CalibrationStages() {
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
