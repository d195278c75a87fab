package dova.ingest.replay;

import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.sim.data.LabelledImages;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes a labelled data set to Kafka as {@code cameras} cameras (keys {@code cam-0..}),
 * round-robin, at a total target frame rate; camera {@code k} writes to partition
 * {@code k mod partitions} (the key's hash would put 4 cameras on 2 of 4 partitions, idling half
 * of the consumers), so each camera's frames stay in order on one partition; optionally looping, and injects a {@link Drift}
 * from a given time on. Runs on its own thread until stopped, the data set ends (no loop) or
 * {@code maxFrames} are sent.
 */
public final class CameraReplayer implements Runnable {
    /** What to replay and how. */
    /**
     * @param sendLabels whether frames carry their labels; without, frame {@code i} shows image
     *                   {@code i mod count}, so a consumer can look its label up
     */
    public record Settings(String bootstrapServers, String topic, int cameras, double framesPerSecond, boolean loop,
                           long maxFrames, Drift drift, Duration driftAfter, double driftStrength, PixelFormat format,
                           long seed, boolean sendLabels) {
        public Settings {
            if (cameras < 1) {
                throw new IllegalArgumentException("cameras must be >= 1, got " + cameras);
            }
            if (!(framesPerSecond > 0)) {
                throw new IllegalArgumentException("frames per second must be positive, got " + framesPerSecond);
            }
            if (!(driftStrength >= 0 && driftStrength <= 1)) {
                throw new IllegalArgumentException("drift strength must be in [0, 1], got " + driftStrength);
            }
        }
    }

    private final Settings settings;
    private final LabelledImages data;
    private final FrameCodec codec = FrameCodec.defaults();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean drifting;

    public CameraReplayer(Settings settings, LabelledImages data) {
        this.settings = settings;
        this.data = data;
    }

    public long sent() {
        return sent.get();
    }

    public boolean drifting() {
        return drifting;
    }

    public void stop() {
        running.set(false);
    }

    @Override
    public void run() {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        Random rnd = new Random(settings.seed());
        long start = System.nanoTime();
        long periodNanos = (long) (1e9 / settings.framesPerSecond());
        int size = data.pixelsPerImage();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
            int partitions = Math.max(1, producer.partitionsFor(settings.topic()).size());
            long i = 0;
            while (running.get() && (settings.maxFrames() <= 0 || i < settings.maxFrames())) {
                int index = (int) (i % data.count());
                if (i > 0 && index == 0 && !settings.loop()) {
                    break;
                }
                long due = start + i * periodNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                byte[] px = java.util.Arrays.copyOfRange(data.pixels(), index * size, (index + 1) * size);
                drifting = settings.drift() != Drift.NONE
                        && System.nanoTime() - start >= settings.driftAfter().toNanos();
                if (drifting) {
                    settings.drift().apply(px, data.cols(), data.rows(), settings.driftStrength(), rnd);
                }
                int cameraIndex = (int) (i % settings.cameras());
                String camera = "cam-" + cameraIndex;
                Frame f = new Frame(camera, i, System.currentTimeMillis(), data.cols(), data.rows(), 1, px,
                        settings.sendLabels() ? data.label(index) : -1);
                producer.send(new ProducerRecord<>(settings.topic(), cameraIndex % partitions, camera,
                        codec.encode(f, settings.format())));
                sent.incrementAndGet();
                i++;
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
