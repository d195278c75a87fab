package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.ingest.replay.Drift;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.exec.Executor;
import dova.sim.model.ModelIo;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recalibration leader dies mid-attempt: two replicas of {@code dova serve} as child JVMs in
 * one consumer group on an unlabelled stream that drifts, with retraining by distillation on. The
 * elected replica starts an attempt and is killed (SIGKILL) while it runs. The other replica is
 * elected, leads the next attempt from the version the fleet served (the dead one published
 * nothing), and every frame sent is answered. The distilled model it swaps in is measured against
 * the labels the service never saw: on the drifted frames it answered, it is right more often than
 * the original model is on the same frames.
 */
class LeaderFailoverIT {
    private static final Pattern OUTCOME = Pattern.compile("model (accepted|rejected|failed): v(\\d+) -> v(\\d+)");

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String metrics(int port) {
        try {
            return ServiceIT.scrape(port, "/metrics");
        } catch (Exception e) {
            return "";
        }
    }

    private static int assigned(int port) {
        return metrics(port).lines().filter(l -> l.startsWith("dova_kafka_assigned_partitions "))
                .mapToInt(l -> (int) Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(0);
    }

    private static String log(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier done, Duration limit, String what, Path dir,
                                List<Process> alive) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline || alive.stream().anyMatch(p -> !p.isAlive())) {
                throw new AssertionError(what + " within " + limit + " (or a replica exited)"
                        + "\nreplica 0:\n" + tail(dir.resolve("r0").resolve("replica.log"))
                        + "\nreplica 1:\n" + tail(dir.resolve("r1").resolve("replica.log")) + "\nmetrics:\n" + STATE);
            }
            Thread.sleep(100);
        }
    }

    /** The lines of both replicas' metrics that say where recalibration stands (for a failure's message). */
    private static volatile String STATE = "";

    private static String state(int[] ports) {
        StringBuilder b = new StringBuilder();
        for (int port : ports) {
            metrics(port).lines().filter(l -> l.matches("dova_(drift|recalibration|retraining|frames|model_version|kafka_assigned).*"))
                    .forEach(l -> b.append(port).append(' ').append(l).append('\n'));
        }
        return b.toString();
    }

    private static String tail(Path file) {
        String s = log(file);
        return s.substring(Math.max(0, s.length() - 3000));
    }

    @Test
    void anotherReplicaLeadsTheNextAttemptAndNoFrameIsLost(@TempDir Path dir) throws Exception {
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(4, "f-lf", "r-lf", "d-lf");
            int[] ports = {freePort(), freePort()};
            List<Process> replicas = new ArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean done = new AtomicBoolean();
            Map<Long, Answer> answered = new ConcurrentHashMap<>();
            Map<Long, byte[]> drifted = new ConcurrentHashMap<>();
            AtomicInteger sent = new AtomicInteger();
            Thread reader = new Thread(() -> read(kafka.bootstrapServers(), answered, done), "results");
            Thread cameras = new Thread(() -> publish(kafka.bootstrapServers(), test, sent, drifted, stop), "cameras");
            try {
                for (int i = 0; i < 2; i++) {
                    Map<String, String> env = new HashMap<>();
                    env.put("DOVA_KAFKA_FRAMES_TOPIC", "f-lf");
                    env.put("DOVA_KAFKA_RESULTS_TOPIC", "r-lf");
                    env.put("DOVA_KAFKA_DEAD_LETTER_TOPIC", "d-lf");
                    env.put("DOVA_KAFKA_GROUP_ID", "lf");
                    env.put("DOVA_KAFKA_INSTANCE_ID", "replica-" + i);
                    env.put("DOVA_KAFKA_CREATE_TOPICS", "true"); // the fleet's models, control and calibration topics
                    env.put("DOVA_KAFKA_SESSION_TIMEOUT", "8s"); // the dead replica's partitions move in seconds
                    env.put("DOVA_MODEL_CHECKPOINT", "../models/lenet-mnist-a16m12-wrap-qat.ckpt");
                    env.put("DOVA_RECALIBRATION_ENABLED", "true");
                    env.put("DOVA_RECALIBRATION_RETRAIN", "true");
                    env.put("DOVA_RECALIBRATION_MIN_INTERVAL", "10m"); // one attempt per replica at most
                    env.put("DOVA_CALIBRATION_WINDOW", "100");
                    env.put("DOVA_CALIBRATION_SAMPLE_EVERY", "1");
                    Files.createDirectories(dir.resolve("r" + i));
                    replicas.add(ChildService.start(kafka.bootstrapServers(), dir.resolve("r" + i), "replica.log",
                            "1g", ports[i], env));
                }
                waitFor(() -> metrics(ports[0]).contains("dova_recalibration_leader 1.0")
                        ^ metrics(ports[1]).contains("dova_recalibration_leader 1.0"), Duration.ofSeconds(90), "one leader", dir, replicas);
                // the group settled before the stream starts: a replica that joined late would take drifted frames
                // for its reference window and never see the drift
                waitFor(() -> assigned(ports[0]) > 0 && assigned(ports[1]) > 0 && assigned(ports[0]) + assigned(ports[1]) == 4,
                        Duration.ofSeconds(60), "the 4 partitions shared by both replicas", dir, replicas);
                reader.start();
                cameras.start();
                int[] leader = {-1};
                waitFor(() -> {
                    STATE = state(ports);
                    for (int i = 0; i < 2; i++) {
                        if (metrics(ports[i]).contains("dova_recalibration_running 1.0")) {
                            leader[0] = i;
                            return true;
                        }
                    }
                    return false;
                }, Duration.ofSeconds(120), "an attempt started on the drifted stream", dir, replicas);
                int dead = leader[0];
                int survivor = 1 - dead;
                Thread.sleep(1000); // into the attempt: planning, then retraining
                assertTrue(metrics(ports[dead]).contains("dova_recalibration_running 1.0"), "killed while its attempt runs");
                replicas.get(dead).destroyForcibly().waitFor(); // SIGKILL: no leave-group, no hand-over
                Path survivorLog = dir.resolve("r" + survivor).resolve("replica.log");
                waitFor(() -> OUTCOME.matcher(log(survivorLog)).find(), Duration.ofSeconds(240),
                        "the other replica's attempt", dir, List.of(replicas.get(survivor)));
                Matcher m = OUTCOME.matcher(log(survivorLog));
                assertTrue(m.find());
                assertEquals("1", m.group(2), "the next attempt starts from the version the fleet served: " + m.group());
                assertEquals("accepted", m.group(1), "the distilled model passes the gate: " + tail(survivorLog));
                int v = Integer.parseInt(m.group(3));
                assertTrue(metrics(ports[survivor]).contains("dova_recalibration_leader 1.0"), "the survivor is the leader now");
                assertTrue(!OUTCOME.matcher(log(dir.resolve("r" + dead).resolve("replica.log"))).find(), "the dead leader finished nothing");
                assertTrue(!log(survivorLog).contains("keeps its base"), "the new version's checkpoint is the next base: "
                        + tail(survivorLog));

                // the new version answers a good share of drifted frames before the cameras stop
                waitFor(() -> answered.values().stream().filter(a -> a.version() == v).count() >= 1500, Duration.ofSeconds(90),
                        "1,500 frames answered by v" + v, dir, List.of(replicas.get(survivor)));
                stop.set(true);
                cameras.join();
                int total = sent.get();
                waitFor(() -> answered.size() >= total, Duration.ofSeconds(90), "every frame answered", dir,
                        List.of(replicas.get(survivor)));
                for (long id = 0; id < total; id++) {
                    assertTrue(answered.containsKey(id), "frame " + id + " answered");
                }
                // accuracy against the withheld labels, on the drifted frames the new version answered: the
                // served answers are the offline simulator's for that version, and beat the original model's
                ProcessorConfig processor = ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP).withMultiplierBits(12);
                Executor original = Executor.fast(ModelIo.read(Path.of(ChildService.MODEL)), processor);
                Executor swapped = Executor.fast(ModelIo.read(dir.resolve("r" + survivor).resolve("registry")
                        .resolve(String.format("v%04d.dova", v))), processor);
                int frames = 0;
                int rightBefore = 0;
                int rightAfter = 0;
                for (Map.Entry<Long, Answer> e : answered.entrySet()) {
                    byte[] px = drifted.get(e.getKey());
                    if (e.getValue().version() != v || px == null) {
                        continue;
                    }
                    int label = test.label((int) (e.getKey() % test.count()));
                    assertEquals(swapped.run(px, 0), e.getValue().cls(), "frame " + e.getKey() + " as v" + v + " answers it offline");
                    frames++;
                    rightAfter += e.getValue().cls() == label ? 1 : 0;
                    rightBefore += original.run(px, 0) == label ? 1 : 0;
                }
                System.out.printf(java.util.Locale.ROOT, "leader failover: on %d drifted frames v%d answered, accuracy against"
                        + " the withheld labels v1 %.2f%% -> v%d %.2f%%%n", frames, v, 100.0 * rightBefore / frames, v,
                        100.0 * rightAfter / frames);
                assertTrue(frames >= 1500, frames + " drifted frames answered by v" + v);
                assertTrue(rightAfter > rightBefore, "accuracy recovers: v1 " + rightBefore + " vs v" + v + " " + rightAfter
                        + " right of " + frames);
            } finally {
                stop.set(true);
                done.set(true);
                for (Process p : replicas) {
                    p.destroyForcibly();
                }
                reader.join(5000);
            }
        }
    }

    /** One result read back: the class and the version that answered. */
    private record Answer(int cls, int version) {
    }

    /**
     * Unlabelled frames at about 400 a second: the first 1,000 clean, the rest with their contrast
     * crushed (kept in {@code drifted} by frame id, to measure accuracy offline).
     */
    private static void publish(String bootstrap, LabelledImages test, AtomicInteger sent, Map<Long, byte[]> drifted,
                                AtomicBoolean stop) {
        FrameCodec codec = FrameCodec.defaults();
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("acks", "all");
        Random rnd = new Random(5);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; !stop.get(); i++) {
                int image = i % test.count();
                byte[] px = Arrays.copyOfRange(test.pixels(), image * 784, (image + 1) * 784);
                if (i >= 1000) {
                    Drift.CONTRAST.apply(px, 28, 28, 0.95, rnd);
                    drifted.put((long) i, px.clone());
                }
                String camera = "cam-" + (i % 4);
                p.send(new ProducerRecord<>("f-lf", i % 4, camera, codec.encode(
                        new Frame(camera, i, System.currentTimeMillis(), 28, 28, 1, px, -1), PixelFormat.RAW8)));
                if (i % 40 == 39) {
                    p.flush();
                    sent.set(i + 1);
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void read(String bootstrap, Map<Long, Answer> answered, AtomicBoolean done) {
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("group.id", "lf-checker");
        c.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, byte[]> k = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            k.subscribe(List.of("r-lf"));
            while (!done.get()) {
                for (ConsumerRecord<String, byte[]> r : k.poll(Duration.ofMillis(100))) {
                    try {
                        JsonNode o = json.readTree(r.value());
                        answered.put(o.get("frameId").asLong(), new Answer(o.get("class").asInt(), o.get("modelVersion").asInt()));
                    } catch (IOException e) {
                        throw new IllegalStateException("unreadable result at offset " + r.offset(), e);
                    }
                }
            }
        }
    }
}
