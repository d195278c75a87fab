package dova.serve.cli;

import dova.serve.Application;
import dova.serve.config.ServeSettings;
import dova.serve.registry.FleetRegistry;
import dova.serve.registry.ModelRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The model registry, a replica's folder or the fleet's topic: list versions, roll back. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "List the model registry or roll back.",
        subcommands = {ModelsCommand.ListCommand.class, ModelsCommand.Rollback.class})
public final class ModelsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Where the command looks: a folder, or with {@code --bootstrap-servers} the fleet's model topic. */
    static final class Where {
        @Option(names = "--registry", description = "registry folder (default: dova.model.registry)")
        Path dir;

        @Option(names = "--bootstrap-servers", description = "the fleet's Kafka cluster (host:port[,...]): list or move"
                + " the versions every replica follows, on its model topic, instead of a folder")
        String bootstrap;

        @Option(names = "--topic", description = "the fleet's model topic (default: <dova.kafka.frames-topic>-models)")
        String topic;

        boolean fleet() {
            return bootstrap != null && !bootstrap.isBlank();
        }

        ModelRegistry folder() throws java.io.IOException {
            ServeSettings.Model m = ServeSettings.load().model();
            return new ModelRegistry(dir != null ? dir : m.registry(), m.trust());
        }

        FleetRegistry topic() throws java.io.IOException {
            ServeSettings s = ServeSettings.load();
            String t = topic != null ? topic : Application.modelsTopic(s);
            try (dova.ingest.kafka.KafkaAdmin admin = new dova.ingest.kafka.KafkaAdmin(bootstrap, Duration.ofSeconds(5))) {
                admin.prepareCompactedTopic(false, t, dova.serve.registry.ModelRecord.MAX_BYTES);
            }
            FleetRegistry f = new FleetRegistry(bootstrap, t, null, s.model().trust(), "dova models (cli)",
                    Duration.ofSeconds(10));
            try {
                f.awaitCaughtUp(Duration.ofSeconds(60));
            } catch (java.io.IOException | RuntimeException e) {
                f.close();
                throw e;
            }
            return f;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List stored versions; * marks the serving one, ! one the fleet's topic holds but refuses.")
    static final class ListCommand implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Where where;

        @Override
        public Integer call() throws Exception {
            if (where.fleet()) {
                try (FleetRegistry f = where.topic()) {
                    var entries = f.list();
                    if (entries.isEmpty()) {
                        System.out.println("model topic " + f.topic() + " holds no version");
                    }
                    for (var e : entries) {
                        System.out.printf("%s v%04d  %s%n", !e.valid() ? "!" : e.current() ? "*" : " ", e.number(),
                                e.valid() ? e.note() : "refused: " + e.refused());
                    }
                    if (f.pointer() > 0 && f.problem() != null) {
                        System.out.println(f.problem());
                    }
                }
                return 0;
            }
            ModelRegistry r = where.folder();
            var versions = r.list();
            if (versions.isEmpty()) {
                System.out.println("registry " + r.dir() + " is empty");
            }
            for (var v : versions) {
                System.out.printf("%s v%04d  %s%n", v.current() ? "*" : " ", v.number(), v.note());
            }
            return 0;
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Make VERSION the serving version: with --bootstrap-servers, of the whole fleet at once (every"
                    + " replica swaps within seconds); of a folder, for a service with dova.model.shared=false (on restart).")
    static final class Rollback implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Where where;

        @Parameters(index = "0", description = "version number")
        int version;

        @Override
        public Integer call() throws Exception {
            if (where.fleet()) {
                try (FleetRegistry f = where.topic()) {
                    f.makeCurrent(version);
                    System.out.printf("the fleet's pointer on %s names v%04d now: every replica swaps to it%n", f.topic(),
                            version);
                }
                return 0;
            }
            ModelRegistry r = where.folder();
            r.makeCurrent(version);
            System.out.println("serving version is now v" + String.format("%04d", version));
            return 0;
        }
    }
}
