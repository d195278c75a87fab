package dova.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.calibrate.drift.DriftEvent;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.ingest.replay.Drift;
import dova.serve.config.ServeSettings;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica that joins the fleet after the traffic drifted sees the drift: its windows are
 * compared with the fleet's drift reference of the serving version (the first window the first
 * replica observed, on the model topic), not with its own first window, which is already drifted
 * and would hide the drift from it for as long as it runs.
 */
class LateReplicaDriftIT {
    private static ServeSettings settings(int replica) {
        // recalibration off: drift is still detected and reported (lastDrift, dova_drift_psi), nothing swaps
        return ServiceIT.settings("dova.kafka.group-id = \"late\"\ndova.kafka.frames-topic = \"f-late\"\n"
                + "dova.kafka.results-topic = \"r-late\"\ndova.kafka.dead-letter-topic = \"d-late\"\n"
                + "dova.kafka.instance-id = \"replica-" + replica + "\"\ndova.recalibration.enabled = false\n"
                + "dova.calibration.sample-every = 1\ndova.calibration.window = 200\n");
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(done.getAsBoolean(), what);
    }

    private static void produce(KafkaProducer<String, byte[]> p, LabelledImages images, int from, int to, boolean drifted)
            throws InterruptedException {
        FrameCodec codec = FrameCodec.defaults();
        Random rnd = new Random(from);
        for (int i = from; i < to; i++) {
            byte[] px = Arrays.copyOfRange(images.pixels(), i * 784, (i + 1) * 784);
            if (drifted) {
                Drift.CONTRAST.apply(px, 28, 28, 0.95, rnd);
            }
            String camera = "cam-" + (i % 4);
            p.send(new ProducerRecord<>("f-late", i % 4, camera,
                    codec.encode(new Frame(camera, i, System.currentTimeMillis(), 28, 28, 1, px, -1), PixelFormat.RAW8)));
            if (i % 200 == 199) {
                Thread.sleep(50);
            }
        }
        p.flush();
    }

    @Test
    void aReplicaJoiningMidDriftComparesWithTheFleetsReference(@TempDir Path dir) throws Exception {
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST).head(3000);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Map<String, Object> c = new HashMap<>();
            c.put("bootstrap.servers", kafka.bootstrapServers());
            Application first = Application.start(settings(0), dir.resolve("a"), kafka.bootstrapServers(), null, null);
            Application late = null;
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                // the first replica alone on clean traffic: its first window becomes the fleet's reference of v1
                await("first replica holds the partitions", () -> first.stream().assignedPartitions() == 4);
                produce(p, test, 0, 1000, false);
                await("the fleet's reference of v1 is on the topic", () -> first.fleet().reference(1).isPresent());
                assertEquals("replica-0", first.fleet().reference(1).orElseThrow().by());

                // the traffic drifts; the second replica joins now and sees only drifted frames
                produce(p, test, 1000, 1400, true);
                late = Application.start(settings(1), dir.resolve("b"), kafka.bootstrapServers(), null, null);
                Application b = late;
                assertArrayEquals(first.fleet().reference(1).orElseThrow().pixels(),
                        b.recalibrator().referenceFor(b.pool().current().model()), "the late replica uses the fleet's reference");
                await("the group shares the partitions", () -> b.stream().assignedPartitions() > 0
                        && first.stream().assignedPartitions() + b.stream().assignedPartitions() == 4);
                produce(p, test, 1400, 3000, true);
                await("the late replica sees the drift", () -> b.recalibrator().lastDrift() != null);
                DriftEvent e = b.recalibrator().lastDrift();
                assertNotNull(e);
                assertTrue(e.psi() > 0.5, "drifted against the clean reference: " + e.describe());
                String metrics = b.metrics().scrape();
                assertTrue(metrics.contains("dova_drift_events_total") && !metrics.contains("dova_drift_events_total 0.0"),
                        "and counts it in metrics");
            } finally {
                if (late != null) {
                    late.close();
                }
                first.close();
            }
        }
    }
}
