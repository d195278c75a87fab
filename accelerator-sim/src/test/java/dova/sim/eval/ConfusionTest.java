package dova.sim.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.RandomModels;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConfusionTest {
    @Test
    void theConfusionMatrixAddsUpToTheImagesAndItsDiagonalToTheCorrectOnes() {
        IntegerModel m = RandomModels.model(3, 8, 8, 32, 32);
        int size = m.inputSpec().size();
        int classes = m.outputSpec().channels();
        int n = 97;
        Random r = new Random(4);
        byte[] px = new byte[n * size];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(RandomModels.image(r, m), 0, px, i * size, size);
            labels[i] = (byte) r.nextInt(classes);
        }
        SimulationResult s = Simulation.run(m, ProcessorConfig.baseline(), px, labels, n, 3, null);
        long all = 0;
        long diagonal = 0;
        for (int a = 0; a < classes; a++) {
            for (int b = 0; b < classes; b++) {
                all += s.confusion()[a][b];
            }
            diagonal += s.confusion()[a][a];
        }
        assertEquals(n, all);
        assertEquals(s.correct(), diagonal);
        String text = Reports.confusion(s);
        assertTrue(text.contains("per-class accuracy") && text.lines().count() == classes + 2, text);
        assertTrue(Reports.json(java.util.List.of(s)).contains("\"confusion\""));
    }
}
