package dova.compress;

import dova.compress.net.Architecture;
import dova.sim.data.DataSet;
import dova.sim.Overflow;
import java.nio.file.Path;

/**
 * Everything a compression run needs. {@link #validate()} rejects impossible values before any
 * long work starts, naming the option.
 *
 * @param fp32Checkpoint start from this FP32 checkpoint instead of training (null: train)
 * @param narrowFactor overflow-aware schedule: a layer whose overflow rate exceeds
 *     {@code overflowTarget} after an epoch has its weight limit multiplied by this factor
 * @param minWeightLimit the schedule narrows a layer's weights down to this integer limit, then its input activations
 * @param minActivationBits the schedule never narrows an activation below this many bits
 * @param scheduleSteps the schedule looks at the overflow rate of the last this-many training steps
 * @param trainLimit use only the first N training images (0: all)
 */
public record CompressOptions(Architecture architecture, DataSet dataSet, Path dataDir, Path outDir, int fp32Epochs,
                              int qatEpochs, int batchSize, float learningRate, float qatLearningRate, long seed,
                              int accumulatorBits, int multiplierBits, Overflow overflow, boolean downscalingAware,
                              boolean overflowAware, boolean guaranteed, double overflowTarget, double narrowFactor,
                              int minWeightLimit, int minActivationBits, int scheduleSteps, int pruneMultiple, double pruneRatio, Path fp32Checkpoint,
                              int trainLimit) {
    /** What quantization-aware training simulates: these widths, with the awareness this run asks for. */
    public dova.compress.net.QuantTarget target() {
        return new dova.compress.net.QuantTarget(accumulatorBits, multiplierBits, overflow, downscalingAware, overflowAware,
                guaranteed);
    }

    public CompressOptions validate() {
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
        if (!(narrowFactor > 0 && narrowFactor < 1)) {
            throw new IllegalArgumentException("--narrow-factor must be in (0, 1), got " + narrowFactor);
        }
        if (minWeightLimit < 1 || minWeightLimit > 127) {
            throw new IllegalArgumentException("--min-weight-limit must be in [1, 127], got " + minWeightLimit);
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
        if (fp32Checkpoint == null && fp32Epochs == 0) {
            throw new IllegalArgumentException("--epochs 0 needs --from CHECKPOINT: there is nothing to start from");
        }
        if (fp32Checkpoint != null && !java.nio.file.Files.isRegularFile(fp32Checkpoint)) {
            throw new IllegalArgumentException("--from " + fp32Checkpoint + ": no such checkpoint");
        }
        return this;
    }
}
