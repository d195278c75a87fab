package dova.serve.cli;

import dova.serve.config.ServeSettings;
import dova.serve.registry.ModelRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The model registry: list versions, roll back. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "List the model registry or roll back.",
        subcommands = {ModelsCommand.ListCommand.class, ModelsCommand.Rollback.class})
public final class ModelsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    static ModelRegistry registry(Path dir) throws java.io.IOException {
        ServeSettings.Model m = ServeSettings.load().model();
        return new ModelRegistry(dir != null ? dir : m.registry(), m.trust());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List stored versions; * marks the serving one.")
    static final class ListCommand implements Callable<Integer> {
        @Option(names = "--registry", description = "registry folder (default: dova.model.registry)")
        Path dir;

        @Override
        public Integer call() throws Exception {
            ModelRegistry r = registry(dir);
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
            description = "Make VERSION the serving version (a running service picks it up on restart).")
    static final class Rollback implements Callable<Integer> {
        @Option(names = "--registry", description = "registry folder (default: dova.model.registry)")
        Path dir;

        @Parameters(index = "0", description = "version number")
        int version;

        @Override
        public Integer call() throws Exception {
            ModelRegistry r = registry(dir);
            r.makeCurrent(version);
            System.out.println("serving version is now v" + String.format("%04d", version));
            return 0;
        }
    }
}
