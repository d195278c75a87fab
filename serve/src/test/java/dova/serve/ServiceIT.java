package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.config.ServeSettings;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole service on a real embedded broker: frames in, results and dead letters out, metrics, start-up errors. */
class ServiceIT {
    static EmbeddedKafka kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    static ServeSettings settings(String extra) {
        return ServeSettings.from(ConfigFactory.parseString(
                "dova.http.port = 0\n"
                        + "dova.model.initial = \"../models/lenet-mnist-a16m12-wrap.dova\"\n"
                        + "dova.model.checkpoint = \"../models/lenet-mnist-a16m12-wrap-qat.ckpt\"\n"
                        + "dova.calibration.window = 50\n" + extra)
                .withFallback(ConfigFactory.load()).resolve());
    }

    /** Scrapes the live service's /metrics (also used by the k8s module's tests). */
    public static String scrape(int port, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + "\n" + r.body();
    }

    /** The oversized record's dead letter: a prefix of its bytes, its length and hash in headers. */
    private static void assertBoundedDeadLetter(String topic, int originalLength) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", kafka.bootstrapServers());
        c.put("group.id", "dlq-reader-" + System.nanoTime());
        c.put("auto.offset.reset", "earliest");
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> k = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                c, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            k.subscribe(java.util.List.of(topic));
            long deadline = System.currentTimeMillis() + 20_000;
            while (System.currentTimeMillis() < deadline) {
                for (var r : k.poll(java.time.Duration.ofMillis(200))) {
                    var h = r.headers().lastHeader(dova.ingest.kafka.KafkaFrames.ORIGINAL_LENGTH_HEADER);
                    if (h != null) {
                        assertEquals(Integer.toString(originalLength), new String(h.value(), java.nio.charset.StandardCharsets.UTF_8));
                        assertEquals(dova.ingest.kafka.KafkaFrames.DEAD_LETTER_PREFIX_BYTES, r.value().length);
                        assertTrue(r.headers().lastHeader(dova.ingest.kafka.KafkaFrames.ORIGINAL_SHA256_HEADER) != null);
                        return;
                    }
                }
            }
        }
        throw new AssertionError("no bounded dead letter for the oversized record in " + topic);
    }

    @Test
    void framesBecomeResultsCorruptFramesBecomeDeadLettersAndMetricsAreServed(@TempDir Path dir) throws Exception {
        ServeSettings s = settings("dova.kafka.group-id = \"it-a\"\ndova.kafka.frames-topic = \"f-a\"\n"
                + "dova.kafka.results-topic = \"r-a\"\ndova.kafka.dead-letter-topic = \"d-a\"");
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST).head(300);
        AtomicInteger correct = new AtomicInteger();
        AtomicInteger results = new AtomicInteger();
        try (Application app = Application.start(s, dir.resolve("registry"), kafka.bootstrapServers(),
                (frame, inf, e2e) -> {
                    results.incrementAndGet();
                    if (inf.predicted() == frame.label()) {
                        correct.incrementAndGet();
                    }
                }, null)) {
            assertTrue(scrape(app.endpoints().port(), "/health").startsWith("200"));
            FrameCodec codec = FrameCodec.defaults();
            Map<String, Object> c = new HashMap<>();
            c.put("bootstrap.servers", kafka.bootstrapServers());
            c.put("max.request.size", 2 << 20);
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                // a record that fits the topic but whose dead letter, with its headers, would not fit the
                // service's producer (1,048,576 bytes): it once stopped the stream for good
                byte[] huge = new byte[1_048_376];
                Arrays.fill(huge, (byte) 7);
                p.send(new ProducerRecord<>("f-a", "cam-huge", huge)).get();
                // a decompression bomb: a small PNG frame whose IHDR declares 46000x46000 pixels (a ~2 GB raster)
                byte[] bomb = codec.encode(new Frame("cam-bomb", 0, 0, 28, 28, 1, new byte[784], -1), PixelFormat.PNG);
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(bomb);
                int ihdr = FrameCodec.HEADER_BYTES + 8;
                bb.putInt(ihdr + 8, 46000).putInt(ihdr + 12, 46000);
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                crc.update(bomb, ihdr + 4, 4 + 13);
                bb.putInt(ihdr + 8 + 13, (int) crc.getValue());
                p.send(new ProducerRecord<>("f-a", "cam-bomb", bomb)).get();
                for (int i = 0; i < test.count(); i++) {
                    byte[] px = Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
                    Frame f = new Frame("cam-" + (i % 3), i, System.currentTimeMillis(), 28, 28, 1, px, test.label(i));
                    p.send(new ProducerRecord<>("f-a", f.cameraId(), codec.encode(f, i % 2 == 0 ? PixelFormat.RAW8
                            : PixelFormat.PNG)));
                    if (i % 100 == 0) {
                        p.send(new ProducerRecord<>("f-a", "cam-bad", Arrays.copyOf(codec.encode(f, PixelFormat.RAW8), 40)));
                        Frame wrongSize = new Frame("cam-9", i, 0, 32, 32, 1, new byte[1024], -1);
                        p.send(new ProducerRecord<>("f-a", "cam-9", codec.encode(wrongSize, PixelFormat.RAW8)));
                        // the model's pixel count in the wrong shape: dead letters too, not 28x28 answers
                        p.send(new ProducerRecord<>("f-a", "cam-9", codec.encode(new Frame("cam-9", i, 0, 56, 14, 1, px, -1),
                                PixelFormat.RAW8)));
                        p.send(new ProducerRecord<>("f-a", "cam-9", codec.encode(new Frame("cam-9", i, 0, 784, 1, 1, px, -1),
                                PixelFormat.RAW8)));
                    }
                }
            }
            long deadline = System.currentTimeMillis() + 60_000;
            while (results.get() < test.count() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(test.count(), results.get(), "one result per good frame");
            assertTrue(correct.get() >= 0.97 * test.count(), "accuracy on the processor: " + correct.get());
            String metrics = scrape(app.endpoints().port(), "/metrics");
            assertTrue(metrics.startsWith("200"));
            // labelled with the model and the version that computed them, as Triton labels its metrics
            assertTrue(metrics.contains("dova_results_out_total{model=\"lenet-mnist-a16m12-wrap\",version=\"1\"} 300.0"), metrics);
            assertTrue(metrics.contains("dova_frames_failed_total{reason=\"TRUNCATED\"} 3.0"), metrics);
            assertTrue(metrics.contains("dova_frames_failed_total{reason=\"MODEL_INPUT_MISMATCH\"} 9.0"), metrics);
            assertTrue(metrics.contains("dova_frames_failed_total{reason=\"BAD_MAGIC\"} 1.0"), metrics);
            assertTrue(metrics.contains("dova_frames_failed_total{reason=\"WRONG_DIMENSIONS\"} 1.0"),
                    "the PNG bomb is dead-lettered from its declared size, and the stream goes on: " + metrics);
            assertBoundedDeadLetter("d-a", 1_048_376);
            assertTrue(metrics.contains("dova_latency_end_to_end_seconds_bucket"), metrics);
            assertTrue(scrape(app.endpoints().port(), "/ready").startsWith("200"));
            assertTrue(scrape(app.endpoints().port(), "/v2/health/ready").startsWith("200"));
            assertTrue(scrape(app.endpoints().port(), "/v2/health/live").startsWith("200"));
            // JVM and process metrics, a dozen latency buckets, no placeholder series
            assertTrue(metrics.contains("jvm_memory_used_bytes") && metrics.contains("process_cpu_usage")
                    && metrics.contains("jvm_gc_"), "JVM and process binders");
            long buckets = metrics.lines().filter(l -> l.startsWith("dova_latency_end_to_end_seconds_bucket")).count();
            assertTrue(buckets >= 10 && buckets <= 14, buckets + " end-to-end latency buckets");
            assertTrue(!metrics.contains("reason=\"none\""), "no placeholder reason series");
            assertTrue(metrics.contains("dova_simulated_cycles_total"), "simulated cycles beside host compute time");
            assertTrue(metrics.contains("dova_kafka_assigned_partitions 4.0"), "ready with the 4 partitions held");
            assertTrue(metrics.contains("kafka_consumer_fetch_manager_records_consumed_total")
                    && metrics.contains("kafka_producer_record_send_total"), "the Kafka clients' own metrics");
        }
    }

    @Test
    void portInUseStopsStartUpNamingTheSetting(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ServeSettings s = settings("dova.http.port = " + taken.getLocalPort());
            String m = assertThrows(IllegalArgumentException.class,
                    () -> Application.start(s, dir.resolve("r"), kafka.bootstrapServers(), null, null)).getMessage();
            assertTrue(m.contains("dova.http.port"), m);
        }
    }

    @Test
    void unreachableBrokerStopsStartUpNamingTheSetting(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ServeSettings s = settings("");
        String m = assertThrows(IllegalArgumentException.class,
                () -> Application.start(s, dir.resolve("r"), "127.0.0.1:" + port, null, null)).getMessage();
        assertTrue(m.contains("dova.kafka.bootstrap-servers"), m);
    }

    @Test
    void missingModelStopsStartUpNamingTheSetting(@TempDir Path dir) {
        ServeSettings s = settings("dova.model.initial = \"nowhere.dova\"");
        String m = assertThrows(java.io.IOException.class,
                () -> Application.start(s, dir.resolve("r"), kafka.bootstrapServers(), null, null)).getMessage();
        assertTrue(m.contains("dova.model.initial"), m);
    }
}
