package dova.serve.cli;

import dova.compress.Baseline;
import dova.compress.net.Architecture;
import dova.compress.train.Augmentation;
import dova.compress.train.Recipe;
import dova.sim.data.DataSet;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A converged FP32 baseline by the network's documented recipe, resumable. */
@Command(name = "baseline", mixinStandardHelpOptions = true,
        description = "Train a converged FP32 baseline by the network's documented recipe (AdamW, cosine rate, weight decay,"
                + " augmentation), measuring the test set every epoch; checkpoint, history CSV and curves PNG in --out;"
                + " --resume continues an interrupted run.")
public final class BaselineCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "lenet", description = "lenet, resnet or mobilenet (default: ${DEFAULT-VALUE})")
    String model;

    @Mixin
    TrainDataOptions data = new TrainDataOptions();

    @Option(names = "--out", defaultValue = "out/baselines", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--resume", description = "continue from the checkpoint in --out (same recipe)")
    boolean resume;

    @Option(names = "--epochs", description = "override the recipe's epochs")
    Integer epochs;

    @Option(names = "--lr", description = "override the recipe's peak learning rate")
    Float lr;

    @Option(names = "--batch", description = "override the recipe's batch size")
    Integer batch;

    @Option(names = "--weight-decay", description = "override the recipe's weight decay")
    Float weightDecay;

    @Option(names = "--augment", description = "override the recipe's augmentation: none, shift or flip-crop")
    String augment;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--train-limit", defaultValue = "0", description = "first N training images only (default: all)")
    int trainLimit;

    Baseline.Options options() throws java.io.IOException {
        Architecture a = Architecture.parse(model);
        Recipe.Builder r = Recipe.converged(a).toBuilder();
        if (epochs != null) {
            // a run shorter than the warm-up keeps at least one epoch of the schedule proper
            r.epochs(epochs).warmupEpochs(Math.min(Recipe.converged(a).warmupEpochs(), Math.max(0, epochs - 1)));
        }
        if (lr != null) {
            r.learningRate(lr);
        }
        if (batch != null) {
            r.batchSize(batch);
        }
        if (weightDecay != null) {
            r.weightDecay(weightDecay);
        }
        if (augment != null) {
            r.augmentation(Augmentation.parse(augment));
        }
        return new Baseline.Options(a, data.data(), out, r.build(), seed, resume, trainLimit);
    }

    @Override
    public Integer call() throws Exception {
        Baseline.Result r = Baseline.run(options(), System.err);
        System.out.printf(Locale.ROOT, "FP32 test accuracy %.2f%% after %d epochs%ncheckpoint: %s%ncurves: %s%n",
                100 * r.finalTestAccuracy(), r.history().size(), r.checkpoint(), r.curves());
        return 0;
    }
}
