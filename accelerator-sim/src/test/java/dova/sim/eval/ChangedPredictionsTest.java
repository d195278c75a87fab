package dova.sim.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.RandomModels;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A simulation records every prediction; two runs over the same images compare image by image. */
class ChangedPredictionsTest {
    @Test
    void predictionsAreRecordedAndCompared() {
        IntegerModel m = RandomModels.model(4, 8, 8, 12, 12, true);
        Random r = new Random(4);
        int n = 300;
        int size = m.inputSpec().size();
        byte[] px = new byte[n * size];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(RandomModels.image(r, m), 0, px, i * size, size);
            labels[i] = (byte) r.nextInt(m.outputSpec().channels());
        }
        ProcessorConfig narrow = ProcessorConfig.baseline().withAccumulator(10, Overflow.WRAP).withMultiplierBits(12);
        ProcessorConfig wide = narrow.withAccumulator(32, Overflow.WRAP);
        SimulationResult a = Simulation.run(m, narrow, px, labels, n, 2, null);
        SimulationResult b = Simulation.run(m, wide, px, labels, n, 1, null);
        // the recorded predictions are the executors' own, image by image, whatever the thread count
        Executor x = Executor.reference(m, narrow);
        Executor y = Executor.reference(m, wide);
        int changed = 0;
        int rightWide = 0;
        int rightNarrow = 0;
        java.util.List<Integer> first = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            int p = x.run(px, i * size);
            int q = y.run(px, i * size);
            assertEquals(p, a.predictions()[i], "image " + i);
            assertEquals(q, b.predictions()[i], "image " + i);
            if (p != q) {
                if (first.size() < SimulationResult.Changed.EXAMPLES) {
                    first.add(i);
                }
                changed++;
                rightWide += q == labels[i] ? 1 : 0;
                rightNarrow += p == labels[i] ? 1 : 0;
            }
        }
        assertTrue(changed > 0, "a 10-bit accumulator changes some predictions of this random model");
        SimulationResult.Changed c = a.changedAgainst(b, labels);
        assertEquals(changed, c.changed());
        assertEquals(rightWide, c.rightOnlyInOther());
        assertEquals(rightNarrow, c.rightOnlyHere());
        assertEquals(first, java.util.Arrays.stream(c.firstImages()).boxed().toList(), "the first changed images, in order");
        assertEquals(0, a.changedAgainst(a, labels).changed());
        SimulationResult fewer = Simulation.run(m, wide, px, labels, n - 1, 1, null);
        assertThrows(IllegalArgumentException.class, () -> a.changedAgainst(fewer, labels));
    }
}
