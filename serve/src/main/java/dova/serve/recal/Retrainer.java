package dova.serve.recal;

import dova.compress.net.Architecture;
import dova.compress.net.Checkpoint;
import dova.compress.net.Exporter;
import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
import dova.sim.data.LabelledImages;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.TensorSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Brief downscaling- and overflow-aware fine-tuning of the serving network on recent labelled
 * frames (compress's training loop, DJL / PyTorch on the CPU): starts from the base QAT
 * checkpoint, re-calibrates activation scales on the frames, trains a few epochs at a low
 * learning rate with the processor's A, M and overflow mode simulated, and exports.
 *
 * <p>The base is the configured checkpoint at first; when a retrained model is accepted, its
 * checkpoint becomes the base ({@link #adopt}), so that successive drifts build on each other
 * instead of starting over from the initial weights. One caller at a time (the recalibrator's
 * single worker).
 */
public final class Retrainer {
    private final Path initial;
    private final Architecture architecture;
    private volatile Path base;

    /** A retrained model and the checkpoint of its float weights (a temporary file until adopted or discarded). */
    public record Result(IntegerModel model, Path checkpoint) {
    }

    /** @throws IllegalArgumentException naming {@code dova.model.checkpoint} if it is missing or unreadable */
    public Retrainer(Path checkpoint) {
        this.initial = checkpoint;
        this.base = checkpoint;
        try {
            this.architecture = Checkpoint.architecture(checkpoint);
        } catch (IOException e) {
            throw new IllegalArgumentException("dova.model.checkpoint: " + e.getMessage());
        }
    }

    /** The checkpoint the next retraining starts from. */
    public Path base() {
        return base;
    }

    /**
     * Makes an accepted result's checkpoint the base of the next retraining, stored at {@code keepAs}
     * (beside the model version in the registry). A previously adopted base is deleted; the
     * configured initial checkpoint never is.
     */
    public void adopt(Result result, Path keepAs) throws IOException {
        Files.move(result.checkpoint(), keepAs, StandardCopyOption.REPLACE_EXISTING);
        Path old = base;
        base = keepAs;
        if (!old.equals(initial) && !old.equals(keepAs)) {
            Files.deleteIfExists(old);
        }
    }

    /** Deletes a result's temporary checkpoint (a rejected candidate). */
    public void discard(Result result) throws IOException {
        Files.deleteIfExists(result.checkpoint());
    }

    /** Fine-tunes from {@link #base()}; the caller must {@link #adopt} or {@link #discard} the result. */
    public Result retrain(IntegerModel serving, ProcessorConfig target, LabelledImages train, int epochs, long seed)
            throws IOException {
        TensorSpec in = serving.inputSpec();
        int classes = serving.outputSpec().channels();
        // QAT checkpoints are saved after batch norm was folded
        QuantNet net = new QuantNet(architecture, QuantNet.withoutBatchNorm(architecture.ops(classes, 1)), classes,
                in.channels(), in.height(), in.width());
        TrainingLoop loop = TrainingLoop.create(net, seed);
        try {
            Checkpoint.load(net, base);
            loop.calibrate(train, 64);
            net.quantize(dova.compress.net.QuantTarget.of(target));
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            loop.fit("retrain", train, epochs, Math.min(32, train.count()), 1e-4f, seed, quiet, null);
            // trained at the target width: biases clamped as the training simulated them
            IntegerModel model = Exporter.export(net, serving.name(), target.accumulatorBits(), target.multiplierBits(),
                    true, null);
            Path ckpt = Files.createTempFile("dova-retrain-", ".ckpt");
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
