package dova.sim.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.DatapathProfile;
import dova.sim.Overflow;
import dova.sim.PairStage;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.RandomModels;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The executor's pair stage: exact when it cannot overflow, counted and saturated when it does. */
class PairStageExecutorTest {
    @Test
    void aStageThatCannotOverflowChangesNothing() {
        for (long seed = 0; seed < 20; seed++) {
            IntegerModel m = RandomModels.model(seed, 8, 8, 32, 32, true);
            ProcessorConfig plain = ProcessorConfig.baseline();
            Random rnd = new Random(seed);
            for (PairStage stage : new PairStage[] {new PairStage(1, 32, Overflow.WRAP), new PairStage(2, 32, Overflow.SATURATE),
                new PairStage(4, 32, Overflow.WRAP)}) {
                Executor a = Executor.reference(m, plain);
                Executor b = Executor.fast(m, plain.withPairStage(stage));
                for (int i = 0; i < 3; i++) {
                    byte[] px = RandomModels.image(rnd, m);
                    assertEquals(a.run(px, 0), b.run(px, 0));
                    assertArrayEquals(a.logits(), b.logits(), "seed " + seed + ", " + stage);
                }
                assertEquals(0, b.totalOverflowEvents());
            }
        }
    }

    @Test
    void theAvx2StageSaturatesFullRangePairsAndCountsThem() {
        // all-255 pixels against full-range weights: adjacent products of one sign exceed int16
        int events = 0;
        for (long seed = 0; seed < 20; seed++) {
            IntegerModel m = RandomModels.model(seed, 8, 8, 32, 32, true);
            byte[] px = new byte[m.inputSpec().size()];
            java.util.Arrays.fill(px, (byte) 255);
            Executor e = Executor.fast(m, DatapathProfile.X86_AVX2.apply(ProcessorConfig.baseline()));
            e.run(px, 0);
            events += e.totalOverflowEvents();
        }
        assertTrue(events > 0, "some random full-range models saturate the int16 pair stage");
        assertThrows(IllegalArgumentException.class,
                () -> Executor.fastJava(RandomModels.model(1, 8, 8, 32, 32, true),
                        DatapathProfile.X86_AVX2.apply(ProcessorConfig.baseline())));
        assertEquals("reference executor (the pair stage runs only there)",
                Executor.fastPath(RandomModels.model(1, 8, 8, 32, 32, true), DatapathProfile.X86_AVX2.apply(ProcessorConfig.baseline())));
    }
}
