package dova.serve.recal;

import dova.compress.FineTune;
import dova.compress.net.QuantTarget;
import dova.compress.net.Checkpoint;
import dova.sim.data.LabelledImages;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The service's retraining: which checkpoint the next fine-tuning starts from, and what becomes
 * of each result. The fine-tuning itself is compress's ({@link FineTune}: downscaling- and
 * overflow-aware at the processor's A, M and overflow mode, DJL / PyTorch on the CPU).
 *
 * <p>The base is the configured checkpoint at first; when a retrained model is accepted, its
 * checkpoint becomes the base ({@link #adopt}), so that successive drifts build on each other
 * instead of starting over from the initial weights. One caller at a time (the recalibrator's
 * single worker).
 */
public final class Retrainer {
    private final Path initial;
    private volatile Path base;

    /** A retrained model and the checkpoint of its float weights (a temporary file until adopted or discarded). */
    public record Result(IntegerModel model, Path checkpoint) {
    }

    /** @throws IllegalArgumentException naming {@code dova.model.checkpoint} if it is missing or unreadable */
    public Retrainer(Path checkpoint) {
        this.initial = checkpoint;
        this.base = checkpoint;
        try {
            Checkpoint.architecture(checkpoint); // readable, and a checkpoint of a known network
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
     * (beside the model version in the registry, where it stays: a rollback to that version
     * retrains from its own weights). The configured initial checkpoint is never changed.
     *
     * <p>{@code keepAs} is never missing while this runs: the registry that published the version
     * has usually written the same bytes there already (and another thread, the fleet's follower,
     * may be reading it), so an identical file is left as it is; a different one is replaced by an
     * atomic rename, never deleted first.
     */
    public void adopt(Result result, Path keepAs) throws IOException {
        if (!(Files.isRegularFile(keepAs) && Files.mismatch(keepAs, result.checkpoint()) == -1)) {
            Path part = keepAs.resolveSibling(keepAs.getFileName() + ".part");
            Files.copy(result.checkpoint(), part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, keepAs, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.delete(result.checkpoint());
        base = keepAs;
    }

    /**
     * Makes {@code checkpoint} (a stored version's, now serving) the base of the next retraining:
     * a replica that starts serving a version another replica published, or a rollback, retrains
     * from the weights that version came from.
     *
     * @throws IllegalArgumentException when it is not a readable checkpoint of a known network
     */
    public void rebase(Path checkpoint) {
        try {
            Checkpoint.architecture(checkpoint);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + ": " + e.getMessage(), e);
        }
        base = checkpoint;
    }

    /** Deletes a result's temporary checkpoint (a rejected candidate). */
    public void discard(Result result) throws IOException {
        Files.deleteIfExists(result.checkpoint());
    }

    /**
     * The FP32 teacher's top-1 class for each image: the configured checkpoint (the float weights
     * the serving model descends from) run in FP32 by DJL. What the gate measures agreement with
     * when frames carry no labels.
     */
    public int[] teacherPredictions(IntegerModel serving, LabelledImages images) throws IOException {
        return dova.compress.CheckpointEval.run(initial, images, serving.outputSpec().channels()).predictions();
    }

    /**
     * Fine-tunes from {@link #base()} by distillation from the FP32 teacher ({@link #teacherPredictions}'s
     * checkpoint): for frames without labels, with a hard-label term where {@code labels[i] >= 0}.
     * The caller must {@link #adopt} or {@link #discard} the result.
     */
    public Result distill(IntegerModel serving, ProcessorConfig target, LabelledImages train, int[] labels, int epochs,
                          long seed) throws IOException {
        check(serving, train);
        FineTune.Result r = FineTune.distilled(base, initial, serving.name(), serving.outputSpec().channels(),
                QuantTarget.of(target), train, labels, epochs, seed);
        return new Result(r.model(), r.checkpoint());
    }

    private static void check(IntegerModel serving, LabelledImages train) {
        TensorSpec in = serving.inputSpec();
        if (in.height() != train.rows() || in.width() != train.cols() || in.channels() != 1) {
            throw new IllegalArgumentException("retraining images are " + train.rows() + "x" + train.cols()
                    + "; the serving model takes " + in.shape());
        }
    }

    /** Fine-tunes from {@link #base()} (compress's {@link FineTune}); the caller must {@link #adopt} or {@link #discard} the result. */
    public Result retrain(IntegerModel serving, ProcessorConfig target, LabelledImages train, int epochs, long seed)
            throws IOException {
        check(serving, train);
        FineTune.Result r = FineTune.fromCheckpoint(base, serving.name(), serving.outputSpec().channels(),
                QuantTarget.of(target), train, epochs, seed);
        return new Result(r.model(), r.checkpoint());
    }
}
