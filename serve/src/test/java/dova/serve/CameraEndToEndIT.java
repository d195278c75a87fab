package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.ingest.camera.CameraAgent;
import dova.ingest.camera.CameraSpec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.config.ServeSettings;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A camera end to end: MNIST test digits encoded as an H.264 video (one digit per frame), played
 * by the camera agent through FFmpeg to a real broker, served by the service on the shipped model;
 * each result's frame id names the digit it saw, so the predictions are checked against the labels.
 */
class CameraEndToEndIT {
    @Test
    void anH264ClipOfDigitsIsServedAndItsPredictionsMatchTheLabels(@TempDir Path dir) throws Exception {
        int n = 300;
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST).head(n);
        Files.write(dir.resolve("digits.raw"), test.pixels());
        Process enc = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt",
                "gray", "-s", "28x28", "-r", "25", "-i", "digits.raw", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p",
                "digits.mp4").directory(dir.toFile()).redirectErrorStream(true).start();
        String encOut = new String(enc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, enc.waitFor(), "ffmpeg (Debian package ffmpeg; .ci/run installs it): " + encOut);

        ServeSettings s = ServiceIT.settings("dova.kafka.group-id = \"cam-e2e\"\ndova.kafka.frames-topic = \"f-cam\"\n"
                + "dova.kafka.results-topic = \"r-cam\"\ndova.kafka.dead-letter-topic = \"d-cam\"");
        Map<Long, Integer> predicted = new ConcurrentHashMap<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             Application app = Application.start(s, dir.resolve("registry"), kafka.bootstrapServers(),
                     (frame, inf, e2e) -> predicted.put(frame.frameId(), inf.predicted()), null)) {
            CameraSpec clip = new CameraSpec("clip-0", dir.resolve("digits.mp4").toString(), 25, 28, 28, 1, "", false, false);
            try (CameraAgent agent = new CameraAgent(new CameraAgent.Settings(kafka.bootstrapServers(), "f-cam", List.of(clip),
                    PixelFormat.PNG, 64, Duration.ofMillis(200), Duration.ofSeconds(2), "127.0.0.1", -1), System.err).start()) {
                assertTrue(agent.awaitFinished(Duration.ofSeconds(120)), "the clip ends");
                assertEquals(n, agent.stats("clip-0").published());
            }
            long end = System.nanoTime() + 60_000_000_000L;
            while (predicted.size() < n && System.nanoTime() < end) {
                Thread.sleep(100);
            }
        }
        assertEquals(n, predicted.size(), "every frame of the clip was served");
        int correct = 0;
        for (int i = 0; i < n; i++) {
            correct += predicted.get((long) i) == test.label(i) ? 1 : 0;
        }
        // H.264 (4:2:0, lossless quantiser, limited-range luma) changes pixels by a few levels: the digits stay legible
        assertTrue(correct >= 0.95 * n, correct + " of " + n + " correct");
    }
}
