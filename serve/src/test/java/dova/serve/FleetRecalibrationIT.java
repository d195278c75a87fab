package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.ingest.replay.Drift;
import dova.serve.config.ServeSettings;
import dova.serve.recal.Recalibrator;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas of the service in one consumer group on an unlabelled stream that drifts: every
 * replica sees the drift in its own partitions, but only the elected one recalibrates, so the
 * fleet makes one attempt, not three, and every replica then serves the version it left.
 */
class FleetRecalibrationIT {
    @Test
    void threeReplicasOnADriftedStreamMakeOneAttempt(@TempDir Path dir) throws Exception {
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST).head(4000);
        List<Recalibrator.Outcome> outcomes = new CopyOnWriteArrayList<>();
        List<Integer> attemptedBy = new CopyOnWriteArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            List<Application> replicas = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    int replica = i;
                    // retraining off: the recalibration attempt alone decides in seconds; min-interval long: one per replica at most
                    ServeSettings s = ServiceIT.settings("dova.kafka.group-id = \"fleet\"\ndova.kafka.frames-topic = \"f-fleet\"\n"
                            + "dova.kafka.results-topic = \"r-fleet\"\ndova.kafka.dead-letter-topic = \"d-fleet\"\n"
                            + "dova.kafka.instance-id = \"replica-" + i + "\"\n"
                            + "dova.recalibration.retrain = false\ndova.recalibration.min-interval = 10m\n"
                            + "dova.calibration.sample-every = 1");
                    replicas.add(Application.start(s, dir.resolve("registry-" + i), kafka.bootstrapServers(), null, o -> {
                        outcomes.add(o);
                        attemptedBy.add(replica);
                    }));
                }
                // the group settled before the stream starts: every replica holds partitions (4 across 3), so every
                // replica has windows to share before the drift reaches the elected one
                long settled = System.nanoTime() + 60_000_000_000L;
                while (!(replicas.stream().allMatch(a -> a.stream().assignedPartitions() > 0)
                        && replicas.stream().mapToInt(a -> a.stream().assignedPartitions()).sum() == 4)
                        && System.nanoTime() < settled) {
                    Thread.sleep(100);
                }
                FrameCodec codec = FrameCodec.defaults();
                Map<String, Object> c = new HashMap<>();
                c.put("bootstrap.servers", kafka.bootstrapServers());
                Random rnd = new Random(3);
                try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                    for (int i = 0; i < test.count(); i++) {
                        byte[] px = Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
                        if (i >= 1000) {
                            Drift.CONTRAST.apply(px, 28, 28, 0.95, rnd);
                        }
                        String camera = "cam-" + (i % 4);
                        Frame f = new Frame(camera, i, System.currentTimeMillis(), 28, 28, 1, px, -1); // no labels
                        p.send(new ProducerRecord<>("f-fleet", i % 4, camera, codec.encode(f, PixelFormat.RAW8)));
                        if (i % 200 == 199) {
                            Thread.sleep(100); // a stream, not one burst: the windows see the drift arrive
                        }
                    }
                }
                long end = System.nanoTime() + 90_000_000_000L;
                while (outcomes.isEmpty() && System.nanoTime() < end) {
                    Thread.sleep(200);
                }
                Thread.sleep(10_000); // time for the other replicas' windows to see the drift too
                int leaders = 0;
                int leader = -1;
                for (int i = 0; i < 3; i++) {
                    if (replicas.get(i).metrics().scrape().contains("dova_recalibration_leader 1.0")) {
                        leaders++;
                        leader = i;
                    }
                }
                assertEquals(1, leaders, "one elected replica");
                long drifted = replicas.stream().filter(a -> a.recalibrator().lastDrift() != null).count();
                assertTrue(drifted >= 2, drifted + " replicas saw the drift in their partitions");
                assertEquals(1, outcomes.size(), "one attempt for the fleet: " + outcomes);
                assertEquals(List.of(leader), attemptedBy, "made by the elected replica");
                // the plan used the ranges the other replicas shared, not the leader's partitions alone
                assertTrue(outcomes.get(0).detail().matches(".*on the ranges of [23] replicas.*"), outcomes.get(0).detail());
                // one fleet, one model: whatever the attempt decided, every replica serves the version it left
                int expected = outcomes.get(0).toVersion();
                long until = System.nanoTime() + 15_000_000_000L;
                while (replicas.stream().anyMatch(a -> a.pool().current().version() != expected) && System.nanoTime() < until) {
                    Thread.sleep(100);
                }
                for (int i = 0; i < 3; i++) {
                    assertEquals(expected, replicas.get(i).pool().current().version(), "replica " + i + " serves the fleet's version"
                            + " after " + outcomes.get(0).result());
                }
            } finally {
                for (Application a : replicas) {
                    a.close();
                }
            }
        }
    }
}
