package dova.ingest.camera;

import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The camera agent: each camera on its own thread, its stream decoded by its own FFmpeg process
 * ({@link FfmpegReader}), its frames published to the frames topic in the wire format with the
 * camera id as key, a frame id counting up per camera and the capture time. A source that ends,
 * drops or cannot be decoded is reopened with exponential back-off (a file without {@code loop}
 * is finished instead), and never affects the other cameras. When Kafka is slow a live camera's
 * frames are dropped and counted, never queued without bound: each camera has at most
 * {@link Settings#maxInFlight} frames sent and not yet acknowledged (a file read as fast as it
 * decodes waits instead: it is not live). Metrics per camera on the
 * agent's own {@code /metrics}; urls appear only with their credentials redacted.
 */
public final class CameraAgent implements AutoCloseable {
    /** The agent's settings. */
    public record Settings(String bootstrapServers, String topic, List<CameraSpec> cameras, PixelFormat format,
                           int maxInFlight, Duration reconnectMin, Duration reconnectMax, String metricsHost,
                           int metricsPort) {
        public Settings {
            if (cameras.isEmpty()) {
                throw new IllegalArgumentException("dova.camera.cameras: no cameras configured");
            }
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (CameraSpec c : cameras) {
                if (!ids.add(c.id())) {
                    throw new IllegalArgumentException("dova.camera.cameras: camera id " + c.id() + " appears twice");
                }
                c.checkUrl();
            }
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("dova.camera.max-in-flight must be >= 1, got " + maxInFlight);
            }
            if (reconnectMin.isNegative() || reconnectMin.isZero() || reconnectMax.compareTo(reconnectMin) < 0) {
                throw new IllegalArgumentException("dova.camera.reconnect: need 0 < min <= max, got " + reconnectMin + ", "
                        + reconnectMax);
            }
            if (metricsPort < -1 || metricsPort > 65535) {
                throw new IllegalArgumentException("dova.camera.metrics.port must be in [0, 65535], or -1 for none, got "
                        + metricsPort);
            }
            cameras = List.copyOf(cameras);
        }
    }

    /** One camera's counters (the same values as its metrics). */
    public static final class Stats {
        final AtomicLong published = new AtomicLong();
        final AtomicLong droppedBackpressure = new AtomicLong();
        final AtomicLong sendFailures = new AtomicLong();
        final AtomicLong reconnects = new AtomicLong();
        final AtomicLong decodeErrors = new AtomicLong();
        final AtomicInteger up = new AtomicInteger();
        volatile boolean finished;

        public long published() {
            return published.get();
        }

        public long dropped() {
            return droppedBackpressure.get() + sendFailures.get();
        }

        public long reconnects() {
            return reconnects.get();
        }

        public long decodeErrors() {
            return decodeErrors.get();
        }

        public boolean finished() {
            return finished;
        }
    }

    private final Settings settings;
    private final PrintStream log;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final FrameCodec codec = FrameCodec.defaults();
    private final Map<String, Stats> stats = new HashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private final List<FfmpegReader> open = new ArrayList<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private KafkaProducer<String, byte[]> producer;
    private com.sun.net.httpserver.HttpServer http;

    public CameraAgent(Settings settings, PrintStream log) {
        this.settings = settings;
        this.log = log;
        for (CameraSpec c : settings.cameras()) {
            Stats s = new Stats();
            stats.put(c.id(), s);
            String[] tag = {"camera", c.id()};
            FunctionCounter.builder("dova_camera_frames_published", s.published, AtomicLong::get).tags(tag)
                    .description("frames published to Kafka").register(registry);
            FunctionCounter.builder("dova_camera_frames_dropped", s.droppedBackpressure, AtomicLong::get).tags(tag)
                    .tag("reason", "backpressure").description("frames dropped: Kafka slower than the camera, or the"
                            + " send failed").register(registry);
            FunctionCounter.builder("dova_camera_frames_dropped", s.sendFailures, AtomicLong::get).tags(tag)
                    .tag("reason", "send_failed").description("frames dropped: Kafka slower than the camera, or the"
                            + " send failed").register(registry);
            FunctionCounter.builder("dova_camera_reconnects", s.reconnects, AtomicLong::get).tags(tag)
                    .description("times the source was reopened after it ended, dropped or failed").register(registry);
            FunctionCounter.builder("dova_camera_decode_errors", s.decodeErrors, AtomicLong::get).tags(tag)
                    .description("errors FFmpeg reported opening or decoding the source").register(registry);
            Gauge.builder("dova_camera_up", s.up, AtomicInteger::get).tags(tag)
                    .description("1 while frames arrive from the source").register(registry);
        }
    }

    public Stats stats(String camera) {
        Stats s = stats.get(camera);
        if (s == null) {
            throw new IllegalArgumentException("no camera " + camera);
        }
        return s;
    }

    public String scrape() {
        return registry.scrape();
    }

    /** The port /metrics listens on (0 before start or when disabled). */
    public int metricsPort() {
        return http == null ? 0 : http.getAddress().getPort();
    }

    /** Starts /metrics, the producer and one thread per camera. */
    public CameraAgent start() throws IOException {
        if (settings.metricsPort() >= 0) {
            http = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress(settings.metricsHost(), settings.metricsPort()), 16);
            http.createContext("/metrics", ex -> {
                byte[] body = scrape().getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            http.setExecutor(null);
            http.start();
        }
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000); // metadata or buffer waits end in a counted drop
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        producer = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
        for (int i = 0; i < settings.cameras().size(); i++) {
            CameraSpec spec = settings.cameras().get(i);
            int index = i;
            Thread t = new Thread(() -> runCamera(spec, index), "camera-" + spec.id());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        return this;
    }

    private void runCamera(CameraSpec spec, int index) {
        Stats s = stats.get(spec.id());
        Semaphore inFlight = new Semaphore(settings.maxInFlight());
        long frameId = 0;
        long backoff = settings.reconnectMin().toMillis();
        int partitions = -1;
        while (stop.getCount() > 0) {
            long before = s.published.get() + s.droppedBackpressure.get() + s.sendFailures.get();
            try (FfmpegReader reader = open(spec)) {
                if (reader == null) {
                    return;
                }
                if (partitions < 0) {
                    partitions = partitions();
                }
                byte[] px;
                while (stop.getCount() > 0 && (px = reader.next()) != null) {
                    s.up.set(1);
                    backoff = settings.reconnectMin().toMillis(); // frames arrive: the next failure starts over
                    Frame f = new Frame(spec.id(), frameId++, System.currentTimeMillis(), spec.width(), spec.height(),
                            spec.channels(), spec.channels() == 1 ? px : planar(px, spec.width() * spec.height()), -1);
                    publish(spec, index, partitions, f, inFlight, s);
                }
                s.up.set(0);
                int exit = reader.exitStatus();
                long errors = reader.errorLines();
                long frames = s.published.get() + s.droppedBackpressure.get() + s.sendFailures.get() - before;
                if (stop.getCount() == 0) {
                    return;
                }
                if (errors > 0 || (exit != 0 && exit != -1)) {
                    s.decodeErrors.addAndGet(Math.max(1, errors));
                    log.printf("camera %s: %s ended after %d frames (ffmpeg exit %d): %s%n", spec.id(), spec.safeUrl(), frames,
                            exit, reader.lastErrors());
                }
                if (spec.kind() == CameraSpec.Kind.FILE && !spec.loop() && errors == 0 && exit == 0) {
                    // finished once every frame sent is acknowledged (or failed)
                    if (inFlight.tryAcquire(settings.maxInFlight(), 60, java.util.concurrent.TimeUnit.SECONDS)) {
                        inFlight.release(settings.maxInFlight());
                    }
                    s.finished = true;
                    log.printf("camera %s: %s finished (%d frames)%n", spec.id(), spec.safeUrl(), frameId);
                    return;
                }
            } catch (IOException e) {
                if (stop.getCount() == 0) {
                    return; // the agent closed the stream
                }
                s.decodeErrors.incrementAndGet();
                log.printf("camera %s: %s%n", spec.id(), CameraSpec.redact(e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (spec.kind() == CameraSpec.Kind.FILE && spec.loop()) {
                continue; // a looping file starts again at once
            }
            s.reconnects.incrementAndGet();
            log.printf("camera %s: reconnecting to %s in %d ms%n", spec.id(), spec.safeUrl(), backoff);
            try {
                if (stop.await(backoff, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            backoff = Math.min(settings.reconnectMax().toMillis(), backoff * 2);
        }
    }

    /** Opens the camera's FFmpeg process, registered for close(); null once the agent stops. */
    private FfmpegReader open(CameraSpec spec) throws IOException {
        synchronized (open) {
            if (stop.getCount() == 0) {
                return null;
            }
            FfmpegReader r = new FfmpegReader(spec);
            open.add(r);
            return r;
        }
    }

    private int partitions() {
        try {
            return Math.max(1, producer.partitionsFor(settings.topic()).size());
        } catch (RuntimeException e) {
            return 1; // unknown yet: the key's partitioner decides
        }
    }

    private void publish(CameraSpec spec, int index, int partitions, Frame f, Semaphore inFlight, Stats s)
            throws InterruptedException {
        if (spec.kind() == CameraSpec.Kind.FILE && !spec.realtime()) {
            inFlight.acquire(); // a file read as fast as it decodes waits for Kafka: it is not live, nothing is lost
        } else if (!inFlight.tryAcquire()) {
            s.droppedBackpressure.incrementAndGet();
            return;
        }
        try {
            // camera k of the configuration on partition k mod partitions: the cameras spread over all of them
            producer.send(new ProducerRecord<>(settings.topic(), index % partitions, spec.id(), codec.encode(f, settings.format())),
                    (md, e) -> {
                        // counted before the permit returns: a finished file's count is then complete
                        if (e == null) {
                            s.published.incrementAndGet();
                        } else {
                            s.sendFailures.incrementAndGet();
                        }
                        inFlight.release();
                    });
        } catch (RuntimeException e) {
            inFlight.release();
            s.sendFailures.incrementAndGet();
        }
    }

    /** RGB interleaved (HWC, as FFmpeg writes rgb24) to the frame format's planes (CHW). */
    static byte[] planar(byte[] hwc, int pixels) {
        byte[] chw = new byte[hwc.length];
        for (int i = 0; i < pixels; i++) {
            chw[i] = hwc[3 * i];
            chw[pixels + i] = hwc[3 * i + 1];
            chw[2 * pixels + i] = hwc[3 * i + 2];
        }
        return chw;
    }

    /** Waits until every camera is finished (files without loop) or {@code timeout} passes; true if all finished. */
    public boolean awaitFinished(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            t.join(Math.max(1, left / 1_000_000));
        }
        return threads.stream().noneMatch(Thread::isAlive);
    }

    @Override
    public void close() {
        stop.countDown();
        synchronized (open) {
            open.forEach(FfmpegReader::close);
        }
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        if (http != null) {
            http.stop(0);
        }
        registry.close();
    }
}
