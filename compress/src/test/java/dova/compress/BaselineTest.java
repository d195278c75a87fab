package dova.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.compress.net.Architecture;
import dova.compress.train.Augmentation;
import dova.compress.train.Recipe;
import dova.sim.data.DataSet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaselineTest {
    private static Baseline.Options options(Path out, Recipe r, boolean resume) {
        return new Baseline.Options(Architecture.LENET, dova.sim.data.TrainingData.named(DataSet.MNIST, TestData.dir()), out, r, 3, resume, 1280);
    }

    @Test
    void recordsEveryEpochResumesAndRefusesToMixRuns(@TempDir Path out) throws Exception {
        Recipe r = Recipe.builder().optimizer(Recipe.Optimizer.ADAMW).epochs(2).batchSize(64).learningRate(2e-3f)
                .schedule(Recipe.LrSchedule.COSINE).warmupEpochs(1).weightDecay(1e-4f).augmentation(Augmentation.SHIFT).build();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Baseline.Result first = Baseline.run(options(out, r, false), quiet);
        assertEquals(List.of(1, 2), first.history().stream().map(Baseline.Row::epoch).toList());
        assertTrue(first.finalTestAccuracy() > 0.5, "2 epochs on 1,280 digits learn something: " + first.finalTestAccuracy());
        assertTrue(Files.size(first.curves()) > 1000 && Files.exists(first.checkpoint()));
        assertEquals(2e-3, first.history().get(0).learningRate(), 1e-9, "the peak at the end of the warm-up epoch");
        assertTrue(first.history().get(1).learningRate() < 0.02 * 2e-3, "the cosine ends near 0: " + first.history().get(1));

        // the checkpoint evaluated without training gives the run's last test accuracy
        CheckpointEval.Result eval = CheckpointEval.run(first.checkpoint(),
                TestData.load(DataSet.MNIST, DataSet.Split.TEST, 10_000), 10);
        assertEquals(first.finalTestAccuracy(), eval.accuracy(), 1e-6);
        assertEquals(2, eval.epoch());

        String m = assertThrows(IllegalArgumentException.class, () -> Baseline.run(options(out, r, false), quiet)).getMessage();
        assertTrue(m.contains("--resume"), "an existing checkpoint is never overwritten: " + m);

        // a finished run resumed: nothing trained, the same history
        Baseline.Result again = Baseline.run(options(out, r, true), quiet);
        assertEquals(first.history(), again.history());

        // the same run with more epochs is another recipe: refused, not silently continued
        Recipe longer = r.toBuilder().epochs(3).build();
        String other = assertThrows(IllegalArgumentException.class, () -> Baseline.run(options(out, longer, true), quiet))
                .getMessage();
        assertTrue(other.contains("another recipe"), other);

        // a history that does not match its checkpoint is refused
        Path history = out.resolve("lenet-mnist-fp32-history.csv");
        List<String> lines = Files.readAllLines(history);
        Files.write(history, lines.subList(0, lines.size() - 1));
        String mismatch = assertThrows(IllegalArgumentException.class, () -> Baseline.run(options(out, r, true), quiet))
                .getMessage();
        assertTrue(mismatch.contains("do not belong together"), mismatch);
    }
}
