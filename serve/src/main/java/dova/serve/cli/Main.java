package dova.serve.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The dova command line. */
@Command(name = "dova", mixinStandardHelpOptions = true, version = "dova 0.1.0",
        description = "Downscaling- and overflow-aware model compression for low-bit fixed-point vision processors.",
        subcommands = {DemoCommand.class, ServeCommand.class, ReplayCommand.class, CameraCommand.class, TrainCommand.class, BaselineCommand.class,
            CompressCommand.class,
            SimulateCommand.class, ExportOnnxCommand.class, EvalCommand.class, SweepCommand.class, ModelsCommand.class, ScenesCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with dova's error handling: user errors print one line, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof dova.sim.model.InvalidModelException || ex instanceof IllegalStateException) {
                line.getErr().println("dova " + line.getCommandName() + ": " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }
}
