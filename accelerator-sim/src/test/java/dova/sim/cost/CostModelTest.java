package dova.sim.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.eval.Reports;
import dova.sim.eval.Simulation;
import dova.sim.eval.SimulationResult;
import dova.sim.model.Activation;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelBuilder;
import dova.sim.model.RandomModels;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CostModelTest {
    private static IntegerModel convModel(int inChannels, int outChannels, int groups) {
        ModelBuilder b = new ModelBuilder("c", 8, 8, 32, 32);
        int x = b.input("image", inChannels, 8, 8, 1 / 255.0);
        double[] ws = new double[outChannels];
        Arrays.fill(ws, 0.01);
        int y = b.conv("conv", x, outChannels, 3, 1, 1, groups,
                RandomModels.weights(new Random(1), outChannels * (inChannels / groups) * 9, 8, false),
                new int[outChannels], ws, 0.05, Activation.RELU);
        return b.build(y);
    }

    @Test
    void multiplesOfSixteenFillTheArray() {
        CostReport full = CostModel.evaluate(convModel(32, 32, 1), ProcessorConfig.baseline());
        assertEquals(1.0, full.layers().get(0).utilisation(), 1e-12);
        // 8*8 pixels * 9 taps * 2 out tiles * 2 in tiles
        assertEquals(64 * 9 * 2 * 2, full.cycles());
        CostReport ragged = CostModel.evaluate(convModel(17, 17, 1), ProcessorConfig.baseline());
        // 17 channels need 2 tiles each way: 4 tiles for 17*17/(16*16) ~ 1.13 tiles of work
        assertEquals(17.0 * 17 / (4 * 256), ragged.layers().get(0).utilisation(), 1e-12);
        CostReport depthwise = CostModel.evaluate(convModel(32, 32, 32), ProcessorConfig.baseline());
        assertEquals(1.0 / 16, depthwise.layers().get(0).utilisation(), 1e-12);
    }

    @Test
    void narrowAccumulatorsAndMultipliersSaveEnergyAndArea() {
        IntegerModel m = convModel(32, 32, 1);
        CostReport wide = CostModel.evaluate(m, ProcessorConfig.baseline());
        CostReport narrow = CostModel.evaluate(m, ProcessorConfig.paperTarget(Overflow.SATURATE));
        assertTrue(narrow.energyPicojoules() < wide.energyPicojoules());
        assertTrue(narrow.accumulateEnergyPicojoules() < wide.accumulateEnergyPicojoules() / 2);
        assertTrue(narrow.accumulatorAreaSquareMicrometres() < wide.accumulatorAreaSquareMicrometres() / 3);
        assertEquals(wide.macArrayAreaSquareMicrometres(), narrow.macArrayAreaSquareMicrometres(), 1e-9);
        assertEquals(wide.macs(), narrow.macs());
    }

    @Test
    void simulationReportsAccuracyOverflowAndCost() {
        IntegerModel m = RandomModels.model(3, 8, 8, 12, 32);
        Random r = new Random(3);
        int n = 20;
        int size = m.inputSpec().size();
        byte[] px = new byte[n * size];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(RandomModels.image(r, m), 0, px, i * size, size);
        }
        // label every image with the class the baseline predicts: baseline accuracy must be exactly 100%
        dova.sim.exec.Executor e = dova.sim.exec.Executor.reference(m, ProcessorConfig.baseline());
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) e.run(px, i * size);
        }
        SimulationResult base = Simulation.run(m, ProcessorConfig.baseline(), px, labels, n, 2, null);
        SimulationResult narrow = Simulation.run(m, ProcessorConfig.baseline().withAccumulator(12, Overflow.WRAP), px,
                labels, n, 2, null);
        assertEquals(n, base.correct());
        assertEquals(0, base.overflowEvents());
        assertTrue(narrow.overflowEvents() > 0);
        String table = Reports.table(List.of(base, narrow));
        assertTrue(table.contains("A32/M32 wrap") && table.contains("A12/M32 wrap") && table.contains("conv3"), table);
        assertTrue(Reports.json(List.of(base, narrow)).contains("\"overflowEvents\""));
    }
}
