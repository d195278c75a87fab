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
        description = "Evaluate an integer model on accelerator-sim at the accumulator and multiplier widths it was exported for.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "integer model file (.dova)")
    Path model;

    @Mixin
    DataOptions dataSet = new DataOptions();

    @Option(names = "--overflow", defaultValue = "wrap", description = "wrap or saturate (default: ${DEFAULT-VALUE})")
    String overflow;

    @Override
    public Integer call() throws Exception {
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
