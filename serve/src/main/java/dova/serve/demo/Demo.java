package dova.serve.demo;

import dova.ingest.frame.PixelFormat;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.ingest.kafka.EmbeddedKafka;
import dova.ingest.replay.CameraReplayer;
import dova.ingest.replay.Drift;
import dova.serve.Application;
import dova.serve.config.ServeSettings;
import dova.serve.recal.Recalibrator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The demo: an embedded broker (unless a cluster is configured), the camera replayer on the
 * test set, the service; a live status line; a drift injected part-way; a summary at the end.
 */
public final class Demo {
    private final ServeSettings settings;
    private final PrintStream out;

    private final String source;

    public Demo(ServeSettings settings, PrintStream out) {
        this(settings, out, null);
    }

    /** @param source a video file (or any camera url) to play instead of the data set, or null */
    public Demo(ServeSettings settings, PrintStream out, String source) {
        this.settings = settings;
        this.out = out;
        this.source = source == null || source.isBlank() ? null : source;
    }

    /** What publishes the demo's frames: the data-set replayer, or a camera agent playing a video. */
    private interface Feed {
        long sent();

        boolean drifting();

        void stop();
    }

    private static Feed feed(CameraReplayer r, Thread t) {
        return new Feed() {
            public long sent() {
                return r.sent();
            }

            public boolean drifting() {
                return r.drifting();
            }

            public void stop() {
                r.stop();
                try {
                    t.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    private static Feed feed(dova.ingest.camera.CameraAgent agent, String camera) {
        return new Feed() {
            public long sent() {
                return agent.stats(camera).published() + agent.stats(camera).dropped();
            }

            public boolean drifting() {
                return false;
            }

            public void stop() {
                agent.close();
            }
        };
    }

    /** Runs to the configured duration (or until interrupted); returns the process exit code. */
    public int run() throws Exception {
        ServeSettings.Demo d = settings.demo();
        DataSet set = DataSet.parse(d.data());
        LabelledImages test;
        try {
            test = set.load(d.dataDir(), DataSet.Split.TEST);
        } catch (IOException e) {
            throw new IllegalArgumentException("dova.demo.data-dir: " + e.getMessage());
        }
        Drift drift = Drift.parse(d.drift());
        Path work = Path.of("out", "demo");
        // the demo's own registry starts empty each run; one named by DOVA_MODEL_REGISTRY is used as it is
        boolean ownRegistry = System.getenv(ServeSettings.envName("model.registry")) == null;
        Path registry = ownRegistry ? work.resolve("registry") : settings.model().registry();
        if (ownRegistry) {
            deleteTree(registry);
        }
        EmbeddedKafka kafka = null;
        String bootstrap = settings.kafka().bootstrapServers();
        long t0 = System.nanoTime();
        if (settings.kafka().embedded()) {
            out.println("starting the embedded Kafka broker (single-node KRaft, loopback) ...");
            kafka = EmbeddedKafka.start(work.resolve("kafka-" + ProcessHandle.current().pid()), true);
            bootstrap = kafka.bootstrapServers();
            out.printf(Locale.ROOT, "broker up at %s in %.1f s%n", bootstrap, (System.nanoTime() - t0) / 1e9);
        }
        AccuracyTracker accuracy = new AccuracyTracker();
        AtomicInteger initialVersion = new AtomicInteger(-1);
        Feed[] replayer = new Feed[1];
        Application app = null;
        try {
            app = Application.start(settings, registry, bootstrap, (frame, inf, e2e) -> {
                // withheld labels: replayed frame i shows test image i mod count (a video's frames have none)
                int label = frame.labelled() ? frame.label()
                        : source == null ? test.label((int) (frame.frameId() % test.count())) : -1;
                if (label >= 0) {
                    boolean drifting = replayer[0] != null && replayer[0].drifting();
                    AccuracyTracker.Phase phase = !drifting ? AccuracyTracker.Phase.BEFORE_DRIFT
                            : inf.modelVersion() == initialVersion.get() ? AccuracyTracker.Phase.DRIFTED_ORIGINAL_MODEL
                            : AccuracyTracker.Phase.DRIFTED_NEW_MODEL;
                    accuracy.add(phase, inf.predicted() == label);
                }
            }, o -> out.printf(Locale.ROOT, "%n%s model %s: v%d -> v%d, %s %.2f%% -> %.2f%% on %d frames;"
                    + " %s%n", o.method(), o.result(), o.fromVersion(), o.toVersion(), o.measure(), 100 * o.servingAccuracy(),
                    100 * o.candidateAccuracy(), o.holdout(), o.detail()));
            initialVersion.set(app.pool().current().version());
            out.printf(Locale.ROOT, "serving model v%d (%s) on %d simulated processors %s; metrics at http://%s:%d/metrics%n",
                    app.pool().current().version(), app.pool().current().model().name(), app.pool().configs().size(),
                    app.pool().configs().stream().map(c -> c.label()).toList(), settings.http().host(),
                    app.endpoints().port());
            if (source != null) {
                // a video instead of the data set: through the camera agent and FFmpeg, as a real camera would come in
                var in = app.pool().current().model().inputSpec();
                dova.ingest.camera.CameraSpec spec = new dova.ingest.camera.CameraSpec("video-0", source,
                        d.framesPerSecond(), in.width(), in.height(), in.channels() == 3 ? 3 : 1, "", true, true);
                dova.ingest.camera.CameraAgent agent = new dova.ingest.camera.CameraAgent(new dova.ingest.camera.CameraAgent.Settings(
                        bootstrap, settings.kafka().framesTopic(), java.util.List.of(spec), PixelFormat.RAW8, 64,
                        java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(10), "127.0.0.1", -1), out);
                replayer[0] = feed(agent, spec.id());
                agent.start();
                out.printf(Locale.ROOT, "playing %s (looped) as camera %s at %.0f frames/s for %d s, letterboxed to %dx%d %s;"
                        + " the video is unlabelled, so no accuracy is shown and no drift is injected%n", spec.safeUrl(),
                        spec.id(), d.framesPerSecond(), d.duration().toSeconds(), spec.width(), spec.height(),
                        spec.channels() == 1 ? "grey" : "RGB");
            } else {
                CameraReplayer r = new CameraReplayer(new CameraReplayer.Settings(bootstrap, settings.kafka().framesTopic(),
                        d.cameras(), d.framesPerSecond(), true, 0, drift, d.driftAfter(), d.driftStrength(), PixelFormat.RAW8,
                        7, d.sendLabels()), test);
                Thread replay = new Thread(r, "camera-replayer");
                replay.setDaemon(true);
                replay.start();
                replayer[0] = feed(r, replay);
                out.printf(Locale.ROOT, "replaying %s as %d cameras at %.0f frames/s for %d s; %s drift (strength %.2f) after %d s;"
                        + " labels %s%n", set.folder(), d.cameras(), d.framesPerSecond(), d.duration().toSeconds(), drift.id(),
                        d.driftStrength(), d.driftAfter().toSeconds(), d.sendLabels() ? "sent with the frames"
                        : "withheld (the service sees none; the demo measures accuracy with them)");
            }
            if (source == null && drift != Drift.NONE && d.driftAfter().compareTo(d.duration()) >= 0) {
                out.printf(Locale.ROOT, "note: the demo runs %d s and the drift starts after %d s, so it will not drift"
                        + " (DOVA_DEMO_DURATION, dova.demo.drift-after)%n", d.duration().toSeconds(), d.driftAfter().toSeconds());
            }
            statusLoop(app, replayer[0], accuracy, d.duration().toMillis());
            replayer[0].stop();
            long sent = replayer[0].sent();
            // wait until every sent frame has a result (bounded)
            long deadline = System.currentTimeMillis() + 30_000;
            while (app.metrics().framesIn() < sent && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            if (app.recalibrator().attempting()) {
                out.println("waiting for the recalibration attempt in progress (at most 120 s) ...");
                long until = System.currentTimeMillis() + 120_000;
                while (app.recalibrator().attempting() && System.currentTimeMillis() < until) {
                    Thread.sleep(200);
                }
            }
            app.stream().drainAndStop();
            summary(app, sent, accuracy);
            if (source == null && drift != Drift.NONE) {
                teacherOnDrift(test, drift, d.driftStrength());
            }
            return 0;
        } finally {
            if (replayer[0] != null) {
                replayer[0].stop();
            }
            if (app != null) {
                app.close();
            }
            if (kafka != null) {
                kafka.close();
            }
        }
    }

    private void statusLoop(Application app, Feed replayer, AccuracyTracker accuracy, long durationMillis)
            throws InterruptedException {
        long start = System.currentTimeMillis();
        long lastResults = 0;
        long lastTime = start;
        boolean tty = System.console() != null;
        int tick = 0;
        while (System.currentTimeMillis() - start < durationMillis) {
            Thread.sleep(1000);
            long now = System.currentTimeMillis();
            long results = app.metrics().resultsOut();
            double fps = (results - lastResults) * 1000.0 / Math.max(1, now - lastTime);
            lastResults = results;
            lastTime = now;
            long overflow = (long) app.metrics().registry().find("dova_overflow_events").counters().stream()
                    .mapToDouble(c -> c.count()).sum();
            double p99 = app.metrics().recentEndToEndMillis(0.99, 5);
            double acc = accuracy.recentAccuracy();
            // under 80 columns: t, results, rate, p99 of the last 5 s, accuracy of the last 512 labelled, overflow, model
            String line = String.format(Locale.ROOT, "t=%3ds %7d results %5.0f/s  p99 %s  acc %s  overflow %d  v%d%s",
                    (now - start) / 1000, results, fps, Double.isNaN(p99) ? "     -  " : String.format(Locale.ROOT, "%5.0f ms", p99),
                    Double.isNaN(acc) ? "    -  " : String.format(Locale.ROOT, "%5.1f%%", 100 * acc), overflow,
                    app.pool().current().version(), replayer.drifting() ? " [drift]" : "");
            if (tty) {
                out.print("\r" + line);
            } else if (tick % 5 == 0) {
                out.println(line);
            }
            out.flush();
            tick++;
        }
        out.println();
    }

    private void summary(Application app, long sent, AccuracyTracker accuracy) {
        var m = app.metrics();
        long dead = (long) m.registry().find("dova_frames_failed").counters().stream().mapToDouble(c -> c.count()).sum();
        out.println();
        out.println("==== dova demo summary ====");
        out.printf(Locale.ROOT, "frames sent %d, consumed %d, answered %d, dead-lettered %d, lost %d%n", sent, m.framesIn(),
                m.resultsOut(), dead, sent - m.resultsOut() - dead);
        out.printf(Locale.ROOT, "end-to-end latency p50 %.1f ms, p99 %.1f ms%n", m.endToEndMillis(0.5),
                m.endToEndMillis(0.99));
        if (source != null) {
            out.println("accuracy on the processor: not measured (the video's frames carry no labels)");
        } else {
            out.print("accuracy on the processor (" + (settings.demo().sendLabels() ? "labels sent with the frames"
                    : "labels withheld from the service, measured by the demo") + "):\n" + accuracy.summary());
        }
        var drift = app.recalibrator().lastDrift();
        out.println("drift: " + (drift == null ? "none detected" : drift.describe()));
        for (Recalibrator.Outcome o : app.recalibrator().outcomes()) {
            out.printf(Locale.ROOT, "%s model %s: v%d -> v%d (%s %.2f%% -> %.2f%%)%n", o.method(), o.result(),
                    o.fromVersion(), o.toVersion(), o.measure(), 100 * o.servingAccuracy(), 100 * o.candidateAccuracy());
        }
        out.println("serving model at the end: v" + app.pool().current().version());
    }

    /**
     * The reference the adapted model is judged against: the FP32 teacher (the configured float
     * checkpoint, run by DJL) on 2,000 test images with the same drift.
     */
    private void teacherOnDrift(LabelledImages test, Drift drift, double strength) {
        Path ckpt = settings.model().checkpoint();
        if (ckpt == null) {
            return;
        }
        int n = Math.min(2000, test.count());
        int size = test.pixelsPerImage();
        byte[] px = java.util.Arrays.copyOf(test.pixels(), n * size);
        java.util.Random rnd = new java.util.Random(11);
        for (int i = 0; i < n; i++) {
            byte[] one = java.util.Arrays.copyOfRange(px, i * size, (i + 1) * size);
            drift.apply(one, test.cols(), test.rows(), strength, rnd);
            System.arraycopy(one, 0, px, i * size, size);
        }
        LabelledImages drifted = new LabelledImages("drifted", n, test.rows(), test.cols(), px,
                java.util.Arrays.copyOf(test.labels(), n));
        try {
            double acc = dova.compress.CheckpointEval.run(ckpt, drifted, Math.max(10, test.classes())).accuracy();
            out.printf(Locale.ROOT, "FP32 teacher (%s) on %d test images with the same drift: %.2f%%%n", ckpt.getFileName(), n,
                    100 * acc);
        } catch (IOException | RuntimeException e) {
            out.println("FP32 teacher on the drifted images: not measured (" + e.getMessage() + ")");
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
