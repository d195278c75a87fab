package dova.ingest.camera;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The camera agent against a real broker and real FFmpeg: a lossless video file of MNIST digits
 * arrives pixel for pixel; an MJPEG stream served over HTTP by the test is read, dropped mid-stream
 * and resumed (the agent reconnects, the other camera carries on); an undecodable stream is
 * counted as decode errors and the agent stays up; credentials in urls appear nowhere.
 */
class CameraAgentIT {
    static EmbeddedKafka kafka;

    @BeforeAll
    static void broker() throws Exception {
        kafka = EmbeddedKafka.start();
        kafka.createTopics(2, "frames-file", "frames-rgb", "frames-http");
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    static List<Frame> consume(String topic, int atLeast, Duration timeout) throws Exception {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", kafka.bootstrapServers());
        c.put("group.id", "camera-it-" + topic + "-" + System.nanoTime());
        c.put("auto.offset.reset", "earliest");
        List<Frame> out = new ArrayList<>();
        FrameCodec codec = FrameCodec.defaults();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long end = System.nanoTime() + timeout.toNanos();
            while (out.size() < atLeast && System.nanoTime() < end) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(codec.decode(r.key(), r.value()));
                }
            }
        }
        return out;
    }

    /** 100 MNIST-like digits (a deterministic pattern per frame) as raw grey 28x28 frames. */
    static byte[] digits(int n) {
        byte[] px = new byte[n * 784];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    px[i * 784 + y * 28 + x] = (byte) ((x * 9 + y * (i % 7 + 1) * 5 + i * 3) & 0xff);
                }
            }
        }
        return px;
    }

    static void ffmpeg(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-hide_banner", "-loglevel", "error", "-y"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "ffmpeg (Debian package ffmpeg; .ci/run installs it): " + out);
    }

    static CameraAgent.Settings settings(String topic, List<CameraSpec> cameras) {
        return new CameraAgent.Settings(kafka.bootstrapServers(), topic, cameras, PixelFormat.RAW8, 64, Duration.ofMillis(200),
                Duration.ofSeconds(1), "127.0.0.1", 0);
    }

    @Test
    void aLosslessVideoFileArrivesPixelForPixelInOrder(@TempDir Path dir) throws Exception {
        int n = 100;
        byte[] px = digits(n);
        Files.write(dir.resolve("digits.raw"), px);
        ffmpeg(dir, "-f", "rawvideo", "-pix_fmt", "gray", "-s", "28x28", "-r", "10", "-i", "digits.raw", "-c:v", "ffv1",
                "digits.mkv");
        CameraSpec file = new CameraSpec("file-0", dir.resolve("digits.mkv").toString(), 10, 28, 28, 1, "", false, false);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (CameraAgent agent = new CameraAgent(settings("frames-file", List.of(file)), new PrintStream(log, true)).start()) {
            assertTrue(agent.awaitFinished(Duration.ofSeconds(60)), "the file ends: " + log);
            assertTrue(agent.stats("file-0").finished());
            assertEquals(n, agent.stats("file-0").published(), log.toString());
        }
        List<Frame> frames = consume("frames-file", n, Duration.ofSeconds(30));
        assertEquals(n, frames.size());
        for (int i = 0; i < n; i++) {
            Frame f = frames.get(i);
            assertEquals("file-0", f.cameraId());
            assertEquals(i, f.frameId(), "in order, one id per frame");
            assertEquals(-1, f.label());
            assertArrayEquals(java.util.Arrays.copyOfRange(px, i * 784, (i + 1) * 784), f.pixels(), "frame " + i);
        }
    }

    /** A letterboxed RGB camera: a 64x32 red source becomes a 32x32 frame, red in its middle half, black above and below. */
    @Test
    void aWideSourceIsLetterboxedToTheModelsSquare(@TempDir Path dir) throws Exception {
        ffmpeg(dir, "-f", "lavfi", "-i", "color=c=red:s=64x32:r=5:d=1", "-c:v", "ffv1", "red.mkv");
        CameraSpec file = new CameraSpec("rgb-0", dir.resolve("red.mkv").toString(), 5, 32, 32, 3, "", false, false);
        try (CameraAgent agent = new CameraAgent(settings("frames-rgb", List.of(file)), System.err).start()) {
            assertTrue(agent.awaitFinished(Duration.ofSeconds(60)));
        }
        Frame f = consume("frames-rgb", 200, Duration.ofSeconds(5)).stream().filter(x -> x.cameraId().equals("rgb-0"))
                .findFirst().orElseThrow();
        assertEquals(3, f.channels());
        int p = 32 * 32;
        assertTrue((f.pixels()[16 * 32 + 16] & 0xff) > 200, "red plane, centre");
        assertTrue((f.pixels()[p + 16 * 32 + 16] & 0xff) < 40, "green plane, centre");
        assertTrue((f.pixels()[2] & 0xff) < 10 && (f.pixels()[p + 2] & 0xff) < 10, "black padding at the top");
    }

    /** A test MJPEG server: multipart/x-mixed-replace JPEG frames every 40 ms while up; garbage on /broken. */
    static final class Mjpeg implements AutoCloseable {
        final HttpServer server;
        final AtomicBoolean up = new AtomicBoolean(true);

        Mjpeg() throws Exception {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
            BufferedImage img = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 40; y++) {
                for (int x = 0; x < 40; x++) {
                    img.setRGB(x, y, x < 20 ? 0xffffff : 0);
                }
            }
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            ImageIO.write(img, "jpeg", b);
            byte[] jpeg = b.toByteArray();
            server.createContext("/video.mjpg", ex -> {
                if (!up.get()) {
                    ex.sendResponseHeaders(503, -1);
                    ex.close();
                    return;
                }
                ex.getResponseHeaders().add("Content-Type", "multipart/x-mixed-replace;boundary=frame");
                ex.sendResponseHeaders(200, 0);
                try (OutputStream out = ex.getResponseBody()) {
                    while (up.get()) {
                        out.write(("--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + jpeg.length + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        out.write(jpeg);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        Thread.sleep(40);
                    }
                } catch (Exception e) {
                    // the reader went away, or the source "drops": the response ends
                }
            });
            server.createContext("/broken", ex -> {
                ex.getResponseHeaders().add("Content-Type", "video/mp4");
                byte[] junk = new byte[64 * 1024];
                new java.util.Random(1).nextBytes(junk);
                ex.sendResponseHeaders(200, junk.length);
                ex.getResponseBody().write(junk);
                ex.close();
            });
            server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
            server.start();
        }

        String url(String path) {
            return "http://viewer:s3cr3t-pw@127.0.0.1:" + server.getAddress().getPort() + path;
        }

        @Override
        public void close() {
            up.set(false);
            server.stop(0);
        }
    }

    static long waitFor(java.util.function.LongSupplier value, long atLeast, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (value.getAsLong() < atLeast && System.nanoTime() < end) {
            Thread.sleep(50);
        }
        return value.getAsLong();
    }

    @Test
    void anMjpegSourceThatDropsIsReconnectedAndABrokenOneIsCountedWhileTheOthersCarryOn() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Mjpeg mjpeg = new Mjpeg()) {
            CameraSpec live = new CameraSpec("door-1", mjpeg.url("/video.mjpg"), 10, 28, 28, 1, "", true, false);
            CameraSpec broken = new CameraSpec("yard-2", mjpeg.url("/broken"), 10, 28, 28, 1, "", true, false);
            try (CameraAgent agent = new CameraAgent(settings("frames-http", List.of(live, broken)),
                    new PrintStream(log, true, StandardCharsets.UTF_8)).start()) {
                CameraAgent.Stats door = agent.stats("door-1");
                CameraAgent.Stats yard = agent.stats("yard-2");
                assertTrue(waitFor(door::published, 10, Duration.ofSeconds(30)) >= 10, "MJPEG frames arrive: " + log);
                assertTrue(waitFor(yard::decodeErrors, 1, Duration.ofSeconds(30)) >= 1, "garbage is a decode error: " + log);
                // the source drops for a second and comes back
                mjpeg.up.set(false);
                assertTrue(waitFor(door::reconnects, 1, Duration.ofSeconds(20)) >= 1, "the agent reconnects: " + log);
                Thread.sleep(1000);
                long before = door.published();
                mjpeg.up.set(true);
                assertTrue(waitFor(door::published, before + 10, Duration.ofSeconds(30)) >= before + 10,
                        "frames again after the source returns: " + log);
                assertTrue(yard.reconnects() >= 1 && yard.published() == 0, "the broken camera keeps being retried");
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + agent.metricsPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(metrics.contains("dova_camera_frames_published_total{camera=\"door-1\"}"), metrics);
                assertTrue(metrics.contains("dova_camera_decode_errors_total{camera=\"yard-2\"}"), metrics);
                assertTrue(metrics.contains("dova_camera_reconnects_total{camera=\"door-1\"}"), metrics);
                assertTrue(!metrics.contains("s3cr3t") && !metrics.contains("viewer"), "no credentials in metrics");
            }
        }
        List<Frame> frames = consume("frames-http", 20, Duration.ofSeconds(20));
        assertTrue(frames.size() >= 20);
        Frame f = frames.get(0);
        assertEquals("door-1", f.cameraId());
        // the white left half of the 40x40 source, letterboxed to 28x28 (square: no padding)
        assertTrue((f.pixels()[14 * 28 + 3] & 0xff) > 200 && (f.pixels()[14 * 28 + 24] & 0xff) < 50, "left white, right black");
        String out = log.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("reconnecting to http://***@127.0.0.1:"), out);
        assertTrue(!out.contains("s3cr3t") && !out.contains("viewer:"), "no credentials in the log: " + out);
    }
}
