package dova.serve.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** FP32 training only: the compress pipeline with no quantization-aware epochs (it still exports a PTQ model). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train an FP32 model (checkpoint and curves); exports its post-training-quantized integer model"
                + " at --acc-bits / --mul-bits. For a converged baseline with a documented schedule, see 'dova baseline'.")
public final class TrainCommand implements Callable<Integer> {
    @Mixin
    CompressCommand.TrainingArgs training = new CompressCommand.TrainingArgs();

    @Override
    public Integer call() throws Exception {
        CompressCommand.report(training.builder().optQatEpochs(0).build());
        return 0;
    }
}
