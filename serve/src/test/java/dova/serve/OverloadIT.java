package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overload: a backlog of 60,000 frames already in Kafka when the service (a child JVM with a
 * 160 MB heap) starts, so it consumes as fast as it can for the whole run. Back-pressure must
 * keep the heap bounded: the heap in use (from the service's own /metrics) stays under 90% of
 * the limit, the process never dies, and every frame is answered. Writes its row to
 * {@code target/overload-results.txt} (docs/results/reliability.md).
 */
@Tag("slow")
class OverloadIT {
    private static final int FRAMES = 60_000;
    private static final long HEAP_MB = 160;

    @Test
    void aBacklogFarBeyondThePoolKeepsTheHeapBoundedAndLosesNothing(@TempDir Path dir) throws Exception {
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(4, "load-frames", "load-results", "load-dead");
            Map<String, Object> c = new HashMap<>();
            c.put("bootstrap.servers", kafka.bootstrapServers());
            c.put("linger.ms", 20);
            FrameCodec codec = FrameCodec.defaults();
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < FRAMES; i++) {
                    int img = i % test.count();
                    byte[] px = Arrays.copyOfRange(test.pixels(), img * 784, (img + 1) * 784);
                    Frame f = new Frame("cam-" + (i % 4), i, System.currentTimeMillis(), 28, 28, 1, px, test.label(img));
                    p.send(new ProducerRecord<>("load-frames", i % 4, f.cameraId(), codec.encode(f, PixelFormat.RAW8)));
                }
            }
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Process service = ChildService.start(kafka.bootstrapServers(), dir, "serve.log", HEAP_MB + "m", port,
                    Map.of("DOVA_KAFKA_FRAMES_TOPIC", "load-frames", "DOVA_KAFKA_RESULTS_TOPIC", "load-results",
                            "DOVA_KAFKA_DEAD_LETTER_TOPIC", "load-dead", "DOVA_KAFKA_GROUP_ID", "load"));
            long maxHeap = 0;
            long maxLive = 0;
            long answered = 0;
            long start = System.nanoTime();
            try (KafkaConsumer<String, byte[]> results = consumer(kafka.bootstrapServers())) {
                results.subscribe(List.of("load-results"));
                while (answered < FRAMES && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(240)) {
                    assertTrue(service.isAlive(), "the service died: " + Files.readString(dir.resolve("serve.log")));
                    answered += results.poll(Duration.ofMillis(500)).count();
                    String m = metrics(port);
                    maxHeap = Math.max(maxHeap, sum(m, "jvm_memory_used_bytes{", "area=\"heap\""));
                    maxLive = Math.max(maxLive, sum(m, "jvm_gc_live_data_size_bytes", ""));
                }
            } finally {
                service.destroy();
                service.waitFor(30, TimeUnit.SECONDS);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            String row = String.format(Locale.ROOT, "| backlog of %,d frames at start, service heap limited to %d MB | %,d frames"
                    + " | %d | - | - | live heap after GC at most %.0f MB (%.0f%% of the limit; heap in use before"
                    + " collections at most %.0f MB); all answered in %.0f s |",
                    FRAMES, HEAP_MB, FRAMES, FRAMES - answered, maxLive / 1e6, 100.0 * maxLive / (HEAP_MB << 20),
                    maxHeap / 1e6, seconds);
            System.out.println(row);
            Files.writeString(Path.of("target", "overload-results.txt"), row + "\n", StandardCharsets.UTF_8);
            assertEquals(FRAMES, answered, "results for every frame");
            assertTrue(maxHeap > 0 && maxLive > 0, "the heap was measured");
            assertTrue(maxLive < 0.5 * (HEAP_MB << 20), "live heap after GC " + maxLive + " bytes");
        }
    }

    private static KafkaConsumer<String, byte[]> consumer(String bootstrap) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("group.id", "load-checker");
        c.put("auto.offset.reset", "earliest");
        return new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static String metrics(int port) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/metrics")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return ""; // not up yet
        }
    }

    /** The sum of the samples whose line starts with {@code prefix} and contains {@code label}. */
    private static long sum(String metrics, String prefix, String label) {
        double sum = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix) && line.contains(label)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) sum;
    }
}
