package dova.serve.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.ingest.replay.Drift;
import dova.serve.recal.Recalibrator;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The demo's last word on an unlabelled drifted stream: the swapped-in model, recalibration alone
 * and the FP32 teacher, each measured on the very frames the new version answered.
 */
class SwapComparisonTest {
    @Test
    void theThreeAreMeasuredOnTheFramesTheNewVersionAnswered() throws Exception {
        LabelledImages test = DataSet.MNIST.load(Path.of("..", "data"), DataSet.Split.TEST).head(300);
        IntegerModel shipped = ModelIo.read(Path.of("../models/lenet-mnist-a16m12-wrap.dova"));
        IntegerModel coarse = dimmed(shipped); // another model: its first layer's outputs at a quarter
        ProcessorConfig processor = ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP).withMultiplierBits(12);
        Path teacher = Path.of("../models/lenet-mnist-a16m12-wrap-qat.ckpt");
        SwapComparison swaps = new SwapComparison();
        Random rnd = new Random(1);
        byte[] drifted = new byte[test.count() * 784];
        for (int i = 0; i < test.count(); i++) {
            byte[] px = Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
            Drift.CONTRAST.apply(px, 28, 28, 0.95, rnd);
            System.arraycopy(px, 0, drifted, i * 784, 784);
            // frames 0-199 were answered by v2, the rest by v3
            swaps.add(i < 200 ? 2 : 3, px, test.label(i));
        }
        Recalibrator.Outcome v2 = new Recalibrator.Outcome(Instant.now(), Recalibrator.Result.ACCEPTED,
                Recalibrator.Method.RETRAINED, 1, 2, 0.9, 0.95, 100, "", "teacher agreement", coarse);
        SwapComparison.Figures f = swaps.measure(v2, coarse, shipped, processor, teacher, test);
        assertEquals(200, f.frames(), "v2's frames only");
        assertEquals(200, swaps.frames(2));
        assertEquals(100, swaps.frames(3));
        assertEquals(0, swaps.frames(4));
        assertEquals(accuracy(shipped, processor, drifted, test, 200), f.swappedIn(), 1e-12);
        assertEquals(accuracy(coarse, processor, drifted, test, 200), f.original(), 1e-12, "the model it replaced");
        assertEquals(accuracy(coarse, processor, drifted, test, 200), f.recalibrationAlone(), 1e-12,
                "recalibration alone is the attempt's planner model, on the same processor");
        assertTrue(f.teacher() > 0.8 && f.teacher() <= 1.0, "the FP32 teacher on the drifted frames: " + f.teacher());
        assertTrue(f.swappedIn() != f.recalibrationAlone(), "two different models measured: " + f);

        assertNull(swaps.measure(new Recalibrator.Outcome(Instant.now(), Recalibrator.Result.ACCEPTED,
                Recalibrator.Method.RECALIBRATED, 3, 4, 0, 0, 0, "", "", null), shipped, shipped, processor, teacher, test),
                "a version that answered no frame");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SwapComparison.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), v2, f, processor, teacher);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("on the 200 drifted frames v2 answered"), printed);
        assertTrue(printed.contains(String.format(java.util.Locale.ROOT, "%.2f%%", 100 * f.teacher())), printed);
        assertTrue(printed.contains("at least the teacher minus 1 point"), printed);
    }

    @Test
    void theTargetsAreThoseOfTheIssue() {
        assertTrue(new SwapComparison.Figures(10, 0.9, 0.943, 0.90, 0.953).withinTeacher(), "exactly 1 point under");
        assertFalse(new SwapComparison.Figures(10, 0.9, 0.9429, 0.90, 0.953).withinTeacher());
        assertFalse(new SwapComparison.Figures(10, 0.9, 0.95, 0.95, 0.953).aboveRecalibration(), "a tie is not above");
        assertTrue(new SwapComparison.Figures(10, 0.9, 0.9501, 0.95, 0.953).aboveRecalibration());
    }

    /** {@code m} with its first convolution's requantization shifted two bits further (outputs a quarter as large). */
    private static IntegerModel dimmed(IntegerModel m) {
        java.util.List<dova.sim.model.Layer> layers = new java.util.ArrayList<>(m.layers());
        dova.sim.model.Conv2d c = (dova.sim.model.Conv2d) layers.get(0);
        int[] shifts = c.shifts().clone();
        for (int i = 0; i < shifts.length; i++) {
            shifts[i] += 2;
        }
        layers.set(0, c.withRequant(c.multipliers(), shifts));
        return new IntegerModel(m.name(), m.weightBits(), m.activationBits(), m.accumulatorBits(), m.multiplierBits(),
                m.tensors(), m.input(), m.output(), layers);
    }

    private static double accuracy(IntegerModel m, ProcessorConfig p, byte[] px, LabelledImages test, int n) {
        Executor e = Executor.fast(m, p);
        int right = 0;
        for (int i = 0; i < n; i++) {
            right += e.run(px, i * 784) == test.label(i) ? 1 : 0;
        }
        return right / (double) n;
    }
}
