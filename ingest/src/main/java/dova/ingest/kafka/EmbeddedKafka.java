package dova.ingest.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker (KRaft, broker and controller in one process) started
 * in-process from the Kafka server jars, listening on loopback only. Used by the tests and as
 * the demo's embedded default; a deployment talks to a real cluster instead.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final Path dir;
    private final boolean deleteOnClose;
    private final int port;
    private final kafka.server.KafkaRaftServer server;

    private EmbeddedKafka(Path dir, boolean deleteOnClose, int port, kafka.server.KafkaRaftServer server) {
        this.dir = dir;
        this.deleteOnClose = deleteOnClose;
        this.port = port;
        this.server = server;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Formats a fresh log directory under a temporary folder and starts the broker (about 3 s). */
    public static EmbeddedKafka start() throws IOException {
        return start(Files.createTempDirectory("dova-kafka"), true);
    }

    public static EmbeddedKafka start(Path dir, boolean deleteOnClose) throws IOException {
        int port = freePort();
        int controllerPort = freePort();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve("logs").toString());
        // a single node: without these, internal topics never become available and consumers receive nothing
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        Path config = dir.resolve("server.properties");
        Files.createDirectories(dir);
        try (Writer w = Files.newBufferedWriter(config)) {
            p.store(w, "dova embedded broker");
        }
        ByteArrayOutputStream formatLog = new ByteArrayOutputStream();
        int rc = kafka.tools.StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c",
            config.toString(), "--ignore-formatted"}, new PrintStream(formatLog, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            throw new IOException("formatting the embedded broker's log directory failed: " + formatLog);
        }
        kafka.server.KafkaRaftServer server = new kafka.server.KafkaRaftServer(
                kafka.server.KafkaConfig.fromProps(p, false), Time.SYSTEM);
        server.startup();
        return new EmbeddedKafka(dir, deleteOnClose, port, server);
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public Admin admin() {
        Map<String, Object> c = new HashMap<>();
        c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return Admin.create(c);
    }

    /**
     * Creates topics (if absent) and waits until every partition answers {@code listOffsets}:
     * producing right after {@code createTopics} can otherwise hang for a minute (KAFKA-15591).
     */
    public void createTopics(int partitions, String... topics) {
        try (Admin admin = admin()) {
            createTopics(admin, partitions, topics);
        }
    }

    /** Creates {@code topic} with {@code config} (topic-level settings such as cleanup.policy) unless it exists, and waits until it answers. */
    public void createTopic(String topic, int partitions, Map<String, String> config) {
        try (Admin admin = admin()) {
            if (!admin.listTopics().names().get().contains(topic)) {
                admin.createTopics(List.of(new NewTopic(topic, java.util.Optional.of(partitions), java.util.Optional.empty())
                        .configs(config))).all().get();
            }
            createTopics(admin, partitions, topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + topic, e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("cannot create topic " + topic + ": " + e.getCause().getMessage(), e);
        }
    }

    /** As {@link #createTopics(int, String...)}, for any cluster reachable through {@code admin}, with its default replication factor. */
    public static void createTopics(Admin admin, int partitions, String... topics) {
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                Set<String> existing = admin.listTopics().names().get();
                List<NewTopic> fresh = Stream.of(topics).filter(t -> !existing.contains(t))
                        .map(t -> new NewTopic(t, java.util.Optional.of(partitions), java.util.Optional.empty())).toList();
                if (fresh.isEmpty()) {
                    break;
                }
                try {
                    admin.createTopics(fresh).all().get();
                    break;
                } catch (java.util.concurrent.ExecutionException e) {
                    // just created by someone else, or by us and not yet listed: the metadata lags the controller
                    if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                        break;
                    }
                    // a cluster that has just started: no controller yet, or brokers still fenced (too few for
                    // the replication factor) for a moment
                    boolean transientError = e.getCause() instanceof org.apache.kafka.common.errors.RetriableException
                            || e.getCause() instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException;
                    if (!transientError || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(200);
                }
            }
            Map<TopicPartition, OffsetSpec> specs = Stream.of(topics)
                    .flatMap(t -> IntStream.range(0, partitions).mapToObj(i -> new TopicPartition(t, i)))
                    .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
            while (true) {
                try {
                    admin.listOffsets(specs).all().get();
                    return;
                } catch (java.util.concurrent.ExecutionException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("topics " + List.of(topics) + " not ready after 60 s", e);
                    }
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("cannot create topics " + List.of(topics) + ": " + e.getCause().getClass().getSimpleName() + " " + e.getCause().getMessage(), e);
        }
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (deleteOnClose) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // best effort: a temporary folder
            }
        }
    }
}
