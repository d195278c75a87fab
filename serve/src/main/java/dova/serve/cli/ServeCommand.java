package dova.serve.cli;

import dova.serve.Application;
import dova.serve.config.ServeSettings;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;

/** The service against an external Kafka cluster, until SIGTERM / Ctrl-C (then it drains and commits). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve frames from Kafka on simulated processors (dova.kafka.bootstrap-servers or"
                + " DOVA_KAFKA_BOOTSTRAP_SERVERS must name a cluster). Stops cleanly on SIGTERM.")
public final class ServeCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        ServeSettings s = ServeSettings.load();
        if (s.kafka().embedded()) {
            throw new IllegalArgumentException("dova.kafka.bootstrap-servers is empty: serve needs a Kafka cluster"
                    + " (set DOVA_KAFKA_BOOTSTRAP_SERVERS), or run 'dova demo' for the embedded broker");
        }
        Application app = Application.start(s, s.model().registry(), s.kafka().bootstrapServers(), null, o ->
                System.out.println(o.method() + " model " + o.result() + ": v" + o.fromVersion() + " -> v" + o.toVersion()
                        + " " + o.detail()));
        System.out.println("serving v" + app.pool().current().version() + " from " + s.kafka().framesTopic() + " to "
                + s.kafka().resultsTopic() + "; metrics on " + s.http().host() + ":" + app.endpoints().port());
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
