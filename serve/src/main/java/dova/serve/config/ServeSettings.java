package dova.serve.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The service's settings: immutable values read once from HOCON ({@code application.conf},
 * overridable by environment variables and {@code -D} properties). An unknown key or an
 * ill-typed value stops start-up with a {@link IllegalArgumentException} naming the setting.
 */
public record ServeSettings(Kafka kafka, Model model, Pool pool, Http http, Calibration calibration,
                            Recalibration recalibration, Demo demo) {
    /**
     * @param instanceId static group membership id ({@code group.instance.id}), or "" for dynamic membership
     * @param client the consumer, producer and committer settings of the stream
     */
    public record Kafka(String bootstrapServers, String framesTopic, String resultsTopic, String deadLetterTopic,
                        String groupId, String instanceId, int partitions, boolean createTopics, Client client) {
        public boolean embedded() {
            return bootstrapServers.isBlank();
        }
    }

    /**
     * How the stream talks to Kafka. Results written but not yet committed are re-processed after
     * a crash, so {@link #inFlightBound(int)} bounds the duplicates one crash can cause.
     *
     * @param autoOffsetReset where a group with no committed offset starts: earliest or latest
     * @param maxPollRecords records per consumer poll
     * @param producerLinger how long the producer waits to batch results
     * @param commitMaxBatch offsets per commit
     * @param commitMaxInterval longest wait before a partial batch is committed
     * @param commitParallelism commit requests in flight at once
     * @param drainTimeout how long a shutdown waits for the frames in flight to finish and commit
     *     (shorter than Kubernetes' termination grace period, so that the pod is not killed mid-drain)
     * @param sessionTimeout how long the group waits for a member that stopped heartbeating (a
     *     killed replica) before its partitions go to the others
     */
    public record Client(String autoOffsetReset, int maxPollRecords, Duration producerLinger, int commitMaxBatch,
                         Duration commitMaxInterval, int commitParallelism, Duration drainTimeout, Duration sessionTimeout) {
        /**
         * Frames whose result may be written while their offset is not committed, at most: the
         * committer's open batch and the batches it is committing, the frames the pool works on,
         * and the results the producer has sent but not seen acknowledged (as many as the pool's).
         */
        public long inFlightBound(int poolParallelism) {
            return (long) commitMaxBatch * (commitParallelism + 1) + 2L * poolParallelism;
        }
    }

    /**
     * @param registry the replica's own folder of versions (with {@code shared}, its cache of the fleet's topic)
     * @param checkpoint QAT checkpoint of the initial model, or null (no retraining)
     * @param trust who may publish the models the registry serves (its key never appears in toString)
     * @param shared whether the versions and the serving pointer live on the fleet's compacted topic
     *     {@code <frames-topic>-models} ({@code FleetRegistry}), so that every replica serves one version
     */
    public record Model(Path registry, Path initial, Path checkpoint, dova.serve.registry.ModelTrust trust, boolean shared) {
    }

    public record Pool(List<ProcessorConfig> processors, int parallelism) {
    }

    public record Http(String host, int port) {
    }

    public record Calibration(int sampleEvery, int window, double psiThreshold, double percentile) {
    }

    /** @param period also attempt on this schedule without drift (since the last attempt or the start); zero: off */
    public record Recalibration(boolean enabled, Duration minInterval, int recentFrames, double maxRegression,
                                boolean retrain, int retrainEpochs, Duration period) {
    }

    /** @param sendLabels whether the replayed frames carry their labels (false: kept aside to measure accuracy) */
    public record Demo(Duration duration, int cameras, double framesPerSecond, String data, Path dataDir, String drift,
                       Duration driftAfter, double driftStrength, boolean sendLabels) {
    }

    private static boolean demoLabels(String v) {
        return switch (v) {
            case "sent" -> true;
            case "withheld" -> false;
            default -> throw new IllegalArgumentException("dova.demo.labels (DOVA_DEMO_LABELS) must be sent or withheld, got '"
                    + v + "'");
        };
    }

    private static final Set<String> KNOWN = Set.of(
            "kafka.bootstrap-servers", "kafka.frames-topic", "kafka.results-topic", "kafka.dead-letter-topic",
            "kafka.group-id", "kafka.instance-id", "kafka.partitions", "kafka.create-topics",
            "kafka.auto-offset-reset", "kafka.max-poll-records", "kafka.producer-linger", "kafka.commit-max-batch",
            "kafka.commit-max-interval", "kafka.commit-parallelism", "kafka.drain-timeout", "kafka.session-timeout",
            "model.registry", "model.initial", "model.checkpoint", "model.trust-key", "model.allow-unsigned",
            "model.shared",
            "pool.processors", "pool.parallelism",
            "http.host", "http.port",
            "calibration.sample-every", "calibration.window", "calibration.psi-threshold", "calibration.percentile",
            "recalibration.enabled", "recalibration.min-interval", "recalibration.recent-frames",
            "recalibration.max-regression", "recalibration.retrain", "recalibration.retrain-epochs", "recalibration.period",
            "demo.duration", "demo.cameras", "demo.frames-per-second", "demo.data", "demo.data-dir", "demo.drift",
            "demo.drift-after", "demo.drift-strength", "demo.labels");

    /** The environment variable that overrides each setting in application.conf, where it is not the derived name. */
    private static final Map<String, String> ENV_EXCEPTIONS = Map.of(
            "demo.frames-per-second", "DOVA_DEMO_FPS",
            "demo.data-dir", "DOVA_DATA_DIR");
    /** DOVA_* variables read by the launcher scripts rather than by the settings. */
    private static final Set<String> LAUNCHER_ENV = Set.of("DOVA_SKIP_BUILD", "DOVA_DIST", "DOVA_JAVA_OPTS");
    /** Largest pool parallelism: frames in flight, each holding its pixels in the pool's queue. */
    public static final int MAX_PARALLELISM = 65_536;

    /** The environment variable for setting {@code key} (without the {@code dova.} prefix). */
    public static String envName(String key) {
        return ENV_EXCEPTIONS.getOrDefault(key, "DOVA_" + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_')
                .replace('-', '_'));
    }

    /** The {@code DOVA_*} variables of {@code env} that no setting reads (most likely misspelled), sorted. */
    public static List<String> unknownEnvironment(Map<String, String> env) {
        Set<String> known = new TreeSet<>(LAUNCHER_ENV);
        KNOWN.forEach(k -> known.add(envName(k)));
        List<String> out = new ArrayList<>();
        for (String k : new TreeSet<>(env.keySet())) {
            if (k.startsWith("DOVA_") && !known.contains(k)) {
                out.add(k);
            }
        }
        return out;
    }

    /** application.conf + environment + system properties; unknown DOVA_* variables are reported on stderr. */
    public static ServeSettings load() {
        ConfigFactory.invalidateCaches();
        List<String> unknown = unknownEnvironment(System.getenv());
        if (!unknown.isEmpty()) {
            System.err.println("dova: ignoring unknown environment variable(s) " + unknown
                    + " (the settings and their variables are listed in serve/src/main/resources/application.conf)");
        }
        return from(environmentLists(System.getenv()).withFallback(ConfigFactory.load()).resolve());
    }

    /**
     * The list settings that an environment variable cannot fill through HOCON's {@code ${?VAR}}
     * (it substitutes strings): {@code DOVA_POOL_PROCESSORS} holds the processor list as JSON or
     * HOCON, e.g. {@code [{"acc-bits":16,"mul-bits":12,"overflow":"wrap"}]}.
     */
    static Config environmentLists(Map<String, String> env) {
        String procs = env.get(envName("pool.processors"));
        if (procs == null || procs.isBlank()) {
            return ConfigFactory.empty();
        }
        try {
            return ConfigFactory.parseString("dova.pool.processors = " + procs);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(envName("pool.processors") + " must be a list of processors such as"
                    + " [{\"acc-bits\":16,\"mul-bits\":12,\"overflow\":\"wrap\"}], got '" + procs + "': " + e.getMessage());
        }
    }

    public static ServeSettings from(Config root) {
        try {
            Config c = root.getConfig("dova");
            Set<String> unknown = new TreeSet<>();
            for (Map.Entry<String, ConfigValue> e : c.entrySet()) {
                if (!KNOWN.contains(e.getKey()) && !e.getKey().startsWith("pool.processors")) {
                    unknown.add("dova." + e.getKey());
                }
            }
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("unknown setting(s) " + unknown + " (check the spelling against"
                        + " serve/src/main/resources/application.conf)");
            }
            List<ProcessorConfig> processors = new ArrayList<>();
            int i = 0;
            for (Config p : c.getConfigList("pool.processors")) {
                String where = "dova.pool.processors[" + i++ + "]";
                for (String k : p.root().keySet()) {
                    if (!Set.of("acc-bits", "mul-bits", "overflow").contains(k)) {
                        throw new IllegalArgumentException("unknown setting " + where + "." + k
                                + " (known: acc-bits, mul-bits, overflow)");
                    }
                }
                try {
                    processors.add(ProcessorConfig.baseline()
                            .withAccumulator(p.getInt("acc-bits"), Overflow.parse(p.getString("overflow")))
                            .withMultiplierBits(p.getInt("mul-bits")));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage());
                }
            }
            if (processors.isEmpty()) {
                throw new IllegalArgumentException("dova.pool.processors must list at least one processor");
            }
            ServeSettings s = new ServeSettings(
                    new Kafka(c.getString("kafka.bootstrap-servers"), c.getString("kafka.frames-topic"),
                            c.getString("kafka.results-topic"), c.getString("kafka.dead-letter-topic"),
                            c.getString("kafka.group-id"), c.getString("kafka.instance-id").trim(), positive(c, "kafka.partitions"),
                            c.getBoolean("kafka.create-topics"), client(c)),
                    new Model(Path.of(c.getString("model.registry")), Path.of(c.getString("model.initial")),
                            c.getString("model.checkpoint").isBlank() ? null : Path.of(c.getString("model.checkpoint")),
                            dova.serve.registry.ModelTrust.of(c.getString("model.trust-key"),
                                    c.getBoolean("model.allow-unsigned")), c.getBoolean("model.shared")),
                    new Pool(List.copyOf(processors), bounded(c, "pool.parallelism", 1, MAX_PARALLELISM)),
                    new Http(c.getString("http.host"), port(c)),
                    new Calibration(positive(c, "calibration.sample-every"), positive(c, "calibration.window"),
                            c.getDouble("calibration.psi-threshold"), c.getDouble("calibration.percentile")),
                    new Recalibration(c.getBoolean("recalibration.enabled"), c.getDuration("recalibration.min-interval"),
                            positive(c, "recalibration.recent-frames"), c.getDouble("recalibration.max-regression"),
                            c.getBoolean("recalibration.retrain"), positive(c, "recalibration.retrain-epochs"),
                            c.getDuration("recalibration.period")),
                    new Demo(c.getDuration("demo.duration"), positive(c, "demo.cameras"),
                            c.getDouble("demo.frames-per-second"), c.getString("demo.data"),
                            Path.of(c.getString("demo.data-dir")), c.getString("demo.drift"),
                            c.getDuration("demo.drift-after"), c.getDouble("demo.drift-strength"),
                            demoLabels(c.getString("demo.labels"))));
            if (!(s.calibration().percentile() > 0 && s.calibration().percentile() <= 1)) {
                throw new IllegalArgumentException("dova.calibration.percentile must be in (0, 1], got "
                        + s.calibration().percentile());
            }
            positiveFinite("calibration.psi-threshold", s.calibration().psiThreshold());
            nonNegativeFinite("recalibration.max-regression", s.recalibration().maxRegression());
            if (s.recalibration().period().isNegative()) {
                throw new IllegalArgumentException("dova.recalibration.period (" + envName("recalibration.period")
                        + ") must be >= 0 (0: off), got " + s.recalibration().period());
            }
            positiveFinite("demo.frames-per-second", s.demo().framesPerSecond());
            nonNegativeFinite("demo.drift-strength", s.demo().driftStrength());
            if (s.recalibration().recentFrames() < s.calibration().window()) {
                throw new IllegalArgumentException("dova.recalibration.recent-frames (" + envName("recalibration.recent-frames")
                        + ") must be at least dova.calibration.window (" + s.calibration().window() + "), got "
                        + s.recalibration().recentFrames() + ": an attempt plans and judges on the recent frames");
            }
            checkBootstrap(s.kafka().bootstrapServers());
            return s;
        } catch (ConfigException e) {
            throw new IllegalArgumentException("configuration: " + e.getMessage(), e);
        }
    }

    private static Client client(Config c) {
        String reset = c.getString("kafka.auto-offset-reset");
        if (!reset.equals("earliest") && !reset.equals("latest")) {
            throw new IllegalArgumentException("dova.kafka.auto-offset-reset (" + envName("kafka.auto-offset-reset")
                    + ") must be earliest or latest, got '" + reset + "'");
        }
        Duration linger = c.getDuration("kafka.producer-linger");
        Duration interval = c.getDuration("kafka.commit-max-interval");
        if (linger.isNegative() || linger.toMillis() > 60_000) {
            throw new IllegalArgumentException("dova.kafka.producer-linger (" + envName("kafka.producer-linger")
                    + ") must be in [0, 60s], got " + linger);
        }
        if (interval.toMillis() < 1 || interval.toMillis() > 60_000) {
            throw new IllegalArgumentException("dova.kafka.commit-max-interval (" + envName("kafka.commit-max-interval")
                    + ") must be in [1ms, 60s], got " + interval);
        }
        Duration drain = c.getDuration("kafka.drain-timeout");
        if (drain.toMillis() < 1 || drain.toMinutes() > 10) {
            throw new IllegalArgumentException("dova.kafka.drain-timeout (" + envName("kafka.drain-timeout")
                    + ") must be in [1ms, 10m], got " + drain);
        }
        Duration session = c.getDuration("kafka.session-timeout");
        if (session.toMillis() < 6_000 || session.toMinutes() > 30) { // the broker's default group.{min,max}.session.timeout.ms
            throw new IllegalArgumentException("dova.kafka.session-timeout (" + envName("kafka.session-timeout")
                    + ") must be in [6s, 30m], got " + session);
        }
        return new Client(reset, bounded(c, "kafka.max-poll-records", 1, 100_000), linger,
                bounded(c, "kafka.commit-max-batch", 1, 100_000), interval, bounded(c, "kafka.commit-parallelism", 1, 1000),
                drain, session);
    }

    private static int positive(Config c, String key) {
        return bounded(c, key, 1, Integer.MAX_VALUE);
    }

    private static int bounded(Config c, String key, int lo, int hi) {
        int v = c.getInt(key);
        if (v < lo || v > hi) {
            throw new IllegalArgumentException("dova." + key + " (" + envName(key) + ") must be in [" + lo + ", " + hi
                    + "], got " + v);
        }
        return v;
    }

    private static void positiveFinite(String key, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("dova." + key + " (" + envName(key) + ") must be positive and finite, got " + v);
        }
    }

    private static void nonNegativeFinite(String key, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("dova." + key + " (" + envName(key) + ") must be >= 0 and finite, got " + v);
        }
    }

    /** Empty (the embedded broker), or a comma-separated list of host:port with ports in [1, 65535]. */
    private static void checkBootstrap(String servers) {
        if (servers.isBlank()) {
            return;
        }
        for (String hp : servers.split(",")) {
            String e = hp.trim();
            int colon = e.lastIndexOf(':');
            String why = null;
            if (colon <= 0 || colon == e.length() - 1) {
                why = "is not host:port";
            } else {
                try {
                    int port = Integer.parseInt(e.substring(colon + 1));
                    if (port < 1 || port > 65535) {
                        why = "has port " + port + " outside [1, 65535]";
                    }
                } catch (NumberFormatException x) {
                    why = "has port '" + e.substring(colon + 1) + "', not a number";
                }
            }
            if (why != null) {
                throw new IllegalArgumentException("dova.kafka.bootstrap-servers (" + envName("kafka.bootstrap-servers")
                        + "): '" + e + "' " + why + " (expected host:port[,host:port...], or empty for the embedded broker)");
            }
        }
    }

    private static int port(Config c) {
        int v = c.getInt("http.port");
        if (v < 0 || v > 65535) {
            throw new IllegalArgumentException("dova.http.port must be in [0, 65535], got " + v);
        }
        return v;
    }
}
