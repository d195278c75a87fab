package dova.serve.recal;

import dova.calibrate.observe.RangeProfile;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Range statistics shared by the replicas of one consumer group, so that the replica that
 * recalibrates plans on what the whole fleet saw, not on its own partitions alone. Every replica
 * publishes each window's {@link RangeProfile} to {@code <frames-topic>-calibration} (one
 * partition, keyed by replica; value: the serving version, then the profile's bytes); every
 * replica follows the topic from its end and keeps each other replica's latest window.
 * {@link #merged} adds those of the same model version and younger than {@code maxAge} to a
 * replica's own window.
 *
 * <p>Snapshots are statistics, not state: a lost or refused one (malformed, counted in
 * {@link #refused()}) only narrows the next plan to fewer replicas. Sending never blocks the
 * stream: a window is handed to the producer and not waited for.
 */
public final class CalibrationShare implements AutoCloseable {
    /** Largest snapshot accepted: a profile of a few hundred layers. */
    static final int MAX_BYTES = 4 << 20;

    /** One replica's latest window. */
    record Snapshot(int version, RangeProfile profile, long receivedNanos) {
    }

    /** A merged profile and how many replicas' windows it holds (this one's included). */
    public record Merged(RangeProfile profile, int replicas) {
    }

    private final String topic;
    private final String self;
    private final Duration maxAge;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, Snapshot> latest = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile long refused;

    public CalibrationShare(String bootstrap, String topic, String self, Duration maxAge) {
        this.topic = topic;
        this.self = self;
        this.maxAge = maxAge;
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "1"); // statistics: a lost window costs one window
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_BYTES + 4096);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000); // never hold the stream's thread for long
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"); // histograms are mostly zeros
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_BYTES + 4096);
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        thread = new Thread(this::follow, "dova-calibration-share");
        thread.setDaemon(true);
        thread.start();
    }

    /** Publishes this replica's window of version {@code version}, without waiting. */
    public void publish(int version, RangeProfile window) {
        byte[] profile = window.toBytes();
        byte[] value = ByteBuffer.allocate(Integer.BYTES + profile.length).putInt(version).put(profile).array();
        try {
            producer.send(new ProducerRecord<>(topic, 0, self, value), (meta, e) -> {
                if (e != null) {
                    System.err.println("dova: a calibration window was not shared: " + e.getMessage());
                }
            });
        } catch (RuntimeException e) { // the broker unreachable for max.block.ms: this window is not shared
            System.err.println("dova: a calibration window was not shared: " + e.getMessage());
        }
    }

    /** {@code own} merged with every other replica's latest window of {@code version} younger than the maximum age. */
    public Merged merged(int version, RangeProfile own) {
        RangeProfile m = own.copy();
        int replicas = 1;
        long now = System.nanoTime();
        for (Map.Entry<String, Snapshot> e : latest.entrySet()) {
            Snapshot s = e.getValue();
            if (!e.getKey().equals(self) && s.version() == version && now - s.receivedNanos() <= maxAge.toNanos()) {
                m.merge(s.profile());
                replicas++;
            }
        }
        return new Merged(m, replicas);
    }

    /** Snapshots refused as malformed so far. */
    public long refused() {
        return refused;
    }

    private void follow() {
        TopicPartition tp = new TopicPartition(topic, 0);
        try {
            consumer.assign(List.of(tp));
            consumer.seekToEnd(List.of(tp)); // only what is seen from now on: older windows describe older traffic
            while (!closed) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    arrived(r);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            System.err.println("dova: stopped following calibration topic " + topic + ": " + e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void arrived(ConsumerRecord<String, byte[]> r) {
        if (r.key() == null || r.key().equals(self)) {
            return;
        }
        byte[] v = r.value();
        try {
            if (v == null || v.length < Integer.BYTES || v.length > MAX_BYTES) {
                throw new IllegalArgumentException("a snapshot of " + (v == null ? "no" : v.length) + " bytes");
            }
            int version = ByteBuffer.wrap(v).getInt();
            RangeProfile p = RangeProfile.fromBytes(java.util.Arrays.copyOfRange(v, Integer.BYTES, v.length));
            latest.put(r.key(), new Snapshot(version, p, System.nanoTime()));
        } catch (IllegalArgumentException e) {
            refused++;
            System.err.println("dova: refused calibration snapshot from '"
                    + r.key() + "' at offset "
                    + r.offset() + " of " + topic + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(2));
    }
}
