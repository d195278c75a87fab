package dova.compress;

import dova.compress.net.Architecture;
import dova.compress.net.QuantTarget;
import dova.sim.DatapathProfile;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.data.DataSet;
import dova.sim.data.TrainingData;
import java.nio.file.Path;

/**
 * Everything a compression run needs. Build one with {@link #builder()}: {@code setX} for what
 * a run must name (architecture, data set), {@code optX} for the rest, each with its default
 * in its Javadoc. {@link Builder#build()} rejects impossible values before any long work
 * starts, naming the option (as the command line spells it).
 *
 * @param fp32Checkpoint start from this FP32 checkpoint instead of training (null: train)
 * @param narrowFactor overflow-aware schedule: a layer whose overflow rate exceeds
 *     {@code overflowTarget} after an epoch has its weight limit multiplied by this factor
 * @param minWeightLimit the schedule narrows a layer's weights down to this integer limit, then its input activations
 * @param minActivationBits the schedule never narrows an activation below this many bits
 * @param scheduleSteps the schedule looks at the overflow rate of the last this-many training steps
 * @param trainLimit use only the first N training images (0: all)
 * @param fineTuneEpochs FP32 epochs after loading {@code fp32Checkpoint}, at the QAT learning rate
 *     (the control that gives FP32 the extra epochs quantization-aware training gets); 0: none
 * @param profile train for this real CPU's int8 datapath instead of the paper's processor (its int32
 *     accumulator and intermediate stage, e.g. {@code vpmaddubsw}'s saturating int16 pair sums); null: the processor
 * @param pairStageEverywhere with a profile's intermediate stage: simulate it in every layer that can leave it,
 *     not only in the one that reads the image
 */
public record CompressOptions(Architecture architecture, DataSet dataSet, Path dataDir, Path outDir, int fp32Epochs,
                              int qatEpochs, int batchSize, float learningRate, float qatLearningRate, long seed,
                              int accumulatorBits, int multiplierBits, Overflow overflow, boolean downscalingAware,
                              boolean overflowAware, boolean guaranteed, double overflowTarget, double narrowFactor,
                              int minWeightLimit, int minActivationBits, int scheduleSteps, int pruneMultiple, double pruneRatio,
                              Path fp32Checkpoint, int trainLimit, int fineTuneEpochs, TrainingData own,
                              boolean perChannelNarrowing, int weightBits, boolean prefixBoundEverywhere,
                              DatapathProfile profile, boolean pairStageEverywhere) {
    /** @throws IllegalArgumentException naming the first impossible option (as the command line spells it) */
    public CompressOptions {
        if (architecture == null || (dataSet == null && own == null) || dataDir == null || outDir == null
                || overflow == null) {
            throw new IllegalArgumentException("compress: --model, --data, --data-dir, --out and --overflow must be set");
        }
        if (accumulatorBits < 8 || accumulatorBits > 32) {
            throw new IllegalArgumentException("--acc-bits must be in [8, 32], got " + accumulatorBits);
        }
        if (multiplierBits < 4 || multiplierBits > 32) {
            throw new IllegalArgumentException("--mul-bits must be in [4, 32], got " + multiplierBits);
        }
        if (fp32Epochs < 0 || qatEpochs < 0) {
            throw new IllegalArgumentException("--epochs and --qat-epochs must be >= 0");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batchSize);
        }
        if (!(learningRate > 0) || !(qatLearningRate > 0)) {
            throw new IllegalArgumentException("--lr and --qat-lr must be > 0, got " + learningRate + " and " + qatLearningRate);
        }
        if (!(overflowTarget >= 0 && overflowTarget < 1)) {
            throw new IllegalArgumentException("--overflow-target must be in [0, 1), got " + overflowTarget);
        }
        if (!(narrowFactor > 0 && narrowFactor < 1)) {
            throw new IllegalArgumentException("--narrow-factor must be in (0, 1), got " + narrowFactor);
        }
        if (minWeightLimit < 1 || minWeightLimit > 127) {
            throw new IllegalArgumentException("--min-weight-limit must be in [1, 127], got " + minWeightLimit);
        }
        if (weightBits < 2 || weightBits > 8) {
            throw new IllegalArgumentException("--weight-bits must be in [2, 8], got " + weightBits);
        }
        if (minActivationBits < 2 || minActivationBits > 8) {
            throw new IllegalArgumentException("--min-activation-bits must be in [2, 8], got " + minActivationBits);
        }
        if (scheduleSteps < 1) {
            throw new IllegalArgumentException("--schedule-steps must be >= 1, got " + scheduleSteps);
        }
        if (pruneMultiple < 1) {
            throw new IllegalArgumentException("--prune-multiple must be >= 1, got " + pruneMultiple);
        }
        if (!(pruneRatio >= 0 && pruneRatio < 1)) {
            throw new IllegalArgumentException("--prune-ratio must be in [0, 1), got " + pruneRatio);
        }
        if (fineTuneEpochs < 0 || (fineTuneEpochs > 0 && fp32Checkpoint == null)) {
            throw new IllegalArgumentException("--fine-tune-epochs must be >= 0 and needs --from, got " + fineTuneEpochs);
        }
        if (trainLimit < 0) {
            throw new IllegalArgumentException("--train-limit must be >= 0, got " + trainLimit);
        }
        if (fp32Checkpoint == null && fp32Epochs == 0) {
            throw new IllegalArgumentException("--epochs 0 needs --from CHECKPOINT: there is nothing to start from");
        }
        if (fp32Checkpoint != null && !java.nio.file.Files.isRegularFile(fp32Checkpoint)) {
            throw new IllegalArgumentException("--from " + fp32Checkpoint + ": no such checkpoint");
        }
    }

    /** What quantization-aware training simulates: these widths, with the awareness this run asks for. */
    public QuantTarget target() {
        QuantTarget t = new QuantTarget(accumulatorBits, multiplierBits, overflow, downscalingAware, overflowAware, guaranteed);
        return profile == null ? t : t.forProfile(profile);
    }

    /** The schedule's weight-limit floor by default: 31 at A >= 16, halved per accumulator bit below 16, at least 3. */
    public static int defaultMinWeightLimit(int accumulatorBits) {
        return Math.max(3, 31 >> Math.max(0, 16 - accumulatorBits));
    }

    /** The schedule's activation floor by default: 4 bits at A >= 16, one less per 2 accumulator bits below 16, at least 2. */
    public static int defaultMinActivationBits(int accumulatorBits) {
        return Math.max(2, 4 - Math.max(0, 16 - accumulatorBits) / 2);
    }

    /** The training and test images: {@code own} when given, else the named set under {@code dataDir}. */
    public TrainingData data() {
        return own != null ? own : TrainingData.named(dataSet, dataDir);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link CompressOptions}; see each method for its default. */
    public static final class Builder {
        private Architecture architecture;
        private DataSet dataSet;
        private Path dataDir = Path.of("data");
        private Path outDir = Path.of("out");
        private int fp32Epochs = 2;
        private int qatEpochs = 2;
        private int batchSize = 32;
        private float learningRate = 0.002f;
        private float qatLearningRate = 0.0003f;
        private long seed = 1;
        private int accumulatorBits = 16;
        private int multiplierBits = 12;
        private Overflow overflow = Overflow.WRAP;
        private boolean downscalingAware = true;
        private boolean overflowAware = true;
        private boolean guaranteed;
        private double overflowTarget = 0.0001;
        private double narrowFactor = 0.8;
        private Integer minWeightLimit;
        private Integer minActivationBits;
        private int scheduleSteps = 100;
        private int pruneMultiple = 16;
        private double pruneRatio;
        private Path fp32Checkpoint;
        private int trainLimit;
        private int fineTuneEpochs;
        private TrainingData own;
        private boolean perChannelNarrowing;
        private int weightBits = 8;
        private boolean prefixBoundEverywhere;
        private DatapathProfile profile;
        private boolean pairStageEverywhere;

        /** With {@link #optProfile}: simulate its intermediate stage in every layer, not only the first; default off. */
        public Builder optPairStageEverywhere(boolean v) {
            pairStageEverywhere = v;
            return this;
        }

        /**
         * Trains for a real CPU's int8 datapath ({@link DatapathProfile}): its accumulator (int32,
         * wrapping) replaces {@link #optAccumulatorBits} and {@link #optOverflow}, and quantization-aware
         * training simulates its intermediate stage; {@link DatapathProfile#PROCESSOR} or null: the
         * paper's processor (default).
         */
        public Builder optProfile(DatapathProfile v) {
            profile = v == DatapathProfile.PROCESSOR ? null : v;
            return this;
        }

        /** Required. */
        public Builder setArchitecture(Architecture v) {
            architecture = v;
            return this;
        }

        /** Required. */
        public Builder setDataSet(DataSet v) {
            dataSet = v;
            return this;
        }

        /**
         * The overflow-aware schedule narrows the weight limit of each output channel that overflows
         * instead of the whole layer's; default off (the paper narrows per layer).
         */
        public Builder optPerChannelNarrowing(boolean v) {
            perChannelNarrowing = v;
            return this;
        }

        /**
         * Integer weight width of the exported model, 2 to 8; default 8. Below 8 every layer's weight
         * limit starts at {@code 2^(bits-1) - 1} (7 bits: ONNX Runtime's {@code reduce_range}).
         */
        public Builder optWeightBits(int v) {
            weightBits = v;
            return this;
        }

        /**
         * Overflow-aware training counts, for every conv, the outputs whose P/N bound leaves A bits
         * (some prefix of the canonical sum may overflow), not only for the one that reads the image.
         */
        public Builder optPrefixBoundEverywhere(boolean v) {
            prefixBoundEverywhere = v;
            return this;
        }

        /** Your own training and test images instead of {@link #setDataSet} (which is then not needed). */
        public Builder optOwnData(TrainingData v) {
            own = v;
            return this;
        }

        /** Default {@code data}. */
        public Builder optDataDir(Path v) {
            dataDir = v;
            return this;
        }

        /** Default {@code out}. */
        public Builder optOutDir(Path v) {
            outDir = v;
            return this;
        }

        /** FP32 epochs; default 2 (0 needs {@link #optFp32Checkpoint}). */
        public Builder optFp32Epochs(int v) {
            fp32Epochs = v;
            return this;
        }

        /** Quantization-aware epochs; default 2 (0: export the calibrated FP32 network as trained at the target). */
        public Builder optQatEpochs(int v) {
            qatEpochs = v;
            return this;
        }

        /** Default 32. */
        public Builder optBatchSize(int v) {
            batchSize = v;
            return this;
        }

        /** FP32 learning rate (Adam, fixed); default 0.002. */
        public Builder optLearningRate(float v) {
            learningRate = v;
            return this;
        }

        /** QAT learning rate; default 0.0003. */
        public Builder optQatLearningRate(float v) {
            qatLearningRate = v;
            return this;
        }

        /** Default 1. */
        public Builder optSeed(long v) {
            seed = v;
            return this;
        }

        /** Default 16. */
        public Builder optAccumulatorBits(int v) {
            accumulatorBits = v;
            return this;
        }

        /** Default 12. */
        public Builder optMultiplierBits(int v) {
            multiplierBits = v;
            return this;
        }

        /** Default WRAP. */
        public Builder optOverflow(Overflow v) {
            overflow = v;
            return this;
        }

        /** Default true. */
        public Builder optDownscalingAware(boolean v) {
            downscalingAware = v;
            return this;
        }

        /** Default true. */
        public Builder optOverflowAware(boolean v) {
            overflowAware = v;
            return this;
        }

        /** Default false. */
        public Builder optGuaranteed(boolean v) {
            guaranteed = v;
            return this;
        }

        /** Share of outputs the schedule lets overflow; default 0.0001. */
        public Builder optOverflowTarget(double v) {
            overflowTarget = v;
            return this;
        }

        /** Default 0.8. */
        public Builder optNarrowFactor(double v) {
            narrowFactor = v;
            return this;
        }

        /** Default {@link CompressOptions#defaultMinWeightLimit} of the accumulator bits. */
        public Builder optMinWeightLimit(int v) {
            minWeightLimit = v;
            return this;
        }

        /** Default {@link CompressOptions#defaultMinActivationBits} of the accumulator bits. */
        public Builder optMinActivationBits(int v) {
            minActivationBits = v;
            return this;
        }

        /** Default 100. */
        public Builder optScheduleSteps(int v) {
            scheduleSteps = v;
            return this;
        }

        /** Default 16. */
        public Builder optPruneMultiple(int v) {
            pruneMultiple = v;
            return this;
        }

        /** Share of channels to prune; default 0 (none). */
        public Builder optPruneRatio(double v) {
            pruneRatio = v;
            return this;
        }

        /** Start from this FP32 checkpoint; default none (train). */
        public Builder optFp32Checkpoint(Path v) {
            fp32Checkpoint = v;
            return this;
        }

        /** First N training images only; default 0 (all). */
        public Builder optTrainLimit(int v) {
            trainLimit = v;
            return this;
        }

        /** FP32 epochs after loading the checkpoint, at the QAT learning rate; default 0. */
        public Builder optFineTuneEpochs(int v) {
            fineTuneEpochs = v;
            return this;
        }

        /** @throws IllegalArgumentException naming the first impossible option */
        public CompressOptions build() {
            if (architecture == null || (dataSet == null && own == null)) {
                throw new IllegalArgumentException("compress: --model and --data must be set");
            }
            if (profile != null) {
                ProcessorConfig cpu = profile.apply(ProcessorConfig.baseline());
                accumulatorBits = cpu.accumulatorBits();
                overflow = cpu.overflow();
            }
            int weightFloor = minWeightLimit != null ? minWeightLimit : defaultMinWeightLimit(accumulatorBits);
            int activationFloor = minActivationBits != null ? minActivationBits : defaultMinActivationBits(accumulatorBits);
            return new CompressOptions(architecture, dataSet, dataDir, outDir, fp32Epochs, qatEpochs, batchSize, learningRate,
                    qatLearningRate, seed, accumulatorBits, multiplierBits, overflow, downscalingAware, overflowAware,
                    guaranteed, overflowTarget, narrowFactor, weightFloor, activationFloor, scheduleSteps, pruneMultiple,
                    pruneRatio, fp32Checkpoint, trainLimit, fineTuneEpochs, own, perChannelNarrowing, weightBits,
                    prefixBoundEverywhere, profile, pairStageEverywhere);
        }
    }
}
