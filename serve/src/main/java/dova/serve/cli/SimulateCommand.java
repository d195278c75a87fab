package dova.serve.cli;

import dova.sim.data.LabelledImages;
import dova.sim.ProcessorConfig;
import dova.sim.eval.Reports;
import dova.sim.eval.Simulation;
import dova.sim.eval.SimulationResult;
import dova.sim.model.IntegerModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs an integer model on the simulated processor over a labelled set, side by side with the A32/M32 baseline. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = "Run an integer model bit-exactly on the simulated processor: accuracy, overflow events per layer,"
                + " cycles, energy and area, compared with the A32/M32 baseline.")
public final class SimulateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "integer model file (.dova), or an int8 ONNX model (.onnx, QOperator form: docs/onnx-export.md)")
    Path model;

    @Mixin
    EvalDataOptions dataSet = new EvalDataOptions();

    @Option(names = "--limit", description = "first N test images only, N >= 1 (default: all)")
    Integer limit;

    @Option(names = "--threads", defaultValue = "2", description = "simulator threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--no-baseline", description = "do not run the A32/M32 baseline beside the chosen configuration")
    boolean noBaseline;

    @Option(names = "--json", description = "also write the results as JSON to this file")
    Path json;

    @Option(names = "--confusion-png", description = "also draw the chosen configuration's confusion matrix to this PNG")
    Path confusionPng;

    @Mixin
    ProcessorOptions processor = new ProcessorOptions();

    @Option(names = "--profile", description = "a real CPU's int8 datapath instead of the processor: x86-avx2 (vpmaddubsw:"
            + " adjacent product pairs saturate at 16 bits), x86-vnni or arm-sdot (4 products exact into int32); its"
            + " A/overflow replace --acc-bits/--overflow, and the baseline beside it is x86-vnni (exact int32)")
    String profile;

    /** CPU time of this process so far (all threads), or 0 where the platform does not report it. */
    private static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : 0;
    }

    @Override
    public Integer call() throws Exception {
        if (limit != null) {
            Options.range("--limit", limit, 1, Integer.MAX_VALUE);
        }
        Options.range("--threads", threads, 1, 1024);
        Options.output("--json", json);
        Options.output("--confusion-png", confusionPng);
        dataSet.check();
        ProcessorConfig cfg = processor.config();
        dova.sim.DatapathProfile prof = profile == null ? dova.sim.DatapathProfile.PROCESSOR : dova.sim.DatapathProfile.parse(profile);
        cfg = prof.apply(cfg);
        IntegerModel m = ModelUse.read(model);
        EvalDataOptions.Data data = dataSet.test(limit == null ? 0 : limit, m.inputSpec().height(), m.inputSpec().width());
        ModelUse.checkInput(model, m, data);
        ModelUse.warn(model, m, data);
        if (m.info().overflow() != null && m.info().overflow() != cfg.overflow()) {
            System.err.println("note: " + model + " was trained for " + m.info().overflow().name().toLowerCase(Locale.ROOT)
                    + "; simulating " + cfg.overflow().name().toLowerCase(Locale.ROOT) + " as --overflow asks");
        }
        LabelledImages test = data.images();
        System.err.println("data: " + test.count() + " images (" + test.name() + ") from " + data.source());
        List<ProcessorConfig> configs = new ArrayList<>();
        ProcessorConfig baseline = prof == dova.sim.DatapathProfile.PROCESSOR
                ? ProcessorConfig.baseline().withCostTable(cfg.costTable()).withArray(cfg.lanes(), cfg.rows())
                : dova.sim.DatapathProfile.X86_VNNI.apply(cfg);
        if (!noBaseline) {
            configs.add(baseline);
        }
        configs.add(cfg);
        List<SimulationResult> results = new ArrayList<>();
        for (ProcessorConfig c : configs) {
            int n = test.count();
            String label = c.label();
            System.err.println(label + ": " + dova.sim.exec.Executor.fastPath(m, c));
            long t0 = System.nanoTime();
            long cpu0 = cpuNanos();
            results.add(Simulation.run(m, c, test.pixels(), test.labels(), n, threads, done -> {
                if (done % 500 == 0 || done == n) {
                    System.err.printf(Locale.ROOT, "\r%s: %d/%d images", label, done, n);
                    if (done == n) {
                        System.err.println();
                    }
                }
            }));
            System.err.printf(Locale.ROOT, "%s: %d images in %.2f s wall, %.2f s of compute (all threads)%n", label, n,
                    (System.nanoTime() - t0) / 1e9, (cpuNanos() - cpu0) / 1e9);
        }
        System.out.print(Reports.table(results));
        SimulationResult last = results.get(results.size() - 1);
        if (prof != dova.sim.DatapathProfile.PROCESSOR && !noBaseline) {
            // the images whose prediction the profile's datapath changes against exact int32 accumulation
            SimulationResult.Changed ch = last.changedAgainst(results.get(0), test.labels());
            System.out.printf(Locale.ROOT, "%s against x86-vnni: %d of %d predictions change (%.2f%%): %d right only on"
                    + " x86-vnni, %d right only on %s%n", prof.id(), ch.changed(), test.count(),
                    100.0 * ch.changed() / test.count(), ch.rightOnlyInOther(), ch.rightOnlyHere(), prof.id());
            if (ch.changed() > 0) {
                StringBuilder sb = new StringBuilder();
                for (int i : ch.firstImages()) {
                    sb.append(String.format(Locale.ROOT, " %d (label %d: %d -> %d)", i, test.labels()[i] & 0xff,
                            results.get(0).predictions()[i], last.predictions()[i]));
                }
                System.out.printf("  %s images (test-set index, label, x86-vnni -> %s):%s%n",
                        ch.changed() > ch.firstImages().length ? "the first " + ch.firstImages().length : "the",
                        prof.id(), sb);
            }
        } else if (!noBaseline && cfg.accumulatorBits() < 32) {
            // what the narrow accumulator alone changes: the same model at A32 with the same multipliers
            ProcessorConfig wide = cfg.withAccumulator(32, cfg.overflow());
            SimulationResult w = Simulation.run(m, wide, test.pixels(), test.labels(), test.count(), threads, null);
            SimulationResult.Changed ch = last.changedAgainst(w, test.labels());
            System.out.printf(Locale.ROOT, "%s against %s: %d of %d predictions change (%d right only at A32, %d right only"
                    + " at A%d); %d images have overflow events%n", cfg.label(), wide.label(), ch.changed(), test.count(),
                    ch.rightOnlyInOther(), ch.rightOnlyHere(), cfg.accumulatorBits(), last.imagesWithOverflow());
        }
        List<String> names = ModelUse.classNames(m, data);
        SimulationResult chosen = results.get(results.size() - 1);
        System.out.print(Reports.confusion(chosen, names));
        if (confusionPng != null) {
            dova.sim.plot.ConfusionPlot.write(confusionPng, chosen.model() + " on " + data.source() + ", "
                    + chosen.config().label(), chosen.confusion(), names);
            System.out.println("confusion matrix drawn to " + confusionPng);
        }
        if (json != null) {
            Files.writeString(json, Reports.json(results));
            System.out.println("JSON written to " + json);
        }
        return 0;
    }
}
