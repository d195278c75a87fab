package dova.ingest.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The Kafka administration dova needs, over one long-lived {@link Admin} client: reach the
 * cluster, create or require the topics, and measure a consumer group's lag. Failures are
 * reported to the caller (exceptions naming the broker, or {@link Lag#error()}), never swallowed.
 */
public final class KafkaAdmin implements AutoCloseable {
    /** A group's lag: the sum over its committed partitions of (end offset - committed offset), or why it is unknown. */
    public record Lag(long frames, int partitions, String error) {
        public boolean known() {
            return error == null;
        }
    }

    private final String bootstrap;
    private final Admin admin;
    private final Duration timeout;

    /** @param timeout bound of each call (requests, and the futures waited for) */
    public KafkaAdmin(String bootstrap, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        this.bootstrap = bootstrap;
        this.timeout = timeout;
        Map<String, Object> c = new HashMap<>();
        c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis() * 2));
        this.admin = Admin.create(c);
    }

    public String bootstrap() {
        return bootstrap;
    }

    /**
     * Checks that the cluster answers, then creates the topics that are missing (with
     * {@code partitions} partitions) or, with {@code create} false, requires that they exist.
     *
     * @throws IllegalArgumentException naming the broker or the missing topic
     */
    public void prepareTopics(boolean create, int partitions, List<String> topics) {
        try {
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (create) {
                EmbeddedKafka.createTopics(admin, partitions, topics.toArray(String[]::new));
                return;
            }
            Set<String> names = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            for (String t : topics) {
                if (!names.contains(t)) {
                    throw new IllegalArgumentException("topic " + t + " does not exist on " + bootstrap
                            + " and topic creation is off");
                }
            }
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalArgumentException("cannot reach a Kafka broker at " + bootstrap + " ("
                    + e.getClass().getSimpleName() + (e.getCause() != null ? ": " + e.getCause().getMessage() : "") + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while contacting Kafka at " + bootstrap);
        }
    }

    /** The lag of {@code groupId}; a group with no committed offsets has lag 0 over 0 partitions. */
    public Lag lag(String groupId) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
            committed.forEach((tp, om) -> {
                if (om != null) {
                    specs.put(tp, OffsetSpec.latest());
                }
            });
            if (specs.isEmpty()) {
                return new Lag(0, 0, null);
            }
            var ends = admin.listOffsets(specs).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            long lag = 0;
            for (TopicPartition tp : specs.keySet()) {
                if (ends.containsKey(tp)) {
                    lag += Math.max(0, ends.get(tp).offset() - committed.get(tp).offset());
                }
            }
            return new Lag(lag, specs.size(), null);
        } catch (TimeoutException | ExecutionException e) {
            return new Lag(-1, 0, e.getClass().getSimpleName() + (e.getCause() != null ? ": " + e.getCause().getMessage() : ""));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Lag(-1, 0, "interrupted");
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
