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
import dova.sim.ProcessorConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
    private final int replicas;
    /** Most replicas the demo starts in its one process. */
    public static final int MAX_REPLICAS = 8;

    public Demo(ServeSettings settings, PrintStream out) {
        this(settings, out, null, 1);
    }

    /**
     * @param source a video file (or any camera url) to play instead of the data set, or null
     * @param replicas service replicas in one consumer group, in this process: one fleet (one
     *     model topic, one elected recalibrating replica), as k8s/ runs them in pods
     */
    public Demo(ServeSettings settings, PrintStream out, String source, int replicas) {
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("--replicas must be in [1, " + MAX_REPLICAS + "], got " + replicas);
        }
        if (replicas > 1 && !settings.model().shared()) {
            throw new IllegalArgumentException("--replicas " + replicas + " needs the fleet's shared registry"
                    + " (dova.model.shared / DOVA_MODEL_SHARED = true): without it each replica would serve its own model");
        }
        this.settings = settings;
        this.out = out;
        this.source = source == null || source.isBlank() ? null : source;
        this.replicas = replicas;
    }

    /** Replica {@code i}'s settings: its own static member id, and for all but the first an ephemeral HTTP port. */
    private ServeSettings replica(int i) {
        if (replicas == 1) {
            return settings;
        }
        ServeSettings.Kafka k = settings.kafka();
        String id = (k.instanceId().isBlank() ? "demo" : k.instanceId()) + "-" + i;
        return new ServeSettings(new ServeSettings.Kafka(k.bootstrapServers(), k.framesTopic(), k.resultsTopic(),
                k.deadLetterTopic(), k.groupId(), id, k.partitions(), k.createTopics(), k.client()), settings.model(),
                settings.pool(), new ServeSettings.Http(settings.http().host(), i == 0 ? settings.http().port() : 0),
                settings.calibration(), settings.recalibration(), settings.demo());
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
        SwapComparison swaps = new SwapComparison();
        AtomicInteger initialVersion = new AtomicInteger(-1);
        Feed[] replayer = new Feed[1];
        List<Application> apps = new ArrayList<>();
        // the distinct frames answered: at-least-once delivery answers a frame twice when a rebalance
        // (a replica joining) moves its partition before its offset was committed
        java.util.Set<String> answered = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Application app = null;
        try {
            for (int i = 0; i < replicas; i++) {
                String who = replicas == 1 ? "" : "replica " + i + ": ";
                Path folder = replicas == 1 ? registry : registry.resolveSibling(registry.getFileName() + "-" + i);
                if (ownRegistry && replicas > 1) {
                    deleteTree(folder);
                }
                apps.add(Application.start(replica(i), folder, bootstrap, (frame, inf, e2e) -> {
                    answered.add(frame.cameraId() + "/" + frame.frameId());
                    // withheld labels: replayed frame i shows test image i mod count (a video's frames have none)
                    int label = frame.labelled() ? frame.label()
                            : source == null ? test.label((int) (frame.frameId() % test.count())) : -1;
                    if (label >= 0) {
                        boolean drifting = replayer[0] != null && replayer[0].drifting();
                        AccuracyTracker.Phase phase = !drifting ? AccuracyTracker.Phase.BEFORE_DRIFT
                                : inf.modelVersion() == initialVersion.get() ? AccuracyTracker.Phase.DRIFTED_ORIGINAL_MODEL
                                : AccuracyTracker.Phase.DRIFTED_NEW_MODEL;
                        accuracy.add(phase, inf.predicted() == label);
                        if (phase == AccuracyTracker.Phase.DRIFTED_NEW_MODEL) {
                            swaps.add(inf.modelVersion(), frame.pixels(), label);
                        }
                    }
                }, o -> out.printf(Locale.ROOT, "%n%s%s model %s: v%d -> v%d, %s %.2f%% -> %.2f%% on %d frames;"
                        + " %s%n", who, o.method(), o.result(), o.fromVersion(), o.toVersion(), o.measure(),
                        100 * o.servingAccuracy(), 100 * o.candidateAccuracy(), o.holdout(), o.detail())));
            }
            app = apps.get(0);
            initialVersion.set(app.pool().current().version());
            out.printf(Locale.ROOT, "serving model v%d (%s) on %d simulated processors %s; metrics at http://%s:%d/metrics%n",
                    app.pool().current().version(), app.pool().current().model().name(), app.pool().configs().size(),
                    app.pool().configs().stream().map(c -> c.label()).toList(), settings.http().host(),
                    app.endpoints().port());
            if (replicas > 1) {
                out.printf(Locale.ROOT, "%d replicas in consumer group %s, one fleet: versions on topic %s, one elected"
                        + " replica recalibrates on the ranges all of them share; metrics of the others at %s%n", replicas,
                        settings.kafka().groupId(), Application.modelsTopic(settings), apps.subList(1, apps.size()).stream()
                                .map(a -> ":" + a.endpoints().port()).toList());
            }
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
            long started = System.currentTimeMillis();
            statusLoop(apps, replayer[0], accuracy, started, started + d.duration().toMillis(), () -> false);
            if (apps.stream().anyMatch(a -> a.recalibrator().attempting())) {
                // the cameras keep playing: a model swapped in after they stopped would answer no frame
                out.println("a recalibration attempt is running: the cameras keep playing until it ends (at most 120 s),"
                        + " then 10 s more for the model it swaps in");
                statusLoop(apps, replayer[0], accuracy, started, System.currentTimeMillis() + 120_000,
                        () -> apps.stream().noneMatch(a -> a.recalibrator().attempting()));
                statusLoop(apps, replayer[0], accuracy, started, System.currentTimeMillis() + 10_000, () -> false);
            }
            replayer[0].stop();
            long sent = replayer[0].sent();
            // wait until every sent frame has a result (bounded)
            long deadline = System.currentTimeMillis() + 30_000;
            while (apps.stream().mapToLong(a -> a.metrics().framesIn()).sum() < sent && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            if (apps.stream().anyMatch(a -> a.recalibrator().attempting())) {
                out.println("waiting for the recalibration attempt in progress (at most 120 s) ...");
                long until = System.currentTimeMillis() + 120_000;
                while (apps.stream().anyMatch(a -> a.recalibrator().attempting()) && System.currentTimeMillis() < until) {
                    Thread.sleep(200);
                }
            }
            awaitOneVersion(apps);
            for (Application a : apps) {
                a.stream().drainAndStop();
            }
            summary(apps, sent, answered.size(), accuracy);
            if (source == null && drift != Drift.NONE && !compareSwap(apps, swaps, test)) {
                teacherOnDrift(test, drift, d.driftStrength());
            }
            return 0;
        } finally {
            if (replayer[0] != null) {
                replayer[0].stop();
            }
            for (int i = apps.size() - 1; i >= 0; i--) {
                apps.get(i).close();
            }
            if (kafka != null) {
                kafka.close();
            }
        }
    }

    /** Prints the status line every second (every 5 s without a terminal) until {@code until} or {@code done}. */
    private void statusLoop(List<Application> apps, Feed replayer, AccuracyTracker accuracy, long start, long until,
                            java.util.function.BooleanSupplier done) throws InterruptedException {
        long lastResults = apps.stream().mapToLong(a -> a.metrics().resultsOut()).sum();
        long lastTime = System.currentTimeMillis();
        boolean tty = System.console() != null;
        int tick = 0;
        while (System.currentTimeMillis() < until && !done.getAsBoolean()) {
            Thread.sleep(1000);
            long now = System.currentTimeMillis();
            long results = apps.stream().mapToLong(a -> a.metrics().resultsOut()).sum();
            double fps = (results - lastResults) * 1000.0 / Math.max(1, now - lastTime);
            lastResults = results;
            lastTime = now;
            long overflow = (long) apps.stream().flatMap(a -> a.metrics().registry().find("dova_overflow_events").counters()
                    .stream()).mapToDouble(c -> c.count()).sum();
            double p99 = apps.stream().mapToDouble(a -> a.metrics().recentEndToEndMillis(0.99, 5)).filter(v -> !Double.isNaN(v))
                    .max().orElse(Double.NaN);
            double acc = accuracy.recentAccuracy();
            // under 80 columns: t, results, rate, p99 of the last 5 s, accuracy of the last 512 labelled, overflow,
            // the version each replica serves
            String line = String.format(Locale.ROOT, "t=%3ds %7d results %5.0f/s  p99 %s  acc %s  overflow %d  %s%s",
                    (now - start) / 1000, results, fps, Double.isNaN(p99) ? "     -  " : String.format(Locale.ROOT, "%5.0f ms", p99),
                    Double.isNaN(acc) ? "    -  " : String.format(Locale.ROOT, "%5.1f%%", 100 * acc), overflow,
                    versions(apps), replayer.drifting() ? " [drift]" : "");
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

    /** The versions the replicas serve: {@code v2}, or {@code v2,v2,v3} for several. */
    private static String versions(List<Application> apps) {
        return apps.stream().map(a -> "v" + a.pool().current().version()).collect(java.util.stream.Collectors.joining(","));
    }

    /** Waits (at most 15 s) until every replica serves the version the fleet's pointer names. */
    private void awaitOneVersion(List<Application> apps) throws InterruptedException {
        if (apps.size() == 1) {
            return;
        }
        long until = System.currentTimeMillis() + 15_000;
        while (apps.stream().map(a -> a.pool().current().version()).distinct().count() > 1 && System.currentTimeMillis() < until) {
            Thread.sleep(100);
        }
    }

    private void summary(List<Application> apps, long sent, long distinct, AccuracyTracker accuracy) {
        long in = 0;
        long answered = 0;
        long dead = 0;
        for (Application a : apps) {
            in += a.metrics().framesIn();
            answered += a.metrics().resultsOut();
            dead += (long) a.metrics().registry().find("dova_frames_failed").counters().stream().mapToDouble(c -> c.count()).sum();
        }
        out.println();
        out.println("==== dova demo summary ====");
        out.printf(Locale.ROOT, "frames sent %d, consumed %d, answered %d (%d distinct%s), dead-lettered %d, lost %d%n", sent,
                in, answered, distinct, answered > distinct ? String.format(Locale.ROOT, ", %d answered twice after a rebalance:"
                        + " at-least-once", answered - distinct) : "", dead, Math.max(0, sent - distinct - dead));
        for (int i = 0; i < apps.size(); i++) {
            var m = apps.get(i).metrics();
            out.printf(Locale.ROOT, "%send-to-end latency p50 %.1f ms, p99 %.1f ms%s%n", apps.size() == 1 ? "" : "replica " + i + ": ",
                    m.endToEndMillis(0.5), m.endToEndMillis(0.99), apps.size() == 1 ? ""
                            : String.format(Locale.ROOT, " (%d frames answered)", m.resultsOut()));
        }
        if (source != null) {
            out.println("accuracy on the processor: not measured (the video's frames carry no labels)");
        } else {
            out.print("accuracy on the processor (" + (settings.demo().sendLabels() ? "labels sent with the frames"
                    : "labels withheld from the service, measured by the demo") + "):\n" + accuracy.summary());
        }
        for (int i = 0; i < apps.size(); i++) {
            Application a = apps.get(i);
            String who = apps.size() == 1 ? "" : "replica " + i + (a.metrics().scrape().contains("dova_recalibration_leader 1.0")
                    ? " (the elected recalibrating replica)" : "") + ": ";
            var drift = a.recalibrator().lastDrift();
            out.println(who + "drift: " + (drift == null ? "none detected" : drift.describe()));
            for (Recalibrator.Outcome o : a.recalibrator().outcomes()) {
                out.printf(Locale.ROOT, "%s%s model %s: v%d -> v%d (%s %.2f%% -> %.2f%%)%n", who, o.method(), o.result(),
                        o.fromVersion(), o.toVersion(), o.measure(), 100 * o.servingAccuracy(), 100 * o.candidateAccuracy());
            }
        }
        out.println("serving model at the end: " + (apps.size() == 1 ? "v" + apps.get(0).pool().current().version()
                : "replicas " + versions(apps)
                        + (apps.stream().map(a -> a.pool().current().version()).distinct().count() == 1 ? " (one version)"
                        : " (NOT one version)")));
    }

    /**
     * The accepted attempt's model that answered the most drifted frames against recalibration
     * alone and the FP32 teacher, on those frames ({@link SwapComparison}); false when no model was swapped in (or
     * it answered no labelled frame).
     */
    private boolean compareSwap(List<Application> apps, SwapComparison swaps, LabelledImages test) {
        Application by = null;
        Recalibrator.Outcome last = null;
        for (Application a : apps) {
            for (Recalibrator.Outcome o : a.recalibrator().outcomes()) {
                // the version that answered the most drifted frames: the one swapped in on the drift, usually
                if (o.result() == Recalibrator.Result.ACCEPTED && (last == null || swaps.frames(o.toVersion())
                        > swaps.frames(last.toVersion()))) {
                    last = o;
                    by = a;
                }
            }
        }
        if (last == null) {
            return false;
        }
        ProcessorConfig processor = by.pool().configs().get(0);
        Path teacher = settings.model().checkpoint();
        try {
            SwapComparison.Figures f = swaps.measure(last, by.registry().load(last.fromVersion()),
                    by.registry().load(last.toVersion()), processor, teacher, test);
            if (f == null) {
                return false;
            }
            SwapComparison.print(out, last, f, processor, teacher);
            return true;
        } catch (IOException | RuntimeException e) {
            out.println("the swapped-in model against recalibration alone and the teacher: not measured (" + e.getMessage() + ")");
            return true;
        }
    }

    /**
     * The reference the adapted model is judged against when no model was swapped in: the FP32
     * teacher (the configured float checkpoint, run by DJL) on 2,000 test images with the same drift.
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
