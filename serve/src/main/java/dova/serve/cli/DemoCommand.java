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
    @Override
    public Integer call() throws Exception {
        return new Demo(ServeSettings.load(), System.out).run();
    }
}
