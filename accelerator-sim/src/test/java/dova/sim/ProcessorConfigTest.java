package dova.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.cost.CostTable;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessorConfigTest {
    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void rejectsOutOfRangeParametersByName() {
        ProcessorConfig b = ProcessorConfig.baseline();
        assertEquals("accumulatorBits must be in [8, 32], got 7", error(() -> b.withAccumulator(7, Overflow.WRAP)));
        assertEquals("accumulatorBits must be in [8, 32], got 33", error(() -> b.withAccumulator(33, Overflow.WRAP)));
        assertEquals("multiplierBits must be in [4, 32], got 3", error(() -> b.withMultiplierBits(3)));
        assertEquals("lanes must be in [1, 256], got 0", error(() -> b.withArray(0, 16)));
        assertEquals("rows must be in [1, 256], got 300", error(() -> b.withArray(16, 300)));
        assertTrue(error(() -> new ProcessorConfig(9, 8, 32, Overflow.WRAP, 32, RequantMode.NATIVE, 16, 16, 4096,
                b.costTable())).startsWith("weightBits"));
        assertTrue(error(() -> new ProcessorConfig(8, 8, 32, Overflow.WRAP, 32, RequantMode.NATIVE, 16, 16, 10,
                b.costTable())).startsWith("bufferBytes"));
    }

    @Test
    void overflowModeParses() {
        assertEquals(Overflow.SATURATE, Overflow.parse("Saturate"));
        assertTrue(error(() -> Overflow.parse("clip")).contains("'clip'"));
    }

    @Test
    void costTableScalesThroughItsAnchors() {
        CostTable t = CostTable.horowitz45nm();
        assertEquals(0.03, t.addEnergyPicojoules(8), 1e-12);
        assertEquals(0.1, t.addEnergyPicojoules(32), 1e-12);
        assertEquals(0.2, t.multEnergyPicojoules(8, 8), 1e-12);
        assertEquals(3.1, t.multEnergyPicojoules(32, 32), 1e-12);
        assertTrue(t.multEnergyPicojoules(16, 12) < t.multEnergyPicojoules(32, 32));
        assertEquals(1.25, t.sramEnergyPicojoulesPerByte(), 1e-12);
    }

    @Test
    void userCostTableErrorsNameTheKey(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("t.properties"), "name=x\nsource=y\nadd.energy.8bit.pj=abc\n");
        String m = error(() -> {
            try {
                CostTable.load(f);
            } catch (java.io.IOException e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(m.contains("add.energy.8bit.pj") && m.contains("abc"), m);
    }
}
