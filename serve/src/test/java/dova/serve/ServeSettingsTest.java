package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dova.serve.config.ServeSettings;
import dova.sim.Overflow;
import org.junit.jupiter.api.Test;

class ServeSettingsTest {
    private static String error(String overrides) {
        return assertThrows(IllegalArgumentException.class, () -> ServeSettings.from(
                ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()).resolve())).getMessage();
    }

    @Test
    void defaultsLoad() {
        ServeSettings s = ServeSettings.from(ConfigFactory.load());
        assertTrue(s.kafka().embedded());
        assertEquals(2, s.pool().processors().size());
        assertEquals(16, s.pool().processors().get(0).accumulatorBits());
        assertEquals(Overflow.WRAP, s.pool().processors().get(0).overflow());
        assertEquals("127.0.0.1", s.http().host());
    }

    @Test
    void kafkaClientSettingsAreReadAndChecked() {
        ServeSettings.Client c = ServeSettings.from(ConfigFactory.load()).kafka().client();
        assertEquals("earliest", c.autoOffsetReset());
        assertEquals(200, c.commitMaxBatch());
        assertEquals(200 * 2 + 2 * 16, c.inFlightBound(16), "open batch + one in commit + pool + producer");
        ServeSettings t = ServeSettings.from(ConfigFactory.parseString("dova.kafka.commit-max-batch = 50\n"
                + "dova.kafka.commit-parallelism = 3\ndova.kafka.producer-linger = 0ms").withFallback(ConfigFactory.load()).resolve());
        assertEquals(50 * 4 + 2 * 8, t.kafka().client().inFlightBound(8));
        assertEquals(0, t.kafka().client().producerLinger().toMillis());
        assertTrue(error("dova.kafka.auto-offset-reset = newest").contains("DOVA_KAFKA_AUTO_OFFSET_RESET"));
        assertTrue(error("dova.kafka.commit-max-batch = 0").contains("dova.kafka.commit-max-batch (DOVA_KAFKA_COMMIT_MAX_BATCH)"));
        assertTrue(error("dova.kafka.commit-max-interval = 0s").contains("commit-max-interval"));
        assertTrue(error("dova.kafka.max-poll-records = -5").contains("max-poll-records"));
        assertEquals(45, c.sessionTimeout().toSeconds(), "Kafka's own default");
        assertTrue(error("dova.kafka.session-timeout = 2s").contains("dova.kafka.session-timeout (DOVA_KAFKA_SESSION_TIMEOUT)"),
                "under the broker's group.min.session.timeout.ms");
        assertTrue(error("dova.recalibration.recent-frames = 10").contains("dova.calibration.window"),
                "recent frames fewer than a window");
        assertTrue(error("dova.recalibration.period = -5s").contains("DOVA_RECALIBRATION_PERIOD"));
        assertTrue(ServeSettings.from(ConfigFactory.load()).recalibration().period().isZero(), "periodic retraining off by default");
    }

    @Test
    void theProcessorListComesFromTheEnvironmentAsJson() throws Exception {
        var m = ServeSettings.class.getDeclaredMethod("environmentLists", java.util.Map.class);
        m.setAccessible(true);
        com.typesafe.config.Config env = (com.typesafe.config.Config) m.invoke(null,
                java.util.Map.of("DOVA_POOL_PROCESSORS", "[{\"acc-bits\":12,\"mul-bits\":8,\"overflow\":\"saturate\"}]"));
        ServeSettings s = ServeSettings.from(env.withFallback(ConfigFactory.load()).resolve());
        assertEquals(1, s.pool().processors().size());
        assertEquals(12, s.pool().processors().get(0).accumulatorBits());
        assertEquals(Overflow.SATURATE, s.pool().processors().get(0).overflow());
        var bad = assertThrows(java.lang.reflect.InvocationTargetException.class,
                () -> m.invoke(null, java.util.Map.of("DOVA_POOL_PROCESSORS", "[{oops")));
        assertTrue(bad.getCause().getMessage().contains("DOVA_POOL_PROCESSORS must be a list"), bad.getCause().getMessage());
    }

    @Test
    void unknownSettingIsNamed() {
        String m = error("dova.kafka.bootstrap-server = \"x:9092\"");
        assertTrue(m.contains("dova.kafka.bootstrap-server") && m.contains("unknown"), m);
    }

    @Test
    void illTypedSettingIsNamed() {
        String m = error("dova.http.port = \"eighty\"");
        assertTrue(m.contains("http.port"), m);
        assertTrue(error("dova.http.port = 70000").contains("dova.http.port"));
        assertTrue(error("dova.pool.parallelism = 0").contains("dova.pool.parallelism"));
    }

    @Test
    void badProcessorIsNamedByIndex() {
        String m = error("dova.pool.processors = [{acc-bits = 16, mul-bits = 12, overflow = wrap},"
                + " {acc-bits = 40, mul-bits = 12, overflow = wrap}]");
        assertTrue(m.contains("dova.pool.processors[1]") && m.contains("accumulatorBits"), m);
        String u = error("dova.pool.processors = [{acc-bits = 16, mul-bits = 12, overflow = clip}]");
        assertTrue(u.contains("processors[0]") && u.contains("clip"), u);
        String k = error("dova.pool.processors = [{acc-bits = 16, mul-bits = 12, overflow = wrap, lanes = 4}]");
        assertTrue(k.contains("processors[0].lanes"), k);
    }

    @Test
    void rangesNameTheSettingAndItsVariable() {
        String m = error("dova.pool.parallelism = 600000000");
        assertTrue(m.contains("dova.pool.parallelism (DOVA_POOL_PARALLELISM) must be in [1, 65536], got 600000000"), m);
        for (String v : new String[] {"-1", "NaN", "0"}) {
            String p = error("dova.calibration.psi-threshold = " + (v.equals("NaN") ? "\"NaN\"" : v));
            assertTrue(p.contains("dova.calibration.psi-threshold") && p.contains("DOVA_CALIBRATION_PSI_THRESHOLD")
                    || p.contains("psi-threshold"), v + ": " + p);
        }
        assertTrue(error("dova.demo.frames-per-second = 0").contains("DOVA_DEMO_FPS"));
    }

    @Test
    void badBootstrapServersAreNamedWithoutAStackTrace() {
        for (String b : new String[] {"127.0.0.1", "127.0.0.1:notaport", "host:0", "a:9092,:9093"}) {
            String m = error("dova.kafka.bootstrap-servers = \"" + b + "\"");
            assertTrue(m.contains("dova.kafka.bootstrap-servers (DOVA_KAFKA_BOOTSTRAP_SERVERS)"), b + ": " + m);
        }
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> ServeSettings.from(ConfigFactory.parseString(
                "dova.kafka.bootstrap-servers = \"a:9092, b.example:19092\"").withFallback(ConfigFactory.load()).resolve()));
    }

    @Test
    void misspelledEnvironmentVariablesAreReported() {
        java.util.List<String> unknown = ServeSettings.unknownEnvironment(java.util.Map.of("DOVA_POOL_PARALELISM", "4",
                "DOVA_POOL_PARALLELISM", "4", "DOVA_DEMO_FPS", "10", "DOVA_SKIP_BUILD", "1", "HOME", "/root"));
        assertEquals(java.util.List.of("DOVA_POOL_PARALELISM"), unknown);
    }

    @Test
    void everyVariableInApplicationConfIsKnown() throws Exception {
        String conf = new String(ServeSettings.class.getResourceAsStream("/application.conf").readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{\\?(DOVA_[A-Z0-9_]+)\\}").matcher(conf);
        java.util.Map<String, String> env = new java.util.HashMap<>();
        while (m.find()) {
            env.put(m.group(1), "x");
        }
        assertTrue(env.size() > 10, "variables found: " + env.keySet());
        assertEquals(java.util.List.of(), ServeSettings.unknownEnvironment(env), "variables application.conf reads");
    }

    @Test
    void instanceIdIsReadForStaticMembership() {
        assertEquals("", ServeSettings.from(ConfigFactory.load()).kafka().instanceId(), "dynamic membership by default");
        assertEquals("dova-serve-7f9c", ServeSettings.from(ConfigFactory.parseString("dova.kafka.instance-id = \" dova-serve-7f9c \"")
                .withFallback(ConfigFactory.load()).resolve()).kafka().instanceId());
        assertEquals("DOVA_KAFKA_INSTANCE_ID", ServeSettings.envName("kafka.instance-id"));
    }
}
