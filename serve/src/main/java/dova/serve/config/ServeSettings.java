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
    public record Kafka(String bootstrapServers, String framesTopic, String resultsTopic, String deadLetterTopic,
                        String groupId, int partitions, boolean createTopics) {
        public boolean embedded() {
            return bootstrapServers.isBlank();
        }
    }

    /** @param checkpoint QAT checkpoint of the initial model, or null (no retraining) */
    public record Model(Path registry, Path initial, Path checkpoint) {
    }

    public record Pool(List<ProcessorConfig> processors, int parallelism) {
    }

    public record Http(String host, int port) {
    }

    public record Calibration(int sampleEvery, int window, double psiThreshold, double percentile) {
    }

    public record Recalibration(boolean enabled, Duration minInterval, int recentFrames, double maxRegression,
                                boolean retrain, int retrainEpochs) {
    }

    public record Demo(Duration duration, int cameras, double framesPerSecond, String data, Path dataDir, String drift,
                       Duration driftAfter, double driftStrength) {
    }

    private static final Set<String> KNOWN = Set.of(
            "kafka.bootstrap-servers", "kafka.frames-topic", "kafka.results-topic", "kafka.dead-letter-topic",
            "kafka.group-id", "kafka.partitions", "kafka.create-topics",
            "model.registry", "model.initial", "model.checkpoint",
            "pool.processors", "pool.parallelism",
            "http.host", "http.port",
            "calibration.sample-every", "calibration.window", "calibration.psi-threshold", "calibration.percentile",
            "recalibration.enabled", "recalibration.min-interval", "recalibration.recent-frames",
            "recalibration.max-regression", "recalibration.retrain", "recalibration.retrain-epochs",
            "demo.duration", "demo.cameras", "demo.frames-per-second", "demo.data", "demo.data-dir", "demo.drift",
            "demo.drift-after", "demo.drift-strength");

    /** application.conf + environment + system properties. */
    public static ServeSettings load() {
        ConfigFactory.invalidateCaches();
        return from(ConfigFactory.load());
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
                            c.getString("kafka.group-id"), positive(c, "kafka.partitions"),
                            c.getBoolean("kafka.create-topics")),
                    new Model(Path.of(c.getString("model.registry")), Path.of(c.getString("model.initial")),
                            c.getString("model.checkpoint").isBlank() ? null : Path.of(c.getString("model.checkpoint"))),
                    new Pool(List.copyOf(processors), positive(c, "pool.parallelism")),
                    new Http(c.getString("http.host"), port(c)),
                    new Calibration(positive(c, "calibration.sample-every"), positive(c, "calibration.window"),
                            c.getDouble("calibration.psi-threshold"), c.getDouble("calibration.percentile")),
                    new Recalibration(c.getBoolean("recalibration.enabled"), c.getDuration("recalibration.min-interval"),
                            positive(c, "recalibration.recent-frames"), c.getDouble("recalibration.max-regression"),
                            c.getBoolean("recalibration.retrain"), positive(c, "recalibration.retrain-epochs")),
                    new Demo(c.getDuration("demo.duration"), positive(c, "demo.cameras"),
                            c.getDouble("demo.frames-per-second"), c.getString("demo.data"),
                            Path.of(c.getString("demo.data-dir")), c.getString("demo.drift"),
                            c.getDuration("demo.drift-after"), c.getDouble("demo.drift-strength")));
            if (!(s.calibration().percentile() > 0 && s.calibration().percentile() <= 1)) {
                throw new IllegalArgumentException("dova.calibration.percentile must be in (0, 1], got "
                        + s.calibration().percentile());
            }
            return s;
        } catch (ConfigException e) {
            throw new IllegalArgumentException("configuration: " + e.getMessage(), e);
        }
    }

    private static int positive(Config c, String key) {
        int v = c.getInt(key);
        if (v < 1) {
            throw new IllegalArgumentException("dova." + key + " must be >= 1, got " + v);
        }
        return v;
    }

    private static int port(Config c) {
        int v = c.getInt("http.port");
        if (v < 0 || v > 65535) {
            throw new IllegalArgumentException("dova.http.port must be in [0, 65535], got " + v);
        }
        return v;
    }
}
