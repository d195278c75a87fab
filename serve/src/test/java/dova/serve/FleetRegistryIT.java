package dova.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.cli.Main;
import dova.serve.config.ServeSettings;
import dova.serve.recal.Deployer;
import dova.serve.registry.ModelRecord;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas over one real broker share the fleet's model topic: a version the leader deploys
 * reaches the other within seconds, a replica restarted with an empty folder comes back on the
 * current version and the fleet's drift reference of it, {@code dova models rollback N --bootstrap-servers} moves both, and corrupt or
 * truncated records, and a pointer to one of them, are refused, counted and never
 * served while both keep serving what they served and say so on /ready.
 */
class FleetRegistryIT {
    private static final Path SHIPPED = Path.of("../models/lenet-mnist-a16m12-wrap.dova");

    private static ServeSettings settings(int replica) {
        return ServiceIT.settings("dova.kafka.group-id = \"fleet-registry\"\ndova.kafka.frames-topic = \"f-reg\"\n"
                + "dova.kafka.results-topic = \"r-reg\"\ndova.kafka.dead-letter-topic = \"d-reg\"\n"
                + "dova.kafka.instance-id = \"replica-" + replica + "\"\ndova.recalibration.enabled = false\n");
    }

    private static void awaitVersion(String what, int expected, IntSupplier actual) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (actual.getAsInt() != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(expected, actual.getAsInt(), what);
    }

    /**
     * /ready once the replica holds partitions: it answers 503 while the group rebalances after a
     * replica joins (the model note is there either way), so the note is read when it says 200.
     */
    private static String awaitReady(Application r) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        String ready = ServiceIT.scrape(r.endpoints().port(), "/ready");
        while (!ready.startsWith("200") && System.nanoTime() < deadline) {
            Thread.sleep(100);
            ready = ServiceIT.scrape(r.endpoints().port(), "/ready");
        }
        return ready;
    }

    @Test
    void replicasFollowOneVersionAndRefuseBadRecords(@TempDir Path dir) throws Exception {
        IntegerModel second = ModelIo.read(SHIPPED);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String topic = "f-reg-models";
            Application a = Application.start(settings(0), dir.resolve("a"), kafka.bootstrapServers(), null, null);
            Application first = Application.start(settings(1), dir.resolve("b"), kafka.bootstrapServers(), null, null);
            Application b = first;
            try {
                // seeded once: both serve v1, the second replica found the first one's seed
                assertEquals(1, a.pool().current().version());
                assertEquals(1, b.pool().current().version());
                assertEquals(1, b.fleet().list().size(), "one seed on the topic");

                // the leader deploys (the recalibrator's own path): the other replica serves it within seconds
                int v2 = new Deployer(a.pool(), a.fleet(), a.metrics(), null).deploy(second, "recalibrated (test)", null);
                assertEquals(2, v2);
                assertEquals(2, a.pool().current().version(), "the publisher serves its version at once");
                awaitVersion("replica b follows the pointer", 2, () -> first.pool().current().version());
                assertTrue(Files.exists(dir.resolve("b").resolve("v0002.dova")), "b's folder caches v2");
                String ready = awaitReady(b);
                assertTrue(ready.startsWith("200") && ready.contains("serving v0002, the version the fleet's pointer names"), ready);

                // the first replica to observe v2 offers its first window as the fleet's drift reference of v2
                long[] hist = new long[256];
                hist[7] = 1000;
                hist[200] = 24;
                a.fleet().offerReference(2, hist);
                long refDeadline = System.nanoTime() + 15_000_000_000L;
                while (first.fleet().reference(2).isEmpty() && System.nanoTime() < refDeadline) {
                    Thread.sleep(50);
                }
                assertEquals("replica-0", first.fleet().reference(2).orElseThrow().by(), "b holds a's reference");

                // a restarted replica with an empty folder comes back on the current version, not on a fresh seed,
                // and compares its windows with the fleet's reference of it, not with its own first window
                b.close();
                b = Application.start(settings(1), dir.resolve("b-fresh"), kafka.bootstrapServers(), null, null);
                assertEquals(2, b.pool().current().version(), "restarted on the fleet's version");
                assertArrayEquals(hist, b.recalibrator().referenceFor(b.pool().current().model()), "the fleet's reference of v2");
                b.fleet().offerReference(2, new long[256]); // a late offer does not replace it
                assertArrayEquals(hist, b.fleet().reference(2).orElseThrow().pixels());
                assertEquals(null, b.recalibrator().referenceFor(second), "no reference for a model that is not serving");

                // rollback from the command line moves the whole fleet
                int rc = Main.commandLine().execute("models", "rollback", "1", "--bootstrap-servers", kafka.bootstrapServers(),
                        "--topic", topic);
                assertEquals(0, rc);
                Application bb = b;
                awaitVersion("a rolled back", 1, () -> a.pool().current().version());
                awaitVersion("b rolled back", 1, () -> bb.pool().current().version());

                // bad records: garbage, a truncated version, and a pointer to one of them
                Map<String, Object> c = new HashMap<>();
                c.put("bootstrap.servers", kafka.bootstrapServers());
                byte[] whole = ModelRecord.encode(new ModelRecord.Published(3, "truncated in transit",
                        ModelIo.toBytes(second), "", new byte[0]));
                try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                    p.send(new ProducerRecord<>(topic, 0, "v0003", Arrays.copyOf(whole, whole.length / 2))).get();
                    p.send(new ProducerRecord<>(topic, 0, "v0004", "{\"version\": 4, \"model\": \"not a dova model record at all, just some text\"}".getBytes())).get();
                    p.send(new ProducerRecord<>(topic, 0, "CURRENT", ModelRecord.encode(new ModelRecord.Pointer(3, "test")))).get();
                }
                for (Application r : List.of(a, b)) {
                    long deadline = System.nanoTime() + 15_000_000_000L;
                    while (r.fleet().problem() == null && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    assertNotNull(r.fleet().problem(), "the pointer to a truncated version is noticed");
                    assertTrue(r.fleet().problem().contains("v0003") && r.fleet().problem().contains("refused"),
                            r.fleet().problem());
                    assertEquals(1, r.pool().current().version(), "keeps serving what it served");
                    String ready3 = awaitReady(r);
                    assertTrue(ready3.startsWith("200") && ready3.contains("serving v0001; the fleet's pointer names v0003"),
                            ready3);
                    String metrics = ServiceIT.scrape(r.endpoints().port(), "/metrics");
                    assertTrue(metrics.contains("dova_model_unservable 1.0"), "says so in metrics");
                    assertTrue(metrics.contains("dova_model_pointer_version 3.0"), "the pointer it cannot follow");
                    assertTrue(metrics.contains("dova_model_records_rejected_total{reason=\"checksum\"} 1.0"), "truncated counted");
                    assertTrue(metrics.contains("dova_model_records_rejected_total{reason=\"format\"} 1.0"), "garbage counted");
                }

                // a good version after the bad ones: both serve it, and the problem clears
                int v5 = new Deployer(b.pool(), b.fleet(), b.metrics(), null).deploy(second, "repaired (test)", null);
                assertEquals(5, v5, "numbers past the refused records' keys");
                awaitVersion("a serves v5", 5, () -> a.pool().current().version());
                assertNull(a.fleet().problem());
                assertTrue(ServiceIT.scrape(a.endpoints().port(), "/metrics").contains("dova_model_unservable 0.0"));
                assertTrue(a.fleet().list().stream().filter(e -> !e.valid()).count() == 2, "v3 and v4 listed as refused");
            } finally {
                b.close();
                a.close();
            }
        }
    }
}
