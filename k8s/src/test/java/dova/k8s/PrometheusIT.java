package dova.k8s;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.Application;
import dova.serve.config.ServeSettings;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's {@code prometheus}, on loopback) scrapes the running
 * service every second while a labelled stream flows; then every PromQL expression of the
 * Grafana dashboard and of the alert rules (each alert without its threshold) is evaluated
 * through Prometheus's HTTP API and must return a finite value. A renamed metric, a broken
 * query or a gauge that is never set fails the build.
 */
class PrometheusIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Dashboard targets and alert expressions (the alert's comparison with its threshold removed). */
    static Map<String, String> expressions() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode d = Kustomize.JSON.readTree(ManifestsTest.K8S.resolve("base/dashboards/dova.json").toFile());
        for (JsonNode panel : d.path("panels")) {
            int n = 0;
            for (JsonNode t : panel.path("targets")) {
                if (t.has("expr")) {
                    out.put("panel '" + panel.path("title").asText() + "' target " + n++, t.path("expr").asText()
                            .replace("$__rate_interval", "1m").replace("$__interval", "15s"));
                }
            }
        }
        JsonNode rule = ManifestsTest.one(Kustomize.render(ManifestsTest.K8S.resolve("base")), "PrometheusRule", "dova-serve");
        for (JsonNode g : rule.path("spec").path("groups")) {
            for (JsonNode r : g.path("rules")) {
                String e = r.path("expr").asText().replaceAll("\\s*(>|<|>=|<=|==|!=)\\s*[0-9.e+-]+\\s*$", "");
                out.put("alert " + r.path("alert").asText(), e);
            }
        }
        return out;
    }

    private static JsonNode query(int port, String expr) throws Exception {
        String url = "http://127.0.0.1:" + port + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8);
        return Kustomize.JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    @Test
    void everyDashboardAndAlertQueryReturnsDataFromARealPrometheus(@TempDir Path dir) throws Exception {
        Map<String, String> exprs = expressions();
        assertTrue(exprs.size() >= 20, "expressions found: " + exprs.size());
        ServeSettings s = ServeSettings.from(ConfigFactory.parseString("dova.http.port = 0\n"
                + "dova.model.initial = \"../models/lenet-mnist-a16m12-wrap.dova\"\n"
                + "dova.model.checkpoint = \"\"\n"
                + "dova.calibration.window = 10\ndova.calibration.sample-every = 1\n"
                + "dova.recalibration.recent-frames = 10").withFallback(ConfigFactory.load()).resolve());
        AtomicBoolean stop = new AtomicBoolean();
        Process prometheus = null;
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             Application app = Application.start(s, dir.resolve("registry"), kafka.bootstrapServers(), null, null)) {
            int promPort = freePort();
            Path cfg = dir.resolve("prometheus.yml");
            Files.writeString(cfg, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                    + "  - job_name: dova\n    static_configs:\n      - targets: ['127.0.0.1:" + app.endpoints().port() + "']\n");
            try {
                prometheus = new ProcessBuilder("prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + dir.resolve("tsdb"),
                        "--web.listen-address=127.0.0.1:" + promPort).redirectErrorStream(true)
                        .redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            } catch (java.io.IOException e) {
                throw new AssertionError("prometheus is needed (Debian package prometheus; .ci/run installs it): " + e.getMessage());
            }
            Thread cameras = new Thread(() -> publish(kafka.bootstrapServers(), s.kafka().framesTopic(), stop), "cameras");
            cameras.start();
            // Prometheus up, and at least 20 s of scrapes so that every rate has samples
            long deadline = System.currentTimeMillis() + 60_000;
            JsonNode up = null;
            while (System.currentTimeMillis() < deadline) {
                try {
                    up = query(promPort, "up{job=\"dova\"} == 1");
                    if (up.path("data").path("result").size() > 0) {
                        break;
                    }
                } catch (java.io.IOException e) {
                    // not listening yet
                }
                Thread.sleep(500);
            }
            assertTrue(up != null && up.path("data").path("result").size() > 0, "Prometheus scrapes the service: "
                    + Files.readString(dir.resolve("prometheus.log")));
            Thread.sleep(20_000);
            List<String> failures = new ArrayList<>();
            for (Map.Entry<String, String> e : exprs.entrySet()) {
                JsonNode r = query(promPort, e.getValue());
                JsonNode result = r.path("data").path("result");
                boolean finite = result.size() > 0;
                for (JsonNode series : result) {
                    String v = series.path("value").path(1).asText();
                    finite &= !v.equals("NaN") && !v.contains("Inf");
                }
                if (!"success".equals(r.path("status").asText()) || !finite) {
                    failures.add(e.getKey() + ": " + e.getValue() + " -> " + r);
                }
            }
            stop.set(true); // the cameras stop before the broker closes
            cameras.join(10_000);
            assertTrue(failures.isEmpty(), failures.size() + " of " + exprs.size() + " queries returned no finite data:\n"
                    + String.join("\n", failures));
        } finally {
            stop.set(true);
            if (prometheus != null) {
                prometheus.destroy();
                prometheus.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** 50 labelled frames a second (and one undecodable record a second) until stopped. */
    private static void publish(String bootstrap, String topic, AtomicBoolean stop) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        Random r = new Random(1);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; !stop.get(); i++) {
                byte[] px = new byte[784];
                r.nextBytes(px);
                p.send(new ProducerRecord<>(topic, "cam-" + (i % 4), FrameCodec.defaults().encode(
                        new Frame("cam-" + (i % 4), i, System.currentTimeMillis(), 28, 28, 1, px, i % 10), PixelFormat.RAW8)));
                if (i % 50 == 0) {
                    p.send(new ProducerRecord<>(topic, "cam-0", new byte[] {1, 2, 3}));
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
