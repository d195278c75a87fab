package dova.serve.cli;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.data.LabelledImages;
import dova.sim.eval.Sweep;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Evaluates a folder of compressed models on accelerator-sim ({@link Sweep}): the naive model
 * over the whole grid, each trained model at the widths its file name says it was trained for;
 * writes a markdown table and two plots (accuracy against A at M = 12, against M at A = 32).
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Evaluate naive and trained models over accumulator / multiplier widths and overflow modes;"
                + " write a markdown table, an accuracy-versus-A plot (M = 12) and an accuracy-versus-M plot (A = 32).")
public final class SweepCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "folder with the compress runs' .dova files")
    Path dir;

    @Option(names = "--naive", required = true, description = "the naive (post-training quantized) model")
    Path naive;

    @Option(names = "--control", description = "optional: the naive export of FP32 fine-tuned for the same extra epochs")
    Path control;

    @Mixin
    DataOptions dataSet = new DataOptions();

    @Option(names = "--fp32", defaultValue = "NaN", description = "FP32 test accuracy (0..1) to print beside")
    double fp32;

    @Option(names = "--acc-bits", split = ",", defaultValue = "32,16,14,12")
    int[] accBits;

    @Option(names = "--mul-bits", split = ",", defaultValue = "32,12,8,6,5,4")
    int[] mulBits;

    @Option(names = "--markdown", required = true, description = "markdown file to write")
    Path markdown;

    @Option(names = "--png", required = true, description = "plot against A to write; the plot against M goes beside it (-m.png)")
    Path png;

    @Option(names = "--command", defaultValue = "", description = "the command line that produced the inputs (recorded)")
    String command;

    @Override
    public Integer call() throws Exception {
        LabelledImages test = dataSet.test(0);
        Sweep sweep = new Sweep(test, 2);
        StringBuilder md = new StringBuilder("Every accuracy below is measured by running the integer model bit-exactly on"
                + " accelerator-sim over the full " + test.count() + "-image " + dataSet.data + " test set.\n\n");
        if (!command.isBlank()) {
            md.append("Produced by: `").append(command).append("`\n\n");
        }
        if (!Double.isNaN(fp32)) {
            md.append(String.format(Locale.ROOT, "FP32 test accuracy: **%.2f%%**%n%n", 100 * fp32));
        }
        List<Path> extra = control == null ? List.of() : List.of(control);
        for (Path p : Stream.concat(Stream.of(naive), extra.stream()).toList()) {
            String what = p.equals(naive) ? "naive" : "FP32 fine-tuned, then naive";
            md.append("### ").append(what).append(" post-training quantization (`").append(p.getFileName())
                    .append("`)\n\n").append(Sweep.HEADER);
            IntegerModel n = ModelIo.read(p);
            for (Overflow mode : Overflow.values()) {
                for (int a : accBits) {
                    for (int m : mulBits) {
                        ProcessorConfig cfg = ProcessorConfig.baseline().withAccumulator(a, mode).withMultiplierBits(m);
                        md.append(Sweep.markdown(sweep.measure(what, what, n, cfg, true))).append('\n');
                    }
                }
            }
            md.append('\n');
        }
        md.append("### Quantization-aware training, each model at the widths it was trained for\n\n").append(Sweep.HEADER);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            // the FP32 fine-tuning control is measured above, through its naive export
            files = s.filter(p -> Sweep.Trained.parse(p.getFileName().toString())
                    .filter(t -> !t.variant().contains("fp32ft")).isPresent()).sorted().toList();
        }
        for (Path f : files) {
            Sweep.Trained t = Sweep.Trained.parse(f.getFileName().toString()).orElseThrow();
            String what = t.variant().isEmpty() ? "QAT (paper's method)" : "QAT " + t.variant().substring(1);
            Sweep.Row r = sweep.measure(f.getFileName().toString().replace(".dova", ""), what, ModelIo.read(f), t.processor(),
                    false);
            md.append(Sweep.markdown(r)).append('\n');
        }
        Path mPng = png.resolveSibling(png.getFileName().toString().replace(".png", "-m.png"));
        sweep.plot(dataSet.data + ": accuracy on accelerator-sim against accumulator bits (M = 12)", true,
                r -> r.config().multiplierBits() == 12 ? r.group() + " " + r.config().overflow().name().toLowerCase(Locale.ROOT)
                        : null, fp32, png);
        sweep.plot(dataSet.data + ": accuracy on accelerator-sim against multiplier bits (A = 32, wrap)", false,
                r -> r.config().accumulatorBits() == 32 && r.config().overflow() == Overflow.WRAP ? r.group() : null, fp32, mPng);
        md.append("\n![accuracy against A](").append(png.getFileName()).append(")\n\n![accuracy against M](")
                .append(mPng.getFileName()).append(")\n");
        Files.createDirectories(markdown.toAbsolutePath().getParent());
        Files.writeString(markdown, md.toString());
        System.out.println("wrote " + markdown + ", " + png + " and " + mPng);
        return 0;
    }
}
