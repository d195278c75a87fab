package dova.ingest.camera;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CameraConfigTest {
    @Test
    void credentialsAreRedactedWhereverAUrlIsShown() {
        assertEquals("rtsp://***@10.0.0.5:554/stream1", CameraSpec.redact("rtsp://admin:hunter2@10.0.0.5:554/stream1"));
        assertEquals("opening http://***@cam/x.mjpg failed, then rtsps://***@h/y",
                CameraSpec.redact("opening http://u:p@cam/x.mjpg failed, then rtsps://token@h/y"));
        assertEquals("/dev/video0", CameraSpec.redact("/dev/video0"));
        assertEquals("rtsp://10.0.0.5/stream1", CameraSpec.redact("rtsp://10.0.0.5/stream1"));
        CameraSpec c = new CameraSpec("door-1", "rtsp://admin:hunter2@10.0.0.5/s", 5, 28, 28, 1, "", true, false);
        assertEquals("rtsp://***@10.0.0.5/s", c.safeUrl());
        assertEquals(CameraSpec.Kind.RTSP, c.kind());
    }

    @Test
    void theCommandLineHasTheSamplingCropLetterboxAndPixelFormat() {
        CameraSpec c = new CameraSpec("yard", "http://cam/video.mjpg", 2.5, 32, 24, 3, "640:480:10:20", true, false);
        List<String> cmd = FfmpegReader.command(c);
        String vf = cmd.get(cmd.indexOf("-vf") + 1);
        assertEquals("fps=2.5,crop=640:480:10:20,scale=32:24:force_original_aspect_ratio=decrease:flags=area,"
                + "pad=32:24:(ow-iw)/2:(oh-ih)/2:black,format=rgb24", vf);
        assertEquals("http://cam/video.mjpg", cmd.get(cmd.indexOf("-i") + 1), "the url is one argument, no shell");
        assertTrue(cmd.contains("-rw_timeout"));
        assertTrue(FfmpegReader.command(new CameraSpec("f", "clip.mp4", 5, 28, 28, 1, "", true, false)).contains("-re"));
        assertTrue(!FfmpegReader.command(new CameraSpec("f", "clip.mp4", 5, 28, 28, 1, "", false, false)).contains("-re"));
        assertTrue(FfmpegReader.command(new CameraSpec("d", "/dev/video0", 5, 28, 28, 1, "", true, false)).contains("v4l2"));
    }

    @Test
    void aConfigFileListsCamerasAndItsErrorsNameTheKeyWithoutCredentials(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("cameras.conf"), """
                dova.camera {
                  topic = "frames"
                  metrics.port = 9500
                  cameras = [
                    { id = door-1, url = "rtsp://admin:hunter2@10.0.0.5/stream1", fps = 5 }
                    { id = yard, url = "http://10.0.0.9/video.mjpg", fps = 2, crop = "640:640:320:40", channels = 3, width = 32, height = 32 }
                  ]
                }
                """);
        CameraAgent.Settings s = CameraConfig.settings(CameraConfig.load(f), List.of());
        assertEquals("frames", s.topic());
        assertEquals(9500, s.metricsPort());
        assertEquals(2, s.cameras().size());
        assertEquals(28, s.cameras().get(0).width());
        assertEquals(3, s.cameras().get(1).channels());
        Path bad = Files.writeString(dir.resolve("bad.conf"), """
                dova.camera.cameras = [ { id = door-1, url = "rtsp://admin:hunter2@10.0.0.5/s", fps = 0 } ]
                """);
        String m = assertThrows(IllegalArgumentException.class, () -> CameraConfig.settings(CameraConfig.load(bad), List.of()))
                .getMessage();
        assertTrue(m.contains("dova.camera.cameras[0]") && m.contains("frames per second"), m);
        Path twice = Files.writeString(dir.resolve("twice.conf"), """
                dova.camera.cameras = [ { id = a, url = "x.mp4", fps = 1 }, { id = a, url = "y.mp4", fps = 1 } ]
                """);
        m = assertThrows(IllegalArgumentException.class, () -> CameraConfig.settings(CameraConfig.load(twice), List.of()))
                .getMessage();
        assertTrue(m.contains("camera id a appears twice"), m);
        Path nohost = Files.writeString(dir.resolve("nohost.conf"), """
                dova.camera.cameras = [ { id = a, url = "rtsp://admin:hunter2@/s", fps = 1 } ]
                """);
        m = assertThrows(IllegalArgumentException.class, () -> CameraConfig.settings(CameraConfig.load(nohost), List.of()))
                .getMessage();
        assertTrue(!m.contains("hunter2"), m);
        assertThrows(IllegalArgumentException.class, () -> CameraConfig.settings(CameraConfig.load(dir.resolve("none.conf")),
                List.of()));
        assertThrows(IllegalArgumentException.class, () -> new CameraSpec("bad id!", "x", 1, 28, 28, 1, "", true, false));
        assertThrows(IllegalArgumentException.class, () -> new CameraSpec("a", "x", 1, 28, 28, 2, "", true, false));
        assertThrows(IllegalArgumentException.class, () -> new CameraSpec("a", "x", 1, 28, 28, 1, "1:2", true, false));
    }
}
