package dova.serve.cli;

import dova.sim.data.LabelledImages;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.eval.Reports;
import dova.sim.eval.Simulation;
import dova.sim.eval.SimulationResult;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
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
    @Option(names = "--model", description = "integer model file (.dova)")
    Path model;

    @Option(names = "--checkpoint", description = "a float checkpoint (.ckpt) to evaluate in FP32 instead of a model")
    Path checkpoint;

    @Mixin
    DataOptions dataSet = new DataOptions();

    @Option(names = "--overflow", defaultValue = "wrap", description = "wrap or saturate (default: ${DEFAULT-VALUE})")
    String overflow;

    @Override
    public Integer call() throws Exception {
        if ((model == null) == (checkpoint == null)) {
            throw new IllegalArgumentException("give one of --model FILE.dova or --checkpoint FILE.ckpt");
        }
        if (checkpoint != null) {
            LabelledImages test = dataSet.test(0);
            var r = dova.compress.CheckpointEval.run(checkpoint, test, Math.max(10, test.classes()));
            System.out.printf(java.util.Locale.ROOT, "%s (epoch %d, %s): FP32 accuracy %.2f%% on %d %s test images%n",
                    checkpoint, r.epoch(), r.batchNorm() ? "with batch norm" : "no batch norm, or folded", 100 * r.accuracy(), test.count(),
                    dataSet.data);
            return 0;
        }
        IntegerModel m = ModelIo.read(model);
        LabelledImages test = dataSet.test(0);
        ProcessorConfig cfg = ProcessorConfig.baseline().withAccumulator(m.accumulatorBits(), Overflow.parse(overflow))
                .withMultiplierBits(m.multiplierBits());
        SimulationResult r = Simulation.run(m, cfg, test.pixels(), test.labels(), test.count(), 2, null);
        System.out.print(Reports.layerTable(r));
        System.out.print(Reports.confusion(r));
        return 0;
    }
}
