package dova.serve.recal;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Which replica decides and runs recalibration: the member of the consumer group
 * {@code <group>-leader} that Kafka assigns partition 0 of the control topic. Kafka's group
 * coordinator is the only arbiter (no home-made consensus): a replica that stops or is
 * partitioned away loses the partition when its session expires (or at once when it leaves the
 * group cleanly), and another member is assigned it. A replica is leader only while it holds the
 * assignment, and never reads a record of the topic: membership is all it is for.
 */
public final class Leadership implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final AtomicBoolean leader = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong changes = new AtomicLong();
    private final Thread thread;

    /**
     * @param group the service's consumer group; the election runs in {@code group + "-leader"}
     * @param instanceId this replica's static member id, or "" for a dynamic member
     */
    public Leadership(String bootstrap, String group, String instanceId, String topic, Duration sessionTimeout) {
        this.topic = topic;
        Map<String, Object> c = new java.util.HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group + "-leader");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) sessionTimeout.toMillis());
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, sessionTimeout.toMillis() / 4));
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        if (!instanceId.isEmpty()) {
            c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId + "-leader");
        }
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        thread = new Thread(this::run, "leadership");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        TopicPartition zero = new TopicPartition(topic, 0);
        try {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (partitions.contains(zero) && leader.compareAndSet(true, false)) {
                        changes.incrementAndGet();
                    }
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    if (partitions.contains(zero) && leader.compareAndSet(false, true)) {
                        changes.incrementAndGet();
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    onPartitionsRevoked(partitions);
                }
            });
            while (running.get()) {
                consumer.poll(Duration.ofMillis(500)); // the heartbeat and the rebalances; no records matter
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            if (running.get()) {
                System.err.println("leadership: election stopped, this replica will not recalibrate: " + e);
            }
        } finally {
            leader.set(false);
            consumer.close(Duration.ofSeconds(5)); // leaving the group hands leadership over at once
        }
    }

    /** Whether this replica holds the control topic's partition 0 now. */
    public boolean isLeader() {
        return leader.get();
    }

    /** How many times this replica became or stopped being leader. */
    public long changes() {
        return changes.get();
    }

    @Override
    public void close() {
        running.set(false);
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
