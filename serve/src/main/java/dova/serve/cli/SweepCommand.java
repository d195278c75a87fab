package dova.serve.cli;

import dova.sim.data.LabelledImages;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.eval.Simulation;
import dova.sim.eval.SimulationResult;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.ModelIo;
import dova.sim.plot.LinePlot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Evaluates a folder of compressed models on accelerator-sim over a grid of processor
 * configurations and writes a markdown table and a plot: the naive (post-training quantized)
 * model at every grid point, each trained model at its own accumulator width and overflow
 * mode for every multiplier width.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Evaluate naive and trained models over accumulator / multiplier widths and overflow modes;"
                + " write a markdown table and an accuracy-versus-accumulator-bits plot.")
public final class SweepCommand implements Callable<Integer> {
    private static final Pattern TRAINED = Pattern.compile("(.+)-a(\\d+)m12-(wrap|saturate)(-pruned|-guaranteed)?\\.dova");

    @Option(names = "--dir", required = true, description = "folder with the compress runs' .dova files")
    Path dir;

    @Option(names = "--naive", required = true, description = "the naive (post-training quantized) model")
    Path naive;

    @Mixin
    DataOptions dataSet = new DataOptions();

    @Option(names = "--fp32", defaultValue = "NaN", description = "FP32 test accuracy (0..1) to print beside")
    double fp32;

    @Option(names = "--acc-bits", split = ",", defaultValue = "32,16,14,12")
    int[] accBits;

    @Option(names = "--mul-bits", split = ",", defaultValue = "32,12,10,8")
    int[] mulBits;

    @Option(names = "--markdown", required = true, description = "markdown file to write")
    Path markdown;

    @Option(names = "--png", required = true, description = "plot to write")
    Path png;

    @Option(names = "--command", defaultValue = "", description = "the command line that produced the inputs (recorded)")
    String command;

    private LabelledImages test;

    private String run(String label, IntegerModel m, ProcessorConfig cfg, List<double[]> sink) {
        try {
            SimulationResult r = Simulation.run(m, cfg, test.pixels(), test.labels(), test.count(), 2, null);
            if (sink != null) {
                sink.add(new double[] {cfg.accumulatorBits(), r.accuracy()});
            }
            System.err.printf(Locale.ROOT, "  %s %s: %.2f%%%n", label, cfg.label(), 100 * r.accuracy());
            return String.format(Locale.ROOT, "| %s | %d | %d | %s | %.2f%% | %d | %d | %d | %.1f | %.0f |", label,
                    cfg.accumulatorBits(), cfg.multiplierBits(), cfg.overflow().name().toLowerCase(Locale.ROOT),
                    100 * r.accuracy(), r.overflowEvents(), r.imagesWithOverflow(), r.cost().macs(),
                    r.cost().energyPicojoules() / 1000, r.cost().areaSquareMicrometres());
        } catch (InvalidModelException e) {
            if (label.equals("naive")) {
                // the naive processor simply saturates biases that do not fit its accumulator
                return run("naive, biases clamped to A bits", clampBiases(m, cfg.accumulatorBits()), cfg, sink);
            }
            return String.format(Locale.ROOT, "| %s | %d | %d | %s | cannot run: %s | | | | | |", label,
                    cfg.accumulatorBits(), cfg.multiplierBits(), cfg.overflow().name().toLowerCase(Locale.ROOT),
                    e.getMessage().replace("|", "/"));
        }
    }

    private static IntegerModel clampBiases(IntegerModel m, int accBits) {
        List<dova.sim.model.Layer> layers = new ArrayList<>();
        long lo = dova.sim.FixedPoint.minSigned(accBits);
        long hi = dova.sim.FixedPoint.maxSigned(accBits);
        for (dova.sim.model.Layer l : m.layers()) {
            if (l instanceof dova.sim.model.Conv2d c) {
                int[] b = c.bias().clone();
                for (int i = 0; i < b.length; i++) {
                    b[i] = (int) Math.max(lo, Math.min(hi, b[i]));
                }
                layers.add(new dova.sim.model.Conv2d(c.name(), c.input(), c.output(), c.outChannels(), c.inChannels(),
                        c.kernelH(), c.kernelW(), c.strideH(), c.strideW(), c.padH(), c.padW(), c.groups(), c.weights(), b,
                        c.weightScales(), c.multipliers(), c.shifts(), c.activation()));
            } else {
                layers.add(l);
            }
        }
        return new IntegerModel(m.name(), m.weightBits(), m.activationBits(), accBits, m.multiplierBits(), m.tensors(),
                m.input(), m.output(), layers);
    }

    @Override
    public Integer call() throws Exception {
        test = dataSet.test(0);
        String header = "| model | A | M | overflow | accuracy | overflow events | images with overflow | MACs/img"
                + " | energy nJ/img | area um^2 |\n|---|---|---|---|---|---|---|---|---|---|\n";
        StringBuilder md = new StringBuilder();
        md.append("Every accuracy below is measured by running the integer model bit-exactly on accelerator-sim over"
                + " the full ").append(test.count()).append("-image ").append(dataSet.data).append(" test set.\n\n");
        if (!command.isBlank()) {
            md.append("Produced by: `").append(command).append("`\n\n");
        }
        if (!Double.isNaN(fp32)) {
            md.append(String.format(Locale.ROOT, "FP32 test accuracy: **%.2f%%**%n%n", 100 * fp32));
        }
        IntegerModel n = ModelIo.read(naive);
        md.append("### Naive post-training quantization (no downscaling- or overflow-aware training)\n\n").append(header);
        Map<String, List<double[]>> curves = new LinkedHashMap<>();
        for (Overflow mode : Overflow.values()) {
            for (int a : accBits) {
                for (int m : mulBits) {
                    List<double[]> sink = m == 12 ? curves.computeIfAbsent("naive M12 " + mode.name().toLowerCase(Locale.ROOT),
                            k -> new ArrayList<>()) : null;
                    md.append(run("naive", n, ProcessorConfig.baseline().withAccumulator(a, mode).withMultiplierBits(m), sink))
                            .append('\n');
                }
            }
        }
        md.append("\n### Downscaling- and overflow-aware training, each model at the widths it was trained for\n\n")
                .append(header);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> TRAINED.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
        for (Path f : files) {
            Matcher mt = TRAINED.matcher(f.getFileName().toString());
            mt.matches();
            int a = Integer.parseInt(mt.group(2));
            Overflow mode = Overflow.parse(mt.group(3));
            boolean plain = mt.group(4) == null;
            IntegerModel model = ModelIo.read(f);
            for (int m : mulBits) {
                List<double[]> sink = plain && m == 12 ? curves.computeIfAbsent("trained M12 " + mode.name()
                        .toLowerCase(Locale.ROOT), k -> new ArrayList<>()) : null;
                md.append(run(f.getFileName().toString().replace(".dova", ""), model, ProcessorConfig.baseline().withAccumulator(a, mode).withMultiplierBits(m), sink))
                        .append('\n');
            }
        }
        LinePlot plot = new LinePlot(dataSet.data + ": accuracy on accelerator-sim vs accumulator bits (M = 12)",
                "accumulator bits A", "accuracy");
        curves.forEach((name, pts) -> {
            pts.sort((x, y) -> Double.compare(x[0], y[0]));
            plot.add(name, pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1]).toArray());
        });
        plot.write(png);
        md.append("\n![accuracy vs accumulator bits](").append(png.getFileName()).append(")\n");
        Files.createDirectories(markdown.toAbsolutePath().getParent());
        Files.writeString(markdown, md.toString());
        System.out.println("wrote " + markdown + " and " + png);
        return 0;
    }
}
