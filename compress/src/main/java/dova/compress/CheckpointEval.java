package dova.compress;

import dova.compress.net.Architecture;
import dova.compress.net.Checkpoint;
import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
import dova.sim.data.LabelledImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A float checkpoint evaluated without training: the FP32 network (or, for a QAT checkpoint, the
 * folded network with its learned quantization state, still in FP32) run by DJL over images.
 */
public final class CheckpointEval {
    /** The predictions, the logits behind them ({@code count x classes}) and which layout the checkpoint had. */
    public record Result(int[] predictions, float[] logits, double accuracy, boolean batchNorm, int epoch) {
    }

    private CheckpointEval() {
    }

    public static Result run(Path checkpoint, LabelledImages images, int classes) throws IOException {
        Architecture a = Checkpoint.architecture(checkpoint);
        IOException first = null;
        // FP32 checkpoints keep batch norm; QAT checkpoints are saved after folding
        for (List<dova.compress.net.Op> ops : List.of(a.ops(classes, 1), QuantNet.withoutBatchNorm(a.ops(classes, 1)))) {
            QuantNet net = new QuantNet(a, ops, classes, 1, images.rows(), images.cols());
            TrainingLoop loop = TrainingLoop.create(net, 1);
            try {
                int epoch = Checkpoint.load(net, checkpoint);
                float[] logits = loop.logits(images, 250);
                int[] p = TrainingLoop.top1(logits, classes);
                return new Result(p, logits, TrainingLoop.accuracy(p, images), net.hasBatchNorm(), epoch);
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            } finally {
                loop.model().close();
            }
        }
        throw first;
    }
}
