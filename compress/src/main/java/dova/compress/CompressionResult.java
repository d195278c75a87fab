package dova.compress;

import dova.compress.train.EpochStats;
import dova.sim.model.IntegerModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a compression run produced.
 *
 * @param fp32TestAccuracy FP32 accuracy on the test set (float model, the reference point)
 * @param naiveModel post-training quantization of the FP32 (or pruned) network at the target
 *     widths, or null when it cannot be exported (e.g. a bias beyond A bits)
 * @param naiveError why the naive export failed, or null
 * @param model the downscaling- and overflow-aware trained model at the target widths
 * @param weightLimits final integer weight limit per layer after the overflow-aware schedule
 */
public record CompressionResult(double fp32TestAccuracy, IntegerModel naiveModel, String naiveError, IntegerModel model,
                                Path modelFile, Path curvesPng, List<EpochStats> history, Map<String, Integer> weightLimits,
                                String pruning, long fp32Parameters, long prunedParameters) {
}
