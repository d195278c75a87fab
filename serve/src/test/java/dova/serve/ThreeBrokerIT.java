package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.serve.config.ServeSettings;
import dova.serve.recal.Deployer;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.io.IOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Production's shape: a 3-broker KRaft cluster (three child JVMs on loopback, each broker and
 * controller, replication factor 3, {@code min.insync.replicas} 2) under two replicas of the
 * service. One broker is killed (SIGKILL) while frames stream: every frame is still answered,
 * each as the offline simulator answers it, and a version published after the kill (acks=all on
 * the 2 brokers left) reaches both replicas. The broker is then restarted from its own log folder,
 * and a replica that starts on an empty registry folder comes back on that version: the registry
 * topic survived.
 */
class ThreeBrokerIT {
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** One cluster node in its own JVM: args dir, node id, cluster id, voters, broker port, controller port. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", args[1]);
        p.put("controller.quorum.voters", args[3]);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + args[4] + ",CONTROLLER://127.0.0.1:" + args[5]);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + args[4]);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve("logs").toString());
        // production's durability: three copies, a write acknowledged by two
        p.put("default.replication.factor", "3");
        p.put("min.insync.replicas", "2");
        p.put("offsets.topic.replication.factor", "3");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "3");
        p.put("transaction.state.log.min.isr", "2");
        p.put("share.coordinator.state.topic.replication.factor", "3");
        p.put("share.coordinator.state.topic.min.isr", "2");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("replica.lag.time.max.ms", "5000");
        Files.createDirectories(dir);
        Path config = dir.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(config)) {
            p.store(w, "dova test cluster node " + args[1]);
        }
        int rc = kafka.tools.StorageTool.execute(new String[] {"format", "-t", args[2], "-c", config.toString(),
            "--ignore-formatted"}, System.err);
        if (rc != 0) {
            System.exit(rc);
        }
        kafka.server.KafkaRaftServer server = new kafka.server.KafkaRaftServer(
                kafka.server.KafkaConfig.fromProps(p, false), org.apache.kafka.common.utils.Time.SYSTEM);
        server.startup();
        server.awaitShutdown();
    }

    @Test
    void aClusterThatLosesABrokerLosesNoFrameAndStillPublishes(@TempDir Path dir) throws Exception {
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST).head(3000);
        IntegerModel model = ModelIo.read(Path.of(ChildService.MODEL));
        Executor offline = Executor.fast(model, ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP).withMultiplierBits(12));
        int[] expected = new int[test.count()];
        for (int i = 0; i < test.count(); i++) {
            expected[i] = offline.run(test.pixels(), i * 784);
        }
        int[] ports = new int[3];
        int[] controllers = new int[3];
        List<String> voters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ports[i] = freePort();
            controllers[i] = freePort();
            voters.add((i + 1) + "@127.0.0.1:" + controllers[i]);
        }
        String cluster = Uuid.randomUuid().toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> nodes = new ArrayList<>();
        java.util.function.IntFunction<ProcessBuilder> node = i -> new ProcessBuilder(java, "-Xmx384m", "-cp",
                System.getProperty("java.class.path"), ThreeBrokerIT.class.getName(), dir.resolve("node-" + (i + 1)).toString(),
                Integer.toString(i + 1), cluster, String.join(",", voters), Integer.toString(ports[i]), Integer.toString(controllers[i]))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node-" + (i + 1) + ".log").toFile()));
        String bootstrap = String.join(",", Arrays.stream(ports).mapToObj(p -> "127.0.0.1:" + p).toList());
        List<Application> replicas = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                nodes.add(node.apply(i).start());
            }
            Map<String, Object> ac = new HashMap<>();
            ac.put("bootstrap.servers", bootstrap);
            try (Admin admin = Admin.create(ac)) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                int seen = 0;
                while (seen < 3 && System.nanoTime() < until) {
                    try {
                        seen = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        seen = 0;
                    }
                    Thread.sleep(300);
                }
                assertEquals(3, seen, "three brokers up");
            }
            Set<String> answered = ConcurrentHashMap.newKeySet();
            Set<String> wrong = ConcurrentHashMap.newKeySet();
            for (int i = 0; i < 2; i++) {
                ServeSettings s = ServiceIT.settings("dova.kafka.group-id = \"three\"\ndova.kafka.frames-topic = \"f-3\"\n"
                        + "dova.kafka.results-topic = \"r-3\"\ndova.kafka.dead-letter-topic = \"d-3\"\n"
                        + "dova.kafka.instance-id = \"replica-" + i + "\"\ndova.recalibration.enabled = false\n");
                replicas.add(Application.start(s, dir.resolve("registry-" + i), bootstrap,
                        (frame, inf, e2e) -> {
                            answered.add(frame.cameraId() + "/" + frame.frameId());
                            if (inf.modelVersion() == 1 && inf.predicted() != expected[(int) frame.frameId()]) {
                                wrong.add(frame.cameraId() + "/" + frame.frameId());
                            }
                        }, null));
            }
            FrameCodec codec = FrameCodec.defaults();
            Map<String, Object> c = new HashMap<>();
            c.put("bootstrap.servers", bootstrap);
            c.put("acks", "all");
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < test.count(); i++) {
                    if (i == 1000) {
                        nodes.get(1).destroyForcibly().waitFor(); // SIGKILL: no shutdown, no leadership hand-over
                    }
                    byte[] px = Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
                    String camera = "cam-" + (i % 4);
                    p.send(new ProducerRecord<>("f-3", i % 4, camera, codec.encode(
                            new Frame(camera, i, System.currentTimeMillis(), 28, 28, 1, px, test.label(i)), PixelFormat.RAW8)));
                    if (i % 250 == 249) {
                        p.flush();
                        Thread.sleep(200);
                    }
                }
                p.flush();
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (answered.size() < test.count() && System.nanoTime() < until) {
                Thread.sleep(200);
            }
            assertEquals(test.count(), answered.size(), "every frame answered across the broker's death");
            assertEquals(Set.of(), wrong, "every frame answered as the offline simulator answers it");

            // the registry still takes writes: acks=all is met by the two brokers left (min.insync.replicas 2)
            int v = new Deployer(replicas.get(0).pool(), replicas.get(0).fleet(), replicas.get(0).metrics(), null)
                    .deploy(ModelIo.read(Path.of("../models/lenet-mnist-a16m12-wrap.dova")), "after a broker died (test)", null);
            long swap = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (replicas.get(1).pool().current().version() != v && System.nanoTime() < swap) {
                Thread.sleep(100);
            }
            assertEquals(v, replicas.get(1).pool().current().version(), "the other replica follows the version published after the kill");
            assertTrue(v >= 2);

            // the killed broker comes back from its own logs and catches up; a replica that starts
            // with nothing on disk comes back on the version published while the broker was down
            nodes.set(1, node.apply(1).start());
            ServeSettings fresh = ServiceIT.settings("dova.kafka.group-id = \"three\"\ndova.kafka.frames-topic = \"f-3\"\n"
                    + "dova.kafka.results-topic = \"r-3\"\ndova.kafka.dead-letter-topic = \"d-3\"\n"
                    + "dova.kafka.instance-id = \"replica-2\"\ndova.recalibration.enabled = false\n");
            replicas.add(Application.start(fresh, dir.resolve("registry-fresh"), bootstrap, null, null));
            long back = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (replicas.get(2).pool().current().version() != v && System.nanoTime() < back) {
                Thread.sleep(100);
            }
            assertEquals(v, replicas.get(2).pool().current().version(), "a new replica finds the registry topic intact");
            Map<String, Object> ac2 = new HashMap<>();
            ac2.put("bootstrap.servers", bootstrap);
            try (Admin admin = Admin.create(ac2)) {
                long isr = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                int inSync = 0;
                while (inSync < 3 && System.nanoTime() < isr) {
                    inSync = admin.describeTopics(List.of("f-3-models")).allTopicNames().get(10, TimeUnit.SECONDS)
                            .get("f-3-models").partitions().get(0).isr().size();
                    Thread.sleep(300);
                }
                assertEquals(3, inSync, "the restarted broker is back in sync on the registry topic");
            }
        } finally {
            for (int i = replicas.size() - 1; i >= 0; i--) {
                replicas.get(i).close();
            }
            for (Process n : nodes) {
                n.destroyForcibly();
            }
        }
    }
}
