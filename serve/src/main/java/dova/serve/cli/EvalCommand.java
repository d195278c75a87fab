package dova.serve.cli;

import dova.sim.data.LabelledImages;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.eval.Reports;
import dova.sim.eval.Simulation;
import dova.sim.eval.SimulationResult;
import dova.sim.model.IntegerModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Accuracy of a model on the processor widths it was exported for. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate an integer model on accelerator-sim at the accumulator and multiplier widths it was exported for,"
                + " or (--checkpoint) a float checkpoint in FP32 without training.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", description = "integer model file (.dova), or an int8 ONNX model (.onnx, QOperator form: docs/onnx-export.md)")
    Path model;

    @Option(names = "--checkpoint", description = "a float checkpoint (.ckpt) to evaluate in FP32 instead of a model")
    Path checkpoint;

    @Mixin
    EvalDataOptions dataSet = new EvalDataOptions();

    @Option(names = "--overflow", description = "wrap or saturate (default: the mode the model file records it was"
            + " trained for; wrap for a file that records none)")
    String overflow;

    @Option(names = "--confusion-png", description = "also draw the confusion matrix to this PNG")
    Path confusionPng;

    @Override
    public Integer call() throws Exception {
        if ((model == null) == (checkpoint == null)) {
            throw new IllegalArgumentException("give one of --model FILE.dova or --checkpoint FILE.ckpt");
        }
        Options.output("--confusion-png", confusionPng);
        dataSet.check();
        Overflow asked = overflow == null ? null : Overflow.parse(overflow);
        if (checkpoint != null) {
            LabelledImages test = dataSet.test(0, 28, 28).images();
            var r = dova.compress.CheckpointEval.run(checkpoint, test, Math.max(10, test.classes()));
            System.out.printf(java.util.Locale.ROOT, "%s (epoch %d, %s): FP32 accuracy %.2f%% on %d %s test images%n",
                    checkpoint, r.epoch(), r.batchNorm() ? "with batch norm" : "no batch norm, or folded", 100 * r.accuracy(), test.count(),
                    test.name());
            return 0;
        }
        IntegerModel m = ModelUse.read(model);
        EvalDataOptions.Data data = dataSet.test(0, m.inputSpec().height(), m.inputSpec().width());
        ModelUse.checkInput(model, m, data);
        ModelUse.warn(model, m, data);
        Overflow mode = asked != null ? asked : m.info().overflow() != null ? m.info().overflow() : Overflow.WRAP;
        if (asked == null && m.info().overflow() == null) {
            System.err.println("note: " + model + " does not record its overflow mode (a format-1 file, or written without it):"
                    + " evaluating wrap");
        } else if (asked != null && m.info().overflow() != null && asked != m.info().overflow()) {
            System.err.println("warning: " + model + " was trained for " + m.info().overflow().name().toLowerCase(java.util.Locale.ROOT)
                    + "; evaluating " + asked.name().toLowerCase(java.util.Locale.ROOT) + " as --overflow asks");
        }
        LabelledImages test = data.images();
        ProcessorConfig cfg = ProcessorConfig.baseline().withAccumulator(m.accumulatorBits(), mode)
                .withMultiplierBits(m.multiplierBits());
        SimulationResult r = Simulation.run(m, cfg, test.pixels(), test.labels(), test.count(), 2, null);
        System.out.printf(java.util.Locale.ROOT, "%s on %d images of %s at A%d/M%d %s: accuracy %.2f%%, %d overflow events%n",
                model, test.count(), data.source(), m.accumulatorBits(), m.multiplierBits(),
                mode.name().toLowerCase(java.util.Locale.ROOT), 100 * r.accuracy(), r.overflowEvents());
        System.out.print(Reports.layerTable(r));
        List<String> names = ModelUse.classNames(m, data);
        System.out.print(Reports.confusion(r, names));
        if (confusionPng != null) {
            dova.sim.plot.ConfusionPlot.write(confusionPng, r.model() + " on " + data.source() + ", " + cfg.label(),
                    r.confusion(), names);
            System.out.println("confusion matrix drawn to " + confusionPng);
        }
        return 0;
    }
}
