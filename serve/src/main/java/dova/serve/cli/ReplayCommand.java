package dova.serve.cli;

import dova.ingest.frame.PixelFormat;
import dova.ingest.replay.CameraReplayer;
import dova.ingest.replay.Drift;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Publishes a data set to Kafka as cameras. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Publish a labelled data set to a Kafka topic as N cameras at a target frame rate, with optional drift.")
public final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers")
    String bootstrap;

    @Option(names = "--topic", defaultValue = "dova-frames", description = "frames topic (default: ${DEFAULT-VALUE})")
    String topic;

    @Mixin
    DataOptions dataSet = new DataOptions();

    @Option(names = "--cameras", defaultValue = "4", description = "cameras (default: ${DEFAULT-VALUE})")
    int cameras;

    @Option(names = "--fps", defaultValue = "200", description = "total frames per second (default: ${DEFAULT-VALUE})")
    double fps;

    @Option(names = "--loop", description = "start over at the end of the data set")
    boolean loop;

    @Option(names = "--frames", defaultValue = "0", description = "stop after N frames (default: the data set once)")
    long frames;

    @Option(names = "--drift", defaultValue = "none", description = "none, brightness, contrast, noise or blur")
    String drift;

    @Option(names = "--drift-after", defaultValue = "10", description = "seconds before the drift starts")
    long driftAfter;

    @Option(names = "--drift-strength", defaultValue = "0.8", description = "0..1 (default: ${DEFAULT-VALUE})")
    double strength;

    @Option(names = "--no-labels", description = "send the frames without their labels, as a real camera's")
    boolean noLabels;

    @Option(names = "--format", defaultValue = "raw8", description = "raw8, png or jpeg (default: ${DEFAULT-VALUE})")
    String format;

    @Override
    public Integer call() throws Exception {
        PixelFormat f = Options.choice("--format", format, PixelFormat.class);
        Options.range("--cameras", cameras, 1, 10_000);
        Options.positive("--fps", fps);
        Options.requireTopic(bootstrap, topic);
        var set = dataSet.test(0);
        CameraReplayer r = new CameraReplayer(new CameraReplayer.Settings(bootstrap, topic, cameras, fps, loop, frames,
                Drift.parse(drift), Duration.ofSeconds(driftAfter), strength, f, 1, !noLabels), set);
        Thread t = new Thread(r, "replay");
        t.start();
        while (t.isAlive()) {
            t.join(1000);
            System.err.printf("\rsent %d frames%s", r.sent(), r.drifting() ? " [drift]" : "");
        }
        System.err.println();
        return 0;
    }
}
