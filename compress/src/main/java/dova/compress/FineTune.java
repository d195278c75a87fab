package dova.compress;

import dova.compress.net.Architecture;
import dova.compress.net.Checkpoint;
import dova.compress.net.Exporter;
import dova.compress.net.QuantNet;
import dova.compress.net.QuantTarget;
import dova.compress.train.TrainingLoop;
import dova.sim.data.LabelledImages;
import dova.sim.model.IntegerModel;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Brief quantization-aware fine-tuning of a QAT checkpoint on new labelled images, then export:
 * the checkpoint's (folded) network, activation scales recalibrated on the images, a few epochs
 * at a low learning rate with {@code target} simulated, biases clamped as training simulated
 * them. What the service's retraining runs; usable from any caller.
 */
public final class FineTune {
    /** QAT learning rate of the fine-tuning (Adam, fixed). */
    public static final float LEARNING_RATE = 1e-4f;

    /** The exported model and the checkpoint of its float weights (a temporary file the caller owns). */
    public record Result(IntegerModel model, Path checkpoint) {
    }

    private FineTune() {
    }

    /**
     * @param name the exported model's name
     * @param classes the model's output classes
     */
    public static Result fromCheckpoint(Path base, String name, int classes, QuantTarget target, LabelledImages train,
                                        int epochs, long seed) throws IOException {
        return fineTune(base, name, classes, target, train, epochs, seed, null);
    }

    /** Softening temperature of the teacher's and the student's outputs in {@link #distilled}. */
    public static final float TEMPERATURE = 4f;

    /**
     * As {@link #fromCheckpoint}, for images without labels: the targets are the soft outputs of
     * {@code teacher}, the float checkpoint the model descends from run in FP32 over the same
     * images ({@link CheckpointEval}), at temperature {@link #TEMPERATURE}; where
     * {@code hardLabels[i] >= 0} a cross-entropy term on that label is added.
     *
     * @param hardLabels per image of {@code train}, its label or -1
     */
    public static Result distilled(Path base, Path teacher, String name, int classes, QuantTarget target, LabelledImages train,
                                   int[] hardLabels, int epochs, long seed) throws IOException {
        float[] logits = CheckpointEval.run(teacher, train, classes).logits();
        return fineTune(base, name, classes, target, train, epochs, seed,
                new TrainingLoop.Distillation(logits, hardLabels, classes, TEMPERATURE, 1f));
    }

    private static Result fineTune(Path base, String name, int classes, QuantTarget target, LabelledImages train, int epochs,
                                   long seed, TrainingLoop.Distillation distillation) throws IOException {
        Architecture architecture = Checkpoint.architecture(base);
        // QAT checkpoints are saved after batch norm was folded
        QuantNet net = new QuantNet(architecture, QuantNet.withoutBatchNorm(architecture.ops(classes, 1)), classes, 1,
                train.rows(), train.cols());
        TrainingLoop loop = TrainingLoop.create(net, seed);
        if (distillation != null) {
            loop.distill(distillation);
        }
        try {
            Checkpoint.load(net, base);
            loop.calibrate(train, 64);
            net.quantize(target);
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            loop.fit("fine-tune", train, epochs, Math.min(32, train.count()), LEARNING_RATE, seed, quiet, null);
            // trained at the target width: biases clamped as the training simulated them
            IntegerModel model = Exporter.export(net, name, target.accumulatorBits(), target.multiplierBits(), true, null);
            Path ckpt = Files.createTempFile("dova-fine-tune-", ".ckpt");
            try {
                Checkpoint.save(net, epochs, ckpt);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(ckpt);
                throw e;
            }
            return new Result(model, ckpt);
        } finally {
            loop.model().close();
        }
    }
}
