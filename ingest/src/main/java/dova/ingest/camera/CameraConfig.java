package dova.ingest.camera;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dova.ingest.frame.PixelFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The agent's settings from HOCON (the {@code dova.camera} block, as {@code serve} reads
 * {@code dova.*}): a file given on the command line over the defaults below; the broker from
 * {@code DOVA_KAFKA_BOOTSTRAP_SERVERS} where set. Errors name the key.
 * <pre>
 * dova.camera {
 *   bootstrap-servers = "localhost:9092"
 *   topic = "dova-frames"
 *   format = raw8                  # raw8 | png | jpeg (the frame wire format's pixel encoding)
 *   max-in-flight = 64             # per camera: frames sent and not yet acknowledged, beyond which frames are dropped
 *   reconnect { min = 1s, max = 30s }
 *   metrics { host = "0.0.0.0", port = 9405 }
 *   cameras = [
 *     { id = door-1, url = "rtsp://user:secret@10.0.0.5/stream1", fps = 5 }
 *     { id = yard, url = "http://10.0.0.9/video.mjpg", fps = 2, crop = "640:640:320:40" }
 *   ]
 *   # per camera, with these defaults: width = 28, height = 28, channels = 1, crop = "", realtime = true, loop = false
 * }
 * </pre>
 */
public final class CameraConfig {
    static final String DEFAULTS = """
            dova.camera {
              bootstrap-servers = "localhost:9092"
              bootstrap-servers = ${?DOVA_KAFKA_BOOTSTRAP_SERVERS}
              topic = "dova-frames"
              topic = ${?DOVA_KAFKA_FRAMES_TOPIC}
              format = raw8
              max-in-flight = 64
              reconnect { min = 1s, max = 30s }
              metrics { host = "0.0.0.0", port = 9405 }
              cameras = []
            }
            """;

    private CameraConfig() {
    }

    /** The defaults with {@code file} (if not null) over them. */
    public static Config load(Path file) {
        Config defaults = ConfigFactory.parseString(DEFAULTS);
        Config c = defaults;
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--config " + file + ": no such file");
            }
            try {
                c = ConfigFactory.parseFile(file.toFile()).withFallback(defaults);
            } catch (ConfigException e) {
                throw new IllegalArgumentException("--config " + file + ": " + e.getMessage(), e);
            }
        }
        return c.resolve();
    }

    /** The settings in {@code c}; {@code extra} cameras (from the command line) are added to the file's. */
    public static CameraAgent.Settings settings(Config c, List<CameraSpec> extra) {
        try {
            Config a = c.getConfig("dova.camera");
            List<CameraSpec> cameras = new ArrayList<>();
            int i = 0;
            for (Config cam : a.getConfigList("cameras")) {
                cameras.add(camera(cam, "dova.camera.cameras[" + i++ + "]"));
            }
            cameras.addAll(extra);
            PixelFormat format;
            try {
                format = PixelFormat.valueOf(a.getString("format").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("dova.camera.format must be raw8, png or jpeg, got '" + a.getString("format") + "'");
            }
            return new CameraAgent.Settings(a.getString("bootstrap-servers"), a.getString("topic"), cameras, format,
                    a.getInt("max-in-flight"), a.getDuration("reconnect.min"), a.getDuration("reconnect.max"),
                    a.getString("metrics.host"), a.getInt("metrics.port"));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static CameraSpec camera(Config cam, String where) {
        try {
            return new CameraSpec(cam.getString("id"), cam.getString("url"), cam.getDouble("fps"),
                    cam.hasPath("width") ? cam.getInt("width") : 28, cam.hasPath("height") ? cam.getInt("height") : 28,
                    cam.hasPath("channels") ? cam.getInt("channels") : 1, cam.hasPath("crop") ? cam.getString("crop") : "",
                    !cam.hasPath("realtime") || cam.getBoolean("realtime"), cam.hasPath("loop") && cam.getBoolean("loop"));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(where + ": " + CameraSpec.redact(e.getMessage()), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + CameraSpec.redact(e.getMessage()), e);
        }
    }

    /** A time like "500ms" or "2s" for error messages. */
    static String show(Duration d) {
        return d.toMillis() + " ms";
    }
}
