package dova.serve;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.recal.Leadership;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Three replicas elect one recalibration leader through Kafka's group coordinator; when the
 * leader stops, exactly one of the others takes over, and never are two leaders at once.
 */
class LeadershipIT {
    static int leaders(List<Leadership> all) {
        return (int) all.stream().filter(Leadership::isLeader).count();
    }

    static Leadership awaitOneLeader(List<Leadership> all, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            int n = leaders(all);
            assertTrue(n <= 1, "two leaders at once");
            if (n == 1) {
                return all.stream().filter(Leadership::isLeader).findFirst().orElseThrow();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no leader within " + timeout);
    }

    /**
     * The leader once the group has settled: the same replica leading for 2 s in a row. While the
     * members are still joining, the coordinator may move partition 0 from the first to join to a
     * later one (a rebalance), which is allowed; two leaders at once never are.
     */
    static Leadership awaitStableLeader(List<Leadership> all, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            Leadership l = awaitOneLeader(all, timeout);
            boolean stable = true;
            for (int i = 0; i < 20 && stable; i++) {
                Thread.sleep(100);
                int n = leaders(all);
                assertTrue(n <= 1, "two leaders at once");
                stable = l.isLeader();
            }
            if (stable) {
                return l;
            }
        }
        throw new AssertionError("no leader held for 2 s within " + timeout);
    }

    @Test
    void oneLeaderAtATimeAndAnotherTakesOverWhenItStops() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(1, "dova-control");
            List<Leadership> all = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    all.add(new Leadership(kafka.bootstrapServers(), "fleet", "replica-" + i, "dova-control",
                            Duration.ofSeconds(6)));
                }
                Leadership first = awaitStableLeader(all, Duration.ofSeconds(60));
                assertTrue(first.isLeader());
                first.close();
                all.remove(first);
                Leadership second = awaitOneLeader(all, Duration.ofSeconds(60));
                assertTrue(second != first);
                second.close();
                all.remove(second);
                awaitOneLeader(all, Duration.ofSeconds(60));
            } finally {
                all.forEach(Leadership::close);
            }
        }
    }
}
