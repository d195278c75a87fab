package dova.serve.cli;

import dova.compress.CompressOptions;
import dova.compress.Compression;
import dova.compress.CompressionResult;
import dova.compress.net.Architecture;
import dova.sim.data.DataSet;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.eval.Reports;
import dova.sim.eval.Simulation;
import dova.sim.eval.SimulationResult;
import dova.sim.data.LabelledImages;
import dova.sim.data.TrainingData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The full compression pipeline, then the result measured on accelerator-sim. */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Train (or load) an FP32 model, optionally prune to multiples of 16, fine-tune with downscaling- and"
                + " overflow-aware quantization, export the integer model and measure it on accelerator-sim.")
public class CompressCommand implements Callable<Integer> {
    /** The options of an FP32 run (shared with {@code dova train}). */
    static final class TrainingArgs {
        @Option(names = "--model", defaultValue = "lenet", description = "lenet, resnet or mobilenet (default: ${DEFAULT-VALUE})")
        String model;

        @Mixin
        TrainDataOptions data = new TrainDataOptions();

        @Option(names = "--out", defaultValue = "out", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        @Option(names = "--epochs", defaultValue = "2", description = "FP32 epochs (default: ${DEFAULT-VALUE})")
        int epochs;

        @Option(names = "--batch", defaultValue = "32", description = "batch size (default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--lr", defaultValue = "0.002", description = "FP32 learning rate (default: ${DEFAULT-VALUE})")
        float lr;

        @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--acc-bits", defaultValue = "16", description = "accumulator bits A (default: ${DEFAULT-VALUE})")
        int accBits;

        @Option(names = "--mul-bits", defaultValue = "12", description = "multiplier bits M (default: ${DEFAULT-VALUE})")
        int mulBits;

        @Option(names = "--overflow", defaultValue = "wrap", description = "wrap or saturate (default: ${DEFAULT-VALUE})")
        String overflow;

        @Option(names = "--from", description = "start from this FP32 checkpoint instead of training")
        Path from;

        @Option(names = "--train-limit", defaultValue = "0", description = "first N training images only (default: all)")
        int trainLimit;

        @Option(names = "--weight-bits", defaultValue = "8", description = "integer weight width, 2 to 8; 7 is ONNX"
                + " Runtime's reduce_range, whose weights no vpmaddubsw pair sum can saturate (default: ${DEFAULT-VALUE})")
        int weightBits;

        CompressOptions.Builder builder() throws java.io.IOException {
            TrainingData d = data.data();
            CompressOptions.Builder b = CompressOptions.builder().setArchitecture(Architecture.parse(model));
            b = d.named() != null ? b.setDataSet(d.named()).optDataDir(data.named.dataDir) : b.optOwnData(d);
            b.optOutDir(out).optFp32Epochs(epochs)
                    .optBatchSize(batch).optLearningRate(lr).optSeed(seed).optAccumulatorBits(accBits).optMultiplierBits(mulBits)
                    .optOverflow(Overflow.parse(overflow)).optTrainLimit(trainLimit).optWeightBits(weightBits);
            return from == null ? b : b.optFp32Checkpoint(from);
        }
    }

    @Mixin
    TrainingArgs training = new TrainingArgs();

    @Option(names = "--qat-epochs", defaultValue = "2", description = "quantization-aware epochs (default: ${DEFAULT-VALUE})")
    int qatEpochs;

    @Option(names = "--qat-lr", defaultValue = "0.0003", description = "QAT learning rate (default: ${DEFAULT-VALUE})")
    float qatLr;

    @Option(names = "--no-downscaling-aware", description = "train with the exact real multiplier instead of m/2^s")
    boolean noDownscaling;

    @Option(names = "--no-overflow-aware", description = "train with an exact accumulator and no narrowing schedule")
    boolean noOverflow;

    @Option(names = "--guaranteed", description = "L1-bound the integer weights so that no input can overflow A bits")
    boolean guaranteed;

    @Option(names = "--overflow-target", defaultValue = "0.0001",
            description = "schedule target: share of outputs allowed to overflow (default: ${DEFAULT-VALUE})")
    double overflowTarget;

    @Option(names = "--narrow-factor", defaultValue = "0.8",
            description = "schedule: weight-limit factor per check while overflowing (default: ${DEFAULT-VALUE})")
    double narrowFactor;

    @Option(names = "--min-weight-limit",
            description = "schedule floor for integer weights (default: 31 at A >= 16, halved per accumulator bit below 16, at least 3)")
    Integer minWeightLimit;

    @Option(names = "--min-activation-bits",
            description = "schedule floor for activation bits (default: 4 at A >= 16, one less per 2 accumulator bits below 16, at least 2)")
    Integer minActivationBits;

    @Option(names = "--schedule-steps", defaultValue = "100",
            description = "schedule: steps between overflow checks (default: ${DEFAULT-VALUE})")
    int scheduleSteps;

    @Option(names = "--prune-multiple", defaultValue = "16", description = "channel multiple (default: ${DEFAULT-VALUE})")
    int pruneMultiple;

    @Option(names = "--prune-ratio", defaultValue = "0", description = "share of channels to prune, 0 = none (default: ${DEFAULT-VALUE})")
    double pruneRatio;

    @Option(names = "--per-channel-narrowing", description = "experimental: the overflow-aware schedule narrows the weight"
            + " limit of each output channel that overflows instead of the whole layer's (the paper narrows per layer);"
            + " QAT of the converged ResNet at A16 WRAP diverged with it (docs/results/compression.md)")
    boolean perChannelNarrowing;

    @Option(names = "--prefix-bound-everywhere", description = "overflow-aware training counts, for every conv, the"
            + " outputs some prefix of whose sum may leave A bits (the P/N bound), as the processor counts events; by default"
            + " only for the layer that reads the image (elsewhere final sums)")
    boolean prefixBoundEverywhere;

    @Option(names = "--profile", description = "train for a real CPU's int8 datapath instead of the processor: x86-avx2"
            + " (vpmaddubsw's saturating int16 pair sums, simulated in quantization-aware training, the schedule narrowing"
            + " the weights of channels whose pairs saturate), x86-vnni, arm-sdot; the CPU's int32 wrapping accumulator"
            + " replaces --acc-bits and --overflow (default: the processor)")
    String profile;

    @Option(names = "--pair-stage-everywhere", description = "with --profile x86-avx2: simulate the pair stage in every"
            + " layer whose weights can saturate it, not only in the layer that reads the image (slow: every intermediate"
            + " is materialised)")
    boolean pairStageEverywhere;

    @Option(names = "--fine-tune-epochs", defaultValue = "0",
            description = "with --from: FP32 epochs at --qat-lr before quantization (the extra-epochs control; default: none)")
    int fineTuneEpochs;

    CompressOptions options() throws java.io.IOException {
        CompressOptions.Builder b = training.builder().optQatEpochs(qatEpochs).optQatLearningRate(qatLr)
                .optDownscalingAware(!noDownscaling).optOverflowAware(!noOverflow).optGuaranteed(guaranteed)
                .optOverflowTarget(overflowTarget).optNarrowFactor(narrowFactor).optScheduleSteps(scheduleSteps)
                .optPruneMultiple(pruneMultiple).optPruneRatio(pruneRatio).optFineTuneEpochs(fineTuneEpochs)
                .optPerChannelNarrowing(perChannelNarrowing).optPrefixBoundEverywhere(prefixBoundEverywhere)
                .optProfile(profile == null ? null : dova.sim.DatapathProfile.parse(profile))
                .optPairStageEverywhere(pairStageEverywhere);
        if (minWeightLimit != null) {
            b.optMinWeightLimit(minWeightLimit);
        }
        if (minActivationBits != null) {
            b.optMinActivationBits(minActivationBits);
        }
        return b.build();
    }

    @Override
    public Integer call() throws Exception {
        report(options());
        return 0;
    }

    /** Runs the pipeline and prints its result measured on accelerator-sim (also {@code dova train}'s output). */
    static void report(CompressOptions o) throws Exception {
        CompressionResult r = Compression.run(o, System.err);
        LabelledImages test = o.data().load(DataSet.Split.TEST);
        ProcessorConfig target = o.target().processor();
        List<SimulationResult> results = new ArrayList<>();
        results.add(Simulation.run(r.model(), ProcessorConfig.baseline(), test.pixels(), test.labels(), test.count(), 2, null));
        results.add(Simulation.run(r.model(), target, test.pixels(), test.labels(), test.count(), 2, null));
        System.out.printf(Locale.ROOT, "FP32 test accuracy %.2f%%; pruning: %s; parameters %d -> %d%n",
                100 * r.fp32TestAccuracy(), r.pruning(), r.fp32Parameters(), r.prunedParameters());
        if (r.naiveModel() != null) {
            SimulationResult naive = Simulation.run(r.naiveModel(), target, test.pixels(), test.labels(), test.count(), 2, null);
            System.out.printf(Locale.ROOT, "naive post-training quantization at %s: %.2f%% (%d overflow events)%n",
                    target.label(), 100 * naive.accuracy(), naive.overflowEvents());
        } else {
            System.out.println("naive post-training quantization: " + r.naiveError());
        }
        System.out.println("weight limits after the overflow-aware schedule: " + r.weightLimits());
        System.out.print(Reports.table(results));
        System.out.println("model written to " + r.modelFile());
    }
}
