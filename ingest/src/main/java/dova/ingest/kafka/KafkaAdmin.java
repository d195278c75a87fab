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

    /**
     * Creates (with {@code create}) or requires a compacted topic of one partition whose records
     * may be up to {@code maxMessageBytes}: the kind of topic that keeps the last record of every
     * key for ever (a registry), in order. An existing topic that deletes old records, has more
     * than one partition, or refuses records of that size is refused by name, with the setting
     * to fix: it would lose records or reorder them.
     *
     * @throws IllegalArgumentException naming the broker, the topic and what is wrong with it
     */
    public void prepareCompactedTopic(boolean create, String topic, int maxMessageBytes) {
        // a cluster that has just started answers with retriable errors (brokers still fenced, no
        // controller yet, a topic just created and not yet known everywhere) for a moment: retried
        // until the timeout, as the clients retry their own requests
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                prepareCompactedTopicOnce(create, topic, maxMessageBytes);
                return;
            } catch (Transient e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalArgumentException("cannot prepare topic " + topic + " on " + bootstrap + " within "
                            + timeout.toSeconds() + " s (" + describe(e.getCause()) + ")");
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while contacting Kafka at " + bootstrap);
                }
            }
        }
    }

    /** A retriable failure of one attempt at {@link #prepareCompactedTopic}; its cause is the broker's error. */
    private static final class Transient extends Exception {
        Transient(Throwable cause) {
            super(cause);
        }
    }

    private static String describe(Throwable e) {
        Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return c.getClass().getSimpleName() + (c.getMessage() == null || c.getMessage().isEmpty() ? "" : ": " + c.getMessage());
    }

    private void prepareCompactedTopicOnce(boolean create, String topic, int maxMessageBytes) throws Transient {
        try {
            Set<String> names = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!names.contains(topic)) {
                if (!create) {
                    throw new IllegalArgumentException("topic " + topic + " does not exist on " + bootstrap
                            + " and topic creation is off (it must be compacted, of 1 partition: cleanup.policy=compact,"
                            + " max.message.bytes >= " + maxMessageBytes + ")");
                }
                org.apache.kafka.clients.admin.NewTopic t = new org.apache.kafka.clients.admin.NewTopic(topic,
                        java.util.Optional.of(1), java.util.Optional.empty())
                        .configs(Map.of("cleanup.policy", "compact", "max.message.bytes", Integer.toString(maxMessageBytes)));
                try {
                    admin.createTopics(List.of(t)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                        throw e; // another replica creating it at the same time is fine
                    }
                }
                EmbeddedKafka.createTopics(admin, 1, topic); // waits until its partition answers
            }
            var d = admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .get(topic);
            if (d.partitions().size() != 1) {
                throw new IllegalArgumentException("topic " + topic + " on " + bootstrap + " has " + d.partitions().size()
                        + " partitions; it must have exactly 1, so that every reader sees its records in one order");
            }
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
            var config = admin.describeConfigs(List.of(resource)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .get(resource);
            String policy = config.get("cleanup.policy").value();
            if (!List.of(policy.split(",")).contains("compact") || policy.contains("delete")) {
                throw new IllegalArgumentException("topic " + topic + " on " + bootstrap + " has cleanup.policy=" + policy
                        + "; it must be compact alone, or old records would be deleted after the retention time");
            }
            int max = Integer.parseInt(config.get("max.message.bytes").value());
            if (max < maxMessageBytes) {
                throw new IllegalArgumentException("topic " + topic + " on " + bootstrap + " has max.message.bytes=" + max
                        + "; it must be at least " + maxMessageBytes + " to hold its largest records");
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof org.apache.kafka.common.errors.RetriableException
                    || c instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException) {
                throw new Transient(e);
            }
            throw new IllegalArgumentException("cannot prepare topic " + topic + " on " + bootstrap + " (" + describe(e) + ")");
        } catch (TimeoutException e) {
            throw new Transient(e);
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
