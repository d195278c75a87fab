package dova.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.serve.recal.Retrainer;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.model.Conv2d;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Successive retrainings build on each other: an adopted result's checkpoint becomes the base of
 * the next one, the configured checkpoint is never touched, and rejected results leave no files.
 */
class RetrainerTest {
    static final Path INITIAL = Path.of("../models/lenet-mnist-a16m12-wrap-qat.ckpt");
    static final Path MODEL = Path.of("../models/lenet-mnist-a16m12-wrap.dova");

    private static LabelledImages images() throws IOException {
        Path dir = Path.of(System.getProperty("test.data.dir", "../data"));
        if (!Files.isDirectory(dir.resolve(DataSet.MNIST.folder()))) {
            fail("MNIST missing under " + dir.toAbsolutePath() + ": run scripts/fetch-data.sh");
        }
        return DataSet.MNIST.load(dir, DataSet.Split.TEST).head(320);
    }

    private static byte[] firstLayerWeights(IntegerModel m) {
        return ((Conv2d) m.layers().get(0)).weights();
    }

    @Test
    void anAdoptedResultIsTheBaseOfTheNextRetraining(@TempDir Path registry) throws IOException {
        byte[] initialBytes = Files.readAllBytes(INITIAL);
        IntegerModel serving = ModelIo.read(MODEL);
        ProcessorConfig target = ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP)
                .withMultiplierBits(12);
        LabelledImages data = images();
        Retrainer retrainer = new Retrainer(INITIAL);
        assertEquals(INITIAL, retrainer.base());

        // without training, the initial weights come back
        Retrainer.Result fromInitial = retrainer.retrain(serving, target, data, 0, 1);
        retrainer.discard(fromInitial);
        assertFalse(Files.exists(fromInitial.checkpoint()), "a discarded result leaves no file");

        Retrainer.Result first = retrainer.retrain(serving, target, data, 2, 1);
        assertTrue(Files.exists(first.checkpoint()));
        assertFalse(Arrays.equals(firstLayerWeights(fromInitial.model()), firstLayerWeights(first.model())),
                "two epochs changed the weights");
        Path kept = registry.resolve("v0002-qat.ckpt");
        retrainer.adopt(first, kept);
        assertEquals(kept, retrainer.base());
        assertFalse(Files.exists(first.checkpoint()), "adopting moves the temporary checkpoint");

        // the next retraining starts from the adopted weights
        Retrainer.Result next = retrainer.retrain(serving, target, data, 0, 1);
        assertArrayEquals(firstLayerWeights(first.model()), firstLayerWeights(next.model()));
        Path keptAgain = registry.resolve("v0003-qat.ckpt");
        // the registry that published v0003 wrote its checkpoint there already, and the fleet's follower
        // may be reading it: adopting leaves that very file (it used to delete it, then rename over it)
        Files.copy(next.checkpoint(), keptAgain);
        Object published = Files.readAttributes(keptAgain, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        retrainer.adopt(next, keptAgain);
        assertEquals(published, Files.readAttributes(keptAgain, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                "the published checkpoint file is not replaced");
        assertFalse(Files.exists(next.checkpoint()), "the temporary checkpoint goes");
        assertTrue(Files.exists(kept), "a replaced base stays beside its version: a rollback retrains from it");
        assertTrue(Files.exists(keptAgain));
        assertEquals(keptAgain, retrainer.base());
        // a rollback to v0002 (or another replica serving it) retrains from v0002's weights again
        retrainer.rebase(kept);
        Retrainer.Result afterRollback = retrainer.retrain(serving, target, data, 0, 1);
        assertArrayEquals(firstLayerWeights(first.model()), firstLayerWeights(afterRollback.model()));
        retrainer.discard(afterRollback);
        Path notACheckpoint = Files.writeString(registry.resolve("v0004-qat.ckpt"), "not a checkpoint");
        assertThrows(IllegalArgumentException.class, () -> retrainer.rebase(notACheckpoint));
        assertEquals(kept, retrainer.base(), "a refused rebase keeps the base");
        assertArrayEquals(initialBytes, Files.readAllBytes(INITIAL), "the configured checkpoint is never changed");
    }

    /** Test images with a strong contrast drift, as the demo injects it. */
    private static LabelledImages drifted(int from, int n) throws IOException {
        LabelledImages all = DataSet.MNIST.load(Path.of(System.getProperty("test.data.dir", "../data")), DataSet.Split.TEST);
        byte[] px = Arrays.copyOfRange(all.pixels(), from * 784, (from + n) * 784);
        java.util.Random rnd = new java.util.Random(5);
        for (int i = 0; i < n; i++) {
            byte[] one = Arrays.copyOfRange(px, i * 784, (i + 1) * 784);
            dova.ingest.replay.Drift.CONTRAST.apply(one, 28, 28, 0.95, rnd);
            System.arraycopy(one, 0, px, i * 784, 784);
        }
        return new LabelledImages("drifted", n, 28, 28, px, Arrays.copyOfRange(all.labels(), from, from + n));
    }

    private static double agreement(IntegerModel m, ProcessorConfig cfg, LabelledImages images, int[] teacher) {
        dova.sim.exec.Executor e = dova.sim.exec.Executor.fast(m, cfg);
        int agree = 0;
        for (int i = 0; i < images.count(); i++) {
            agree += e.run(images.pixels(), i * 784) == teacher[i] ? 1 : 0;
        }
        return (double) agree / images.count();
    }

    /**
     * Without labels: distillation from the FP32 teacher on drifted frames brings the integer model's
     * predictions closer to the teacher's on other drifted frames, and no label is used.
     */
    @Test
    void distillationWithoutLabelsMovesTheModelTowardsItsTeacher() throws IOException {
        IntegerModel serving = ModelIo.read(MODEL);
        ProcessorConfig target = ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP).withMultiplierBits(12);
        LabelledImages train = drifted(0, 600);
        LabelledImages holdout = drifted(5000, 400);
        Retrainer retrainer = new Retrainer(INITIAL);
        int[] teacher = retrainer.teacherPredictions(serving, holdout);
        int[] none = new int[train.count()];
        Arrays.fill(none, -1);
        // the labels of the training images are scrambled: an implementation that used them would be led astray
        byte[] scrambled = train.labels().clone();
        for (int i = 0; i < scrambled.length; i++) {
            scrambled[i] = (byte) ((scrambled[i] + 3) % 10);
        }
        LabelledImages unlabelled = new LabelledImages("unlabelled", train.count(), 28, 28, train.pixels(), scrambled);
        Retrainer.Result r = retrainer.distill(serving, target, unlabelled, none, 2, 1);
        try {
            double before = agreement(serving, target, holdout, teacher);
            double after = agreement(r.model(), target, holdout, teacher);
            System.out.printf("distillation without labels: agreement with the FP32 teacher on 400 drifted frames %.4f -> %.4f%n",
                    before, after);
            assertTrue(after > before, "agreement with the teacher on drifted frames: " + before + " -> " + after);
        } finally {
            retrainer.discard(r);
        }
    }
}
