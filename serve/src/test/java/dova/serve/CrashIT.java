package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.config.ServeSettings;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
 * The service as a child JVM ({@code dova serve}) on a real broker, killed with SIGKILL at
 * seeded random moments while a labelled stream flows, and restarted each time with the same
 * static member id. Every frame must get a result (0 lost), every result must be the offline
 * simulator's class for that frame (0 wrong), the duplicates must stay within the frames one
 * crash can leave in flight ({@link ServeSettings.Client#inFlightBound}), and each restarted
 * service must write its first result within 10 s of the kill. Writes its table row to
 * {@code target/crash-results.txt} (docs/results/reliability.md).
 */
@Tag("slow")
class CrashIT {
    private static final int KILLS = 5;
    private static final int FRAMES = 24_000;
    private static final int FRAMES_PER_SECOND = 600;
    private static final String FRAMES_TOPIC = "crash-frames";
    private static final String RESULTS_TOPIC = "crash-results";
    private static final String MODEL = ChildService.MODEL;

    private record Result(long frameId, int cls, long timestamp) {
    }

    @Test
    void sigkillAtRandomMomentsLosesNothingAnswersRightAndRecoversInSeconds(@TempDir Path dir) throws Exception {
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST);
        IntegerModel model = ModelIo.read(Path.of(MODEL));
        ProcessorConfig processor = ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP).withMultiplierBits(12);
        Executor offline = Executor.fast(model, processor);
        int[] expected = new int[test.count()];
        for (int i = 0; i < test.count(); i++) {
            expected[i] = offline.run(test.pixels(), i * 784);
        }
        ServeSettings defaults = ServeSettings.from(ConfigFactory.load());
        long bound = defaults.kafka().client().inFlightBound(defaults.pool().parallelism());

        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(4, FRAMES_TOPIC, RESULTS_TOPIC, "crash-dead");
            Map<Long, List<Result>> results = new ConcurrentHashMap<>();
            AtomicLong total = new AtomicLong();
            AtomicLong wrong = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            Thread reader = new Thread(() -> read(kafka.bootstrapServers(), expected, results, total, wrong, stop), "results");
            reader.start();
            Thread writer = new Thread(() -> publish(kafka.bootstrapServers(), test, stop), "cameras");
            writer.start();

            Random rnd = new Random(20261201);
            List<Double> recovery = new ArrayList<>();
            List<Double> started = new ArrayList<>();
            Process service = startService(kafka.bootstrapServers(), dir, 0);
            try {
                waitFor(() -> total.get() > 0, Duration.ofSeconds(60), "the first result", dir);
                for (int k = 1; k <= KILLS; k++) {
                    Thread.sleep(500 + rnd.nextInt(2500));
                    service.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no drain, no commit
                    service.waitFor(10, TimeUnit.SECONDS);
                    long killed = System.currentTimeMillis();
                    service = startService(kafka.bootstrapServers(), dir, k);
                    Path log = dir.resolve("serve-" + k + ".log");
                    waitFor(() -> contains(log, "serving v"), Duration.ofSeconds(60), "start-up after kill " + k, dir);
                    started.add((System.currentTimeMillis() - killed) / 1000.0);
                    waitFor(() -> results.values().stream().flatMap(List::stream).anyMatch(r -> r.timestamp() > killed),
                            Duration.ofSeconds(60), "a result after kill " + k, dir);
                    long first = results.values().stream().flatMap(List::stream).mapToLong(Result::timestamp)
                            .filter(t -> t > killed).min().orElseThrow();
                    recovery.add((first - killed) / 1000.0);
                }
                writer.join(TimeUnit.SECONDS.toMillis(FRAMES / FRAMES_PER_SECOND + 60));
                waitFor(() -> results.size() == FRAMES, Duration.ofSeconds(120), "a result for every frame", dir);
                Thread.sleep(2000); // late duplicates still count
            } finally {
                service.destroy(); // the last one stops gracefully (SIGTERM: drain and commit)
                if (!service.waitFor(60, TimeUnit.SECONDS)) {
                    service.destroyForcibly();
                }
                stop.set(true);
                writer.join(10_000);
                reader.join(10_000);
            }
            Path keep = Path.of("target", "crash-logs");
            Files.createDirectories(keep);
            try (var files = Files.list(dir)) {
                for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                    Files.copy(p, keep.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            long lost = FRAMES - results.size();
            long duplicates = total.get() - results.size();
            double worst = recovery.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
            String row = String.format(Locale.ROOT, "| SIGKILL of the service (child JVM) at seeded random moments"
                            + " | %d kills, %d frames | %d | %d | %d (bound %d per crash, %d for %d) | first result %s s"
                            + " after the kill (worst %.1f s) |",
                    KILLS, FRAMES, lost, wrong.get(), duplicates, bound, KILLS * bound, KILLS,
                    recovery.stream().map(r -> String.format(Locale.ROOT, "%.1f", r)).toList(), worst);
            System.out.println(row);
            System.out.println("started (\"serving\" printed) after the kill: " + started + " s");
            Files.writeString(Path.of("target", "crash-results.txt"), row + "\n", StandardCharsets.UTF_8);
            assertEquals(0, lost, "frames without a result");
            assertEquals(0, wrong.get(), "results that differ from the offline simulator");
            assertTrue(duplicates <= KILLS * bound, duplicates + " duplicates, more than " + KILLS + " x " + bound);
            assertTrue(worst < 10, "a restart took " + worst + " s to its first result: " + recovery);
        }
    }

    private static Process startService(String bootstrap, Path dir, int run) throws Exception {
        return ChildService.start(bootstrap, dir, "serve-" + run + ".log", "512m", 0,
                Map.of("DOVA_KAFKA_FRAMES_TOPIC", FRAMES_TOPIC, "DOVA_KAFKA_RESULTS_TOPIC", RESULTS_TOPIC,
                        "DOVA_KAFKA_DEAD_LETTER_TOPIC", "crash-dead", "DOVA_KAFKA_GROUP_ID", "crash",
                        "DOVA_KAFKA_INSTANCE_ID", "crash-replica-0"));
    }

    private static void publish(String bootstrap, LabelledImages test, AtomicBoolean stop) {
        FrameCodec codec = FrameCodec.defaults();
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("linger.ms", 5);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
            long start = System.nanoTime();
            for (int i = 0; i < FRAMES && !stop.get(); i++) {
                long due = start + (long) (i * 1e9 / FRAMES_PER_SECOND);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                int img = i % test.count();
                byte[] px = Arrays.copyOfRange(test.pixels(), img * 784, (img + 1) * 784);
                Frame f = new Frame("cam-" + (i % 4), i, System.currentTimeMillis(), 28, 28, 1, px, test.label(img));
                // camera k on partition k, as the replayer does
                p.send(new ProducerRecord<>(FRAMES_TOPIC, i % 4, f.cameraId(), codec.encode(f, PixelFormat.RAW8)));
            }
            p.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void read(String bootstrap, int[] expected, Map<Long, List<Result>> results, AtomicLong total,
                             AtomicLong wrong, AtomicBoolean stop) {
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("group.id", "crash-checker");
        c.put("auto.offset.reset", "earliest");
        c.put("isolation.level", "read_uncommitted");
        try (KafkaConsumer<String, byte[]> k = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            k.subscribe(List.of(RESULTS_TOPIC));
            while (!stop.get()) {
                for (ConsumerRecord<String, byte[]> r : k.poll(Duration.ofMillis(100))) {
                    try {
                        JsonNode o = json.readTree(r.value());
                        long id = o.get("frameId").asLong();
                        int cls = o.get("class").asInt();
                        if (cls != expected[(int) (id % expected.length)]) {
                            wrong.incrementAndGet();
                        }
                        results.computeIfAbsent(id, x -> java.util.Collections.synchronizedList(new ArrayList<>()))
                                .add(new Result(id, cls, r.timestamp()));
                        total.incrementAndGet();
                    } catch (java.io.IOException | RuntimeException e) {
                        wrong.incrementAndGet();
                    }
                }
            }
        }
    }

    private static boolean contains(Path log, String text) {
        try {
            return Files.exists(log) && Files.readString(log).contains(text);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier done, Duration limit, String what, Path dir) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                StringBuilder logs = new StringBuilder();
                try (var files = Files.list(dir)) {
                    for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList()) {
                        logs.append("\n--- ").append(p.getFileName()).append('\n').append(Files.readString(p));
                    }
                }
                throw new AssertionError("no " + what + " within " + limit.toSeconds() + " s" + logs);
            }
            Thread.sleep(20);
        }
    }
}
