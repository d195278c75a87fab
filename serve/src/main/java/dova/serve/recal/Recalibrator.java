package dova.serve.recal;

import dova.calibrate.CalibrationStages;
import dova.calibrate.drift.DriftEvent;
import dova.calibrate.observe.RangeProfile;
import dova.calibrate.plan.RescalingPlan;
import dova.calibrate.plan.RescalingPlanner;
import dova.ingest.frame.Frame;
import dova.serve.config.ServeSettings;
import dova.serve.metrics.Metrics;
import dova.serve.pool.Deployment;
import dova.serve.pool.ProcessorPool;
import dova.serve.registry.ModelStore;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Watches sampled frames, detects drift and recalibrates off the hot path.
 *
 * <p>The stream's calibration branch is built from calibrate's stages: sampled frames are kept
 * in {@link RecentFrames} ({@code recent-frames} of them, {@link #remember}), and every
 * {@code window} frames the window's {@link RangeProfile} through the serving model is compared
 * with that model's first window ({@code CalibrationStages.windowsOf} and {@code driftChecks});
 * each check arrives at {@link #onWindow}. On a drift event, at most one attempt at a time and one
 * per {@code min-interval} runs on a single background thread, in three parts:
 * <ol>
 *   <li>candidates: the rescaling planner builds one from the drifted window's ranges, and (with
 *       retraining on and enough frames) the {@link Retrainer} another from the first 70% of the
 *       recent labelled frames, or, where no frame has a label, of all recent frames by distillation
 *       from the FP32 teacher;</li>
 *   <li>the {@link Gate} scores candidate and serving model on the holdout (the last 30% of the
 *       recent labelled frames, or all recent frames without labels) on the pool's first
 *       processor configuration and returns a {@link Gate.Verdict};</li>
 *   <li>the {@link Deployer} publishes and swaps in an accepted candidate.</li>
 * </ol>
 * A refused or failed attempt keeps the serving model and is reported.
 */
public final class Recalibrator implements AutoCloseable {
    /** Share of the recent labelled frames a retraining may train on; the rest is the gate's holdout. */
    static final double TRAIN_SHARE = 0.7;
    /** Fewest labelled training frames worth a retraining. */
    static final int MIN_RETRAIN_FRAMES = 100;

    /** How an attempt ended. */
    public enum Result { ACCEPTED, REJECTED, FAILED;

        /** The lower-case name used in logs and metric tags. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return label();
        }
    }

    /** Where the attempt's candidate came from. */
    public enum Method { RECALIBRATED, RETRAINED, NONE;

        @Override
        public String toString() {
            return this == NONE ? "-" : name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * What happened to an attempt, for the log and the demo's summary. {@code servingAccuracy} and
     * {@code candidateAccuracy} are what {@code measure} names: the holdout accuracy with labels,
     * the agreement with the FP32 teacher's top-1 without. {@code recalibrated} is the rescaling
     * planner's model (recalibration alone, the serving weights with new scales), whichever
     * candidate won; null when planning failed.
     */
    public record Outcome(Instant at, Result result, Method method, int fromVersion, int toVersion,
                          double servingAccuracy, double candidateAccuracy, int holdout, String detail, String measure,
                          IntegerModel recalibrated) {
    }

    private final ServeSettings.Calibration calibration;
    private final ServeSettings.Recalibration settings;
    private final ProcessorPool pool;
    private final ModelStore registry;
    private final Metrics metrics;
    private final Consumer<Outcome> listener;
    private final Retrainer retrainer;
    private final Gate gate;
    private final Deployer deployer;
    private final RecentFrames recent;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "recalibration");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean busy = new AtomicBoolean();
    private final List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
    private volatile Deployment profiled;
    private Instant lastAttempt = Instant.EPOCH;
    private final Instant started = Instant.now();
    private volatile DriftEvent lastDrift;

    public Recalibrator(ServeSettings.Calibration calibration, ServeSettings.Recalibration settings, ProcessorPool pool,
                        ModelStore registry, Metrics metrics, Retrainer retrainer, Consumer<Outcome> listener) {
        this.retrainer = retrainer;
        this.calibration = calibration;
        this.settings = settings;
        this.pool = pool;
        this.registry = registry;
        this.metrics = metrics;
        this.listener = listener;
        this.gate = new Gate(settings.maxRegression());
        this.deployer = new Deployer(pool, registry, metrics, retrainer);
        this.recent = new RecentFrames(settings.recentFrames());
        metrics.recalibrationRunning(() -> busy.get() ? 1 : 0);
    }

    private volatile java.util.function.BooleanSupplier leader = () -> true;

    /**
     * Only while {@code leader} says so does this replica start attempts ({@link Leadership}: one
     * replica of the group at a time); the others keep observing and serving. Default: always.
     */
    public void leadership(java.util.function.BooleanSupplier leader) {
        this.leader = leader;
    }

    private volatile CalibrationShare share;

    /**
     * Shares every window's ranges with the other replicas through {@code share}, and plans an
     * attempt on this replica's window merged with theirs. Default: this replica's window alone.
     */
    public void sharing(CalibrationShare share) {
        this.share = share;
    }

    /** Drift references shared by the replicas of one fleet, by model version (the fleet's model topic). */
    public interface SharedReferences {
        /** The fleet's reference pixel histogram of {@code version} (256 bins), or null when it has none. */
        long[] get(int version);

        /** Offers this replica's first window of {@code version} as the fleet's reference (kept when there is none). */
        void offer(int version, long[] pixels);
    }

    private volatile SharedReferences references;

    /**
     * Compares each model version's windows with the fleet's reference of that version, where one
     * exists, and offers this replica's first window where none does: a replica that joins (or
     * restarts) after the traffic drifted sees the drift, instead of taking the drifted frames as
     * its reference. Default: each replica's own first window.
     */
    public void sharedReferences(SharedReferences refs) {
        this.references = refs;
    }

    /**
     * The drift reference of {@code model} when it is the serving model and the fleet has one for
     * its version, else null (the calibration branch's {@code CalibrationStages.driftChecks}).
     */
    public long[] referenceFor(IntegerModel model) {
        SharedReferences refs = references;
        Deployment d = pool.current();
        return refs == null || d.model() != model ? null : refs.get(d.version());
    }

    public List<Outcome> outcomes() {
        return List.copyOf(outcomes);
    }

    /** Whether an attempt is running now. */
    public boolean attempting() {
        return busy.get();
    }

    public DriftEvent lastDrift() {
        return lastDrift;
    }

    /** Whether a sampled frame has the serving model's input shape (others are not observed). */
    public boolean fitsServingModel(Frame f) {
        var in = pool.current().model().inputSpec();
        return f.width() == in.width() && f.height() == in.height() && f.channels() == in.channels()
                && f.pixels().length == in.size();
    }

    /** Keeps a sampled frame among the recent frames of the serving deployment (from the calibration branch). */
    public void remember(Frame f) {
        Deployment d = pool.current();
        if (d != profiled) {
            profiled = d;
            recent.clear(); // the frames of another deployment judge nothing for this one
        }
        recent.add(new RecentFrames.Sample(f.pixels(), f.label()));
    }

    /**
     * One window's drift check from the calibration stages ({@code CalibrationStages.driftChecks}):
     * publishes the ranges and the drift gauge; on drift starts an attempt, at most one at a time
     * and one per {@code min-interval}. A window of a model that is no longer serving is ignored.
     */
    public void onWindow(CalibrationStages.DriftCheck check) {
        Deployment d = pool.current();
        RangeProfile profile = check.window().profile();
        if (check.window().model() != d.model()) {
            return;
        }
        CalibrationShare sharing = share;
        if (sharing != null) {
            sharing.publish(d.version(), profile);
        }
        SharedReferences refs = references;
        if (check.reference() && refs != null) {
            refs.offer(d.version(), profile.pixelHistogram());
        }
        profile.layers().forEach((layer, r) -> metrics.range(layer, r.realOutput.percentile(calibration.percentile())));
        metrics.drift(check.psi(), check.event().isPresent());
        Instant now = Instant.now();
        String trigger;
        if (check.event().isPresent()) {
            lastDrift = check.event().get();
            trigger = "drift (" + lastDrift.describe() + ")";
        } else if (!settings.period().isZero() && !check.reference()
                && Duration.between(lastAttempt.equals(Instant.EPOCH) ? started : lastAttempt, now)
                        .compareTo(settings.period()) >= 0) {
            trigger = "the periodic schedule (every " + settings.period().toSeconds() + " s)";
        } else {
            return;
        }
        if (settings.enabled() && leader.getAsBoolean()
                && Duration.between(lastAttempt, now).compareTo(settings.minInterval()) >= 0
                && busy.compareAndSet(false, true)) {
            lastAttempt = now;
            List<RecentFrames.Sample> samples = recent.snapshot();
            worker.submit(() -> {
                try {
                    // the fleet's ranges: this window and the other replicas' latest windows of the same version
                    CalibrationShare.Merged merged = sharing != null ? sharing.merged(d.version(), profile)
                            : new CalibrationShare.Merged(profile, 1);
                    attempt(d, merged, samples, trigger);
                } finally {
                    busy.set(false);
                }
            });
        }
    }

    private void attempt(Deployment serving, CalibrationShare.Merged ranges, List<RecentFrames.Sample> samples, String trigger) {
        RangeProfile profile = ranges.profile();
        long start = System.nanoTime();
        ProcessorConfig target = pool.configs().get(0);
        List<RecentFrames.Sample> labelled = samples.stream().filter(RecentFrames.Sample::labelled).toList();
        // with labels: train on the first 70% of the labelled frames, judge on the rest; without, the same split
        // of all frames, judged by agreement with the FP32 teacher (distillation), or by overflow alone
        boolean unlabelled = labelled.isEmpty();
        List<RecentFrames.Sample> basis = unlabelled ? samples : labelled;
        int cut = (int) (basis.size() * TRAIN_SHARE);
        boolean retrain = retrainer != null && settings.retrain() && cut >= MIN_RETRAIN_FRAMES;
        List<RecentFrames.Sample> holdout = unlabelled && !retrain ? samples : basis.subList(cut, basis.size());
        Outcome outcome;
        Retrainer.Result retrained = null;
        IntegerModel recalibrated = null;
        String measure = unlabelled ? (retrain ? "teacher agreement" : "overflow events") : "holdout accuracy";
        try {
            int size = serving.model().inputSpec().size();
            RescalingPlan plan = RescalingPlanner.plan(serving.model(), profile, target, calibration.percentile(),
                    RecentFrames.pixels(samples, size), samples.size(), 20);
            Method method = Method.RECALIBRATED;
            IntegerModel candidate = plan.model();
            recalibrated = candidate;
            int[] teacher = unlabelled && retrain ? retrainer.teacherPredictions(serving.model(),
                    RecentFrames.images(holdout, serving.model().inputSpec(), false)) : null;
            Gate.Score servingScore = Gate.score(serving.model(), target, holdout, teacher);
            Gate.Score candidateScore = Gate.score(candidate, target, holdout, teacher);
            String detail = plan.iterations() + " planning iterations on the ranges of " + ranges.replicas()
                    + (ranges.replicas() == 1 ? " replica (" : " replicas (") + profile.images() + " images)";
            if (retrain) {
                try {
                    List<RecentFrames.Sample> train = basis.subList(0, cut);
                    retrained = unlabelled
                            ? retrainer.distill(serving.model(), target, RecentFrames.images(train, serving.model().inputSpec(),
                                    false), RecentFrames.labels(train), settings.retrainEpochs(), 1)
                            : retrainer.retrain(serving.model(), target, RecentFrames.images(train, serving.model().inputSpec()),
                                    settings.retrainEpochs(), 1);
                    Gate.Score retrainedScore = Gate.score(retrained.model(), target, holdout, teacher);
                    detail += String.format(Locale.ROOT, "; %s on the holdout: serving %.4f, recalibrated %.4f, %s %.4f",
                            measure, servingScore.measure(), candidateScore.measure(), unlabelled ? "distilled" : "retrained",
                            retrainedScore.measure());
                    if (retrainedScore.measure() >= candidateScore.measure()) { // a tie on a small holdout: the adapted weights
                        candidate = retrained.model();
                        candidateScore = retrainedScore;
                        method = Method.RETRAINED;
                    }
                } catch (RuntimeException | java.io.IOException e) {
                    detail += "; retraining failed: " + e.getMessage();
                }
            }
            Gate.Verdict verdict = gate.judge(servingScore, candidateScore);
            detail += ", overflow events on the holdout " + servingScore.overflowEvents() + " -> "
                    + candidateScore.overflowEvents();
            int n = holdout.size();
            if (verdict.accepted()) {
                Retrainer.Result used = method == Method.RETRAINED ? retrained : null;
                int v = deployer.deploy(candidate, String.format(Locale.ROOT,
                        "%s from v%04d after %s; %s %.4f -> %.4f on %d frames", method,
                        serving.version(), trigger, measure, servingScore.measure(), candidateScore.measure(), n), used);
                if (used != null) {
                    retrained = null; // adopted
                }
                outcome = new Outcome(Instant.now(), Result.ACCEPTED, method, serving.version(), v, servingScore.measure(),
                        candidateScore.measure(), n, detail, measure, recalibrated);
            } else {
                outcome = new Outcome(Instant.now(), Result.REJECTED, method, serving.version(), serving.version(),
                        servingScore.measure(), candidateScore.measure(), n, verdict.reason() + "; " + detail, measure,
                        recalibrated);
            }
        } catch (RuntimeException | java.io.IOException e) {
            metrics.swapFailed();
            outcome = new Outcome(Instant.now(), Result.FAILED, Method.NONE, serving.version(), serving.version(), Double.NaN,
                    Double.NaN, 0, String.valueOf(e.getMessage()), measure, recalibrated);
        } finally {
            if (retrained != null) { // not adopted: its temporary checkpoint goes
                try {
                    retrainer.discard(retrained);
                } catch (java.io.IOException e) {
                    System.err.println("could not delete " + retrained.checkpoint() + ": " + e.getMessage());
                }
            }
        }
        metrics.attempt(outcome.result().label(), Duration.ofNanos(System.nanoTime() - start));
        outcomes.add(outcome);
        if (listener != null) {
            listener.accept(outcome);
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
