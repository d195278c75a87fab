package dova.serve.cli;

import picocli.CommandLine.Command;

/** FP32 training only: the compress pipeline with no quantization-aware epochs (it still exports a PTQ model). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train an FP32 model (checkpoint and curves); exports its post-training-quantized integer model.")
public final class TrainCommand extends CompressCommand {
    @Override
    public Integer call() throws Exception {
        qatEpochs = 0;
        return super.call();
    }
}
