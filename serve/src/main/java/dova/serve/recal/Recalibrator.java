package dova.serve.recal;

import dova.calibrate.drift.DriftDetector;
import dova.calibrate.drift.DriftEvent;
import dova.calibrate.observe.RangeProfile;
import dova.calibrate.plan.RescalingPlan;
import dova.calibrate.plan.RescalingPlanner;
import dova.ingest.frame.Frame;
import dova.serve.config.ServeSettings;
import dova.serve.metrics.Metrics;
import dova.serve.pool.Deployment;
import dova.serve.pool.ProcessorPool;
import dova.serve.registry.ModelRegistry;
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
 * <p>Frames arrive from the calibration branch of the stream (one thread). Every
 * {@code window} frames, the window's {@link RangeProfile} is compared with the reference
 * (the first window after each deployment) by the drift detector. On a drift event, at most
 * one attempt at a time and one per {@code min-interval} runs on a single background thread:
 * the rescaling planner builds a candidate from the drifted window, and the validation gate
 * compares candidate and serving model on the labelled frames of that window (on the pool's
 * first processor configuration); the candidate is published and swapped in only if it is not
 * worse by more than {@code max-regression}. Without labels the gate requires that the
 * candidate overflows no more than the serving model. A refused or failed attempt keeps the
 * serving model and is reported.
 */
public final class Recalibrator implements AutoCloseable {
    /** What happened to an attempt, for the log and the demo's summary. */
    public record Outcome(Instant at, String result, String method, int fromVersion, int toVersion,
                          double servingAccuracy, double candidateAccuracy, int holdout, String detail) {
    }

    private record Sample(byte[] pixels, int label) {
    }

    private final ServeSettings.Calibration calibration;
    private final ServeSettings.Recalibration settings;
    private final ProcessorPool pool;
    private final ModelRegistry registry;
    private final Metrics metrics;
    private final Consumer<Outcome> listener;
    private final Retrainer retrainer;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "recalibration");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean busy = new AtomicBoolean();
    private final List<Sample> window = new ArrayList<>();
    private final List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
    private Deployment profiled;
    private RangeProfile.Collector collector;
    private DriftDetector detector;
    private Instant lastAttempt = Instant.EPOCH;
    private volatile DriftEvent lastDrift;

    public Recalibrator(ServeSettings.Calibration calibration, ServeSettings.Recalibration settings, ProcessorPool pool,
                        ModelRegistry registry, Metrics metrics, Retrainer retrainer, Consumer<Outcome> listener) {
        this.retrainer = retrainer;
        this.calibration = calibration;
        this.settings = settings;
        this.pool = pool;
        this.registry = registry;
        this.metrics = metrics;
        this.listener = listener;
    }

    public List<Outcome> outcomes() {
        return List.copyOf(outcomes);
    }

    public DriftEvent lastDrift() {
        return lastDrift;
    }

    /** Called for every sampled frame, from one thread. */
    public void observe(Frame f) {
        Deployment d = pool.current();
        if (d != profiled) {
            profiled = d;
            collector = new RangeProfile.Collector(d.model());
            detector = null; // the first window on a new model becomes its reference
            window.clear();
        }
        if (f.pixels().length != d.model().inputSpec().size()) {
            return;
        }
        collector.add(f.pixels(), 0);
        window.add(new Sample(f.pixels(), f.label()));
        if (window.size() < calibration.window()) {
            return;
        }
        RangeProfile profile = collector.profile();
        profile.layers().forEach((layer, r) -> metrics.range(layer, r.realOutput.percentile(calibration.percentile())));
        List<Sample> samples = List.copyOf(window);
        window.clear();
        collector = new RangeProfile.Collector(d.model());
        if (detector == null) {
            detector = new DriftDetector(profile.pixelHistogram(), calibration.psiThreshold());
            metrics.drift(0, false);
            return;
        }
        double psi = detector.psi(profile.pixelHistogram());
        var event = detector.check(profile.pixelHistogram(), profile.images());
        metrics.drift(psi, event.isPresent());
        if (event.isPresent()) {
            lastDrift = event.get();
            Instant now = Instant.now();
            if (settings.enabled() && Duration.between(lastAttempt, now).compareTo(settings.minInterval()) >= 0
                    && busy.compareAndSet(false, true)) {
                lastAttempt = now;
                DriftEvent e = event.get();
                worker.submit(() -> {
                    try {
                        attempt(d, profile, samples, e);
                    } finally {
                        busy.set(false);
                    }
                });
            }
        }
    }

    private void attempt(Deployment serving, RangeProfile profile, List<Sample> samples, DriftEvent event) {
        long start = System.nanoTime();
        ProcessorConfig target = pool.configs().get(0);
        int size = serving.model().inputSpec().size();
        byte[] px = new byte[samples.size() * size];
        for (int i = 0; i < samples.size(); i++) {
            System.arraycopy(samples.get(i).pixels(), 0, px, i * size, size);
        }
        // labelled frames: the first 70% may train, the last 30% are the holdout of the gate
        List<Sample> labelled = samples.stream().filter(s -> s.label() >= 0).toList();
        int cut = (int) (labelled.size() * 0.7);
        List<Sample> holdout = labelled.isEmpty() ? samples : labelled.subList(cut, labelled.size());
        Outcome outcome;
        Retrainer.Result retrained = null;
        try {
            RescalingPlan plan = RescalingPlanner.plan(serving.model(), profile, target, calibration.percentile(), px,
                    samples.size(), 20);
            String method = "recalibrated";
            IntegerModel candidate = plan.model();
            double[] servingScore = score(serving.model(), target, holdout);
            double[] candidateScore = score(candidate, target, holdout);
            String detail = plan.iterations() + " planning iterations";
            if (retrainer != null && settings.retrain() && cut >= 100) {
                try {
                    retrained = retrainer.retrain(serving.model(), target, images(labelled.subList(0, cut)),
                            settings.retrainEpochs(), 1);
                    double[] retrainedScore = score(retrained.model(), target, holdout);
                    detail += String.format(Locale.ROOT, "; recalibrated %.4f, retrained %.4f on the holdout",
                            candidateScore[0], retrainedScore[0]);
                    if (retrainedScore[0] >= candidateScore[0]) { // a tie on a small holdout: the adapted weights
                        candidate = retrained.model();
                        candidateScore = retrainedScore;
                        method = "retrained";
                    }
                } catch (RuntimeException | java.io.IOException e) {
                    detail += "; retraining failed: " + e.getMessage();
                }
            }
            int n = (int) servingScore[2];
            boolean accept = n > 0
                    ? candidateScore[0] >= servingScore[0] - settings.maxRegression()
                    : candidateScore[1] <= servingScore[1];
            detail += ", overflow events on the holdout " + (long) servingScore[1] + " -> " + (long) candidateScore[1];
            if (accept) {
                int v = registry.publish(candidate, String.format(Locale.ROOT,
                        "%s from v%04d after drift (%s); holdout accuracy %.4f -> %.4f on %d frames", method,
                        serving.version(), event.describe(), servingScore[0], candidateScore[0], n));
                pool.swap(new Deployment(v, candidate));
                registry.makeCurrent(v);
                if (retrained != null && candidate == retrained.model()) {
                    // the next retraining builds on these weights
                    retrainer.adopt(retrained, registry.dir().resolve(String.format(Locale.ROOT, "v%04d-qat.ckpt", v)));
                    retrained = null;
                }
                metrics.modelVersion(v);
                metrics.swapped();
                outcome = new Outcome(Instant.now(), "accepted", method, serving.version(), v, servingScore[0],
                        candidateScore[0], n, detail);
            } else {
                outcome = new Outcome(Instant.now(), "rejected", method, serving.version(), serving.version(),
                        servingScore[0], candidateScore[0], n, "candidate regressed beyond " + settings.maxRegression()
                        + "; " + detail);
            }
        } catch (RuntimeException | java.io.IOException e) {
            metrics.swapFailed();
            outcome = new Outcome(Instant.now(), "failed", "-", serving.version(), serving.version(), Double.NaN,
                    Double.NaN, 0, String.valueOf(e.getMessage()));
        } finally {
            if (retrained != null) { // not adopted: its temporary checkpoint goes
                try {
                    retrainer.discard(retrained);
                } catch (java.io.IOException e) {
                    System.err.println("could not delete " + retrained.checkpoint() + ": " + e.getMessage());
                }
            }
        }
        metrics.attempt(outcome.result(), Duration.ofNanos(System.nanoTime() - start));
        outcomes.add(outcome);
        if (listener != null) {
            listener.accept(outcome);
        }
    }

    private static dova.sim.data.LabelledImages images(List<Sample> samples) {
        int size = samples.get(0).pixels().length;
        byte[] px = new byte[samples.size() * size];
        byte[] labels = new byte[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            System.arraycopy(samples.get(i).pixels(), 0, px, i * size, size);
            labels[i] = (byte) samples.get(i).label();
        }
        int side = (int) Math.round(Math.sqrt(size));
        return new dova.sim.data.LabelledImages("recent", samples.size(), side, size / side, px, labels);
    }

    /** {accuracy on labelled samples, overflow events, labelled count}. */
    private static double[] score(IntegerModel model, ProcessorConfig cfg, List<Sample> samples) {
        Executor e = Executor.fast(model, cfg);
        int correct = 0;
        int labelled = 0;
        for (Sample s : samples) {
            int cls = e.run(s.pixels(), 0);
            if (s.label() >= 0) {
                labelled++;
                correct += cls == s.label() ? 1 : 0;
            }
        }
        return new double[] {labelled == 0 ? Double.NaN : (double) correct / labelled, e.totalOverflowEvents(), labelled};
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
