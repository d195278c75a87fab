package dova.k8s;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.Application;
import dova.serve.config.ServeSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric that the Grafana dashboard and the alert rules query is really exported: a
 * renamed metric breaks the build. Checked against a live /metrics scrape of the running service.
 */
class LiveMetricsIT {
    @Test
    void everyReferencedMetricIsExported(@TempDir Path dir) throws Exception {
        Set<String> referenced = ManifestsTest.referencedMetrics();
        assertTrue(referenced.size() >= 15, "metrics referenced: " + referenced);
        ServeSettings s = ServeSettings.from(ConfigFactory.parseString("dova.http.port = 0\n"
                + "dova.model.initial = \"../models/lenet-mnist-a16m12-wrap.dova\"\n"
                + "dova.model.checkpoint = \"../models/lenet-mnist-a16m12-wrap-qat.ckpt\"\n"
                + "dova.calibration.window = 10\ndova.calibration.sample-every = 1").withFallback(ConfigFactory.load())
                .resolve());
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             Application app = Application.start(s, dir.resolve("registry"), kafka.bootstrapServers(), null, null)) {
            Map<String, Object> c = new HashMap<>();
            c.put("bootstrap.servers", kafka.bootstrapServers());
            Random r = new Random(1);
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < 40; i++) {
                    byte[] px = new byte[784];
                    r.nextBytes(px);
                    p.send(new ProducerRecord<>(s.kafka().framesTopic(), "cam", FrameCodec.defaults().encode(
                            new Frame("cam", i, System.currentTimeMillis(), 28, 28, 1, px, i % 10), PixelFormat.RAW8)));
                }
            }
            long deadline = System.currentTimeMillis() + 60_000;
            while (app.metrics().resultsOut() < 40 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            Thread.sleep(500); // the calibration branch is asynchronous
            String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + app.endpoints().port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Set<String> exported = new HashSet<>();
            for (String line : body.split("\n")) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    exported.add(line.split("[{ ]", 2)[0]);
                }
            }
            Set<String> missing = new TreeSet<>(referenced);
            missing.removeAll(exported);
            assertTrue(missing.isEmpty(), "referenced by the dashboard or alerts but not exported: " + missing
                    + "\nexported: " + new TreeSet<>(exported));
        }
    }
}
