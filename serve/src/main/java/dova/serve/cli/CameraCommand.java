package dova.serve.cli;

import dova.ingest.camera.CameraAgent;
import dova.ingest.camera.CameraConfig;
import dova.ingest.camera.CameraSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Real cameras to Kafka. */
@Command(name = "camera", mixinStandardHelpOptions = true,
        description = "Publish real cameras to the frames topic: RTSP, MJPEG or other HTTP streams, video files and V4L2"
                + " devices, each decoded by its own FFmpeg process, sampled to a frame rate, cropped, letterboxed to the"
                + " model's size and converted to grey or RGB. Cameras from --config (HOCON, dova.camera.cameras) and/or"
                + " --source. Per-camera metrics on /metrics; urls are logged without their credentials.")
public final class CameraCommand implements Callable<Integer> {
    @Option(names = "--config", description = "HOCON file with a dova.camera block (cameras, broker, metrics port)")
    Path config;

    @Option(names = "--source", description = "one more camera: rtsp://..., http://... (MJPEG), a video file or /dev/videoN")
    String source;

    @Option(names = "--id", defaultValue = "cam-0", description = "camera id of --source (default: ${DEFAULT-VALUE})")
    String id;

    @Option(names = "--fps", defaultValue = "5", description = "frames per second sampled from --source (default: ${DEFAULT-VALUE})")
    double fps;

    @Option(names = "--size", defaultValue = "28x28", description = "frame size WxH for --source (default: ${DEFAULT-VALUE})")
    String size;

    @Option(names = "--channels", defaultValue = "1", description = "1 (grey) or 3 (RGB) for --source (default: ${DEFAULT-VALUE})")
    int channels;

    @Option(names = "--crop", defaultValue = "", description = "w:h:x:y crop of --source, in its pixels (default: none)")
    String crop;

    @Option(names = "--loop", description = "play a --source file again when it ends")
    boolean loop;

    @Option(names = "--as-fast-as-possible", description = "read a --source file as fast as it decodes, not at its own rate")
    boolean fast;

    @Option(names = "--bootstrap-servers", description = "Kafka (default: dova.camera.bootstrap-servers, DOVA_KAFKA_BOOTSTRAP_SERVERS)")
    String bootstrap;

    @Option(names = "--topic", description = "frames topic (default: dova.camera.topic, dova-frames)")
    String topic;

    @Option(names = "--metrics-port", description = "port of /metrics, -1 for none (default: dova.camera.metrics.port, 9405)")
    Integer metricsPort;

    @Override
    public Integer call() throws Exception {
        var c = CameraConfig.load(config);
        if (bootstrap != null) {
            c = c.withValue("dova.camera.bootstrap-servers", com.typesafe.config.ConfigValueFactory.fromAnyRef(bootstrap));
        }
        if (topic != null) {
            c = c.withValue("dova.camera.topic", com.typesafe.config.ConfigValueFactory.fromAnyRef(topic));
        }
        if (metricsPort != null) {
            c = c.withValue("dova.camera.metrics.port", com.typesafe.config.ConfigValueFactory.fromAnyRef(metricsPort));
        }
        List<CameraSpec> extra = new ArrayList<>();
        if (source != null) {
            String[] wh = size.split("x");
            if (wh.length != 2 || !wh[0].matches("\\d{1,4}") || !wh[1].matches("\\d{1,4}")) {
                throw new IllegalArgumentException("--size must be WxH, for example 28x28, got '" + size + "'");
            }
            try {
                extra.add(new CameraSpec(id, source, fps, Integer.parseInt(wh[0]), Integer.parseInt(wh[1]), channels, crop,
                        !fast, loop));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--source: " + e.getMessage());
            }
        }
        CameraAgent.Settings s = CameraConfig.settings(c, extra);
        Options.requireTopic(s.bootstrapServers(), s.topic());
        try (CameraAgent agent = new CameraAgent(s, System.err).start()) {
            Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "camera-shutdown"));
            System.err.println("dova camera: " + s.cameras().size() + " camera(s) to " + s.topic() + " at " + s.bootstrapServers()
                    + (agent.metricsPort() > 0 ? ", metrics on :" + agent.metricsPort() + "/metrics" : ""));
            for (CameraSpec cam : s.cameras()) {
                System.err.println("  " + cam.id() + ": " + cam.safeUrl() + " at " + cam.framesPerSecond() + " fps, "
                        + cam.width() + "x" + cam.height() + (cam.channels() == 1 ? " grey" : " RGB"));
            }
            while (!agent.awaitFinished(Duration.ofSeconds(10))) {
                StringBuilder line = new StringBuilder("published");
                for (CameraSpec cam : s.cameras()) {
                    var st = agent.stats(cam.id());
                    line.append(' ').append(cam.id()).append('=').append(st.published())
                            .append(st.dropped() > 0 ? " (" + st.dropped() + " dropped)" : "");
                }
                System.err.println(line);
            }
            System.err.println("dova camera: every source finished");
        }
        return 0;
    }
}
