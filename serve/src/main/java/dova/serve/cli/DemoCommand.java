package dova.serve.cli;

import dova.serve.config.ServeSettings;
import dova.serve.demo.Demo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** README's main command. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start an embedded Kafka broker, replay the test set as cameras, serve it on simulated processors,"
                + " inject a drift part-way, recalibrate, and print a summary. Settings: application.conf (dova.demo.*),"
                + " overridable by environment variables (e.g. DOVA_DEMO_DURATION=30s).")
public final class DemoCommand implements Callable<Integer> {
    @picocli.CommandLine.Option(names = "--source", defaultValue = "${env:DOVA_DEMO_SOURCE}",
            description = "a video file (or camera url) to play through the camera agent instead of the data set; its"
                    + " frames are unlabelled, so no accuracy is shown (env DOVA_DEMO_SOURCE)")
    String source;

    @picocli.CommandLine.Option(names = "--replicas", defaultValue = "1",
            description = "service replicas in one consumer group, in this process (1-" + Demo.MAX_REPLICAS + "): one"
                    + " fleet, one model; the summary says which one recalibrated and the version each ended on")
    int replicas;

    @Override
    public Integer call() throws Exception {
        if (source != null && !source.isBlank() && !source.contains("://") && !source.startsWith("/dev/")
                && !java.nio.file.Files.isRegularFile(java.nio.file.Path.of(source))) {
            throw new IllegalArgumentException("--source " + source + ": no such file");
        }
        // periodic retraining is off in serve and on in the demo (an attempt 40 s after the last one),
        // unless DOVA_RECALIBRATION_PERIOD or -Ddova.recalibration.period says otherwise
        if (System.getenv("DOVA_RECALIBRATION_PERIOD") == null && System.getProperty("dova.recalibration.period") == null) {
            System.setProperty("dova.recalibration.period", "40s");
            com.typesafe.config.ConfigFactory.invalidateCaches();
        }
        return new Demo(ServeSettings.load(), System.out, source, replicas).run();
    }
}
