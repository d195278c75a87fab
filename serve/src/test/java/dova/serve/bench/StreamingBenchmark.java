package dova.serve.bench;

import com.typesafe.config.ConfigFactory;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.Application;
import dova.serve.config.ServeSettings;
import dova.serve.pool.Deployment;
import dova.serve.pool.Inference;
import dova.serve.pool.ProcessorPool;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * End-to-end throughput and latency of the service at 1, 2 and 4 simulated processors against
 * the raw throughput of the same pool without Kafka and Akka, in one run:
 *   scripts/run-test-main.sh serve dova.serve.bench.StreamingBenchmark [frames]
 * Throughput: a backlog of frames drained as fast as possible. Latency: frames offered at 80%
 * of the service's own measured throughput for 10 s, capture-to-result, exact percentiles (a
 * rate tied to the raw pool would measure queueing once the pool outruns the stream).
 */
public final class StreamingBenchmark {
    static final Path MODEL = Path.of("models", "lenet-mnist-a16m12-wrap.dova");

    public static void main(String[] args) throws Exception {
        int frames = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        IntegerModel model = ModelIo.read(MODEL);
        LabelledImages test = DataSet.MNIST.load(Path.of("data"), DataSet.Split.TEST);
        FrameCodec codec = FrameCodec.defaults();
        ProcessorConfig cfg = ProcessorConfig.paperTarget(Overflow.WRAP);
        List<String> rows = new ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            for (int n : new int[] {1, 2, 4}) {
                double raw = raw(model, cfg, n, test, frames);
                String suffix = "-n" + n;
                String topic = "frames" + suffix;
                kafka.createTopics(4, topic, "results" + suffix, "dead" + suffix);
                produce(kafka, topic, codec, test, frames, 0);
                ServeSettings s = settings(n, suffix);
                AtomicLong results = new AtomicLong();
                List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
                AtomicLong pacedFrom = new AtomicLong(Long.MAX_VALUE);
                Path registry = Files.createTempDirectory("bench-registry");
                double streamFps;
                try (Application app = Application.start(s, registry, kafka.bootstrapServers(), (f, inf, e2e) -> {
                    results.incrementAndGet();
                    if (f.frameId() >= pacedFrom.get()) {
                        latencies.add(e2e);
                    }
                }, null)) {
                    long t0 = System.nanoTime();
                    long firstSeen = -1;
                    while (results.get() < frames) {
                        if (firstSeen < 0 && results.get() > 0) {
                            firstSeen = System.nanoTime(); // the consumer group has joined
                        }
                        Thread.sleep(20);
                    }
                    double seconds = (System.nanoTime() - (firstSeen > 0 ? firstSeen : t0)) / 1e9;
                    streamFps = (frames - 1) / seconds;
                    // latency at 80% of the service's own capacity
                    pacedFrom.set(NEXT_ID.get()); // the ids the paced frames will get
                    double rate = 0.8 * streamFps;
                    int paced = (int) (rate * 10);
                    produce(kafka, topic, codec, test, paced, rate);
                    long deadline = System.currentTimeMillis() + 60_000;
                    while (results.get() < frames + paced && System.currentTimeMillis() < deadline) {
                        Thread.sleep(20);
                    }
                }
                long[] l = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
                double p50 = l.length == 0 ? Double.NaN : l[l.length / 2] / 1e6;
                double p99 = l.length == 0 ? Double.NaN : l[(int) Math.min(l.length - 1, Math.ceil(0.99 * l.length) - 1)] / 1e6;
                rows.add(String.format(Locale.ROOT, "| %d | %.0f | %.0f | %.3f | %.0f | %.1f | %.1f |", n, raw, streamFps,
                        streamFps / raw, 0.8 * streamFps, p50, p99));
                System.out.println(rows.get(rows.size() - 1));
            }
        }
        System.out.println();
        System.out.println("| processors | raw pool frames/s | Kafka + Akka frames/s | ratio | offered frames/s (latency) | p50 ms | p99 ms |");
        System.out.println("|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    static ServeSettings settings(int processors, String suffix) {
        StringBuilder procs = new StringBuilder("dova.pool.processors = [");
        for (int i = 0; i < processors; i++) {
            procs.append(i > 0 ? "," : "").append("{acc-bits = 16, mul-bits = 12, overflow = wrap}");
        }
        procs.append("]\n");
        return ServeSettings.from(ConfigFactory.parseString(procs + "dova.http.port = 0\n"
                + "dova.model.initial = \"" + MODEL + "\"\n"
                + "dova.recalibration.enabled = false\n"
                + "dova.kafka.group-id = \"bench" + suffix + "\"\n"
                + "dova.kafka.frames-topic = \"frames" + suffix + "\"\n"
                + "dova.kafka.results-topic = \"results" + suffix + "\"\n"
                + "dova.kafka.dead-letter-topic = \"dead" + suffix + "\"\n").withFallback(ConfigFactory.load()).resolve());
    }

    /** The pool alone, with the same bound on frames in flight as the stream (parallelism 16). */
    static double raw(IntegerModel model, ProcessorConfig cfg, int n, LabelledImages test, int frames) throws Exception {
        List<ProcessorConfig> configs = new ArrayList<>(Collections.nCopies(n, cfg));
        try (ProcessorPool pool = new ProcessorPool(configs, new Deployment(1, model), 64)) {
            ArrayDeque<CompletableFuture<Inference>> inFlight = new ArrayDeque<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < frames; i++) {
                int img = i % test.count();
                inFlight.add(pool.submit(Arrays.copyOfRange(test.pixels(), img * 784, (img + 1) * 784)));
                if (inFlight.size() >= 16) {
                    inFlight.poll().get();
                }
            }
            while (!inFlight.isEmpty()) {
                inFlight.poll().get();
            }
            return frames / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Produces {@code count} frames with ids from the running total; paced at {@code rate} per second if > 0. */
    static void produce(EmbeddedKafka kafka, String topic, FrameCodec codec, LabelledImages test, int count, double rate)
            throws Exception {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ProducerConfig.LINGER_MS_CONFIG, rate > 0 ? 0 : 5);
        long base = NEXT_ID.getAndAdd(count);
        long t0 = System.nanoTime();
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                if (rate > 0) {
                    long due = t0 + (long) (i * 1e9 / rate);
                    while (System.nanoTime() < due) {
                        Thread.onSpinWait();
                    }
                }
                int img = i % test.count();
                byte[] px = Arrays.copyOfRange(test.pixels(), img * 784, (img + 1) * 784);
                String cam = "cam-" + (i % 4);
                p.send(new ProducerRecord<>(topic, cam, codec.encode(new Frame(cam, base + i, System.currentTimeMillis(),
                        28, 28, 1, px, test.label(img)), PixelFormat.RAW8)));
            }
        }
    }

    private static final AtomicLong NEXT_ID = new AtomicLong();
}
