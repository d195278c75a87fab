package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.serve.recal.Gate;
import dova.serve.recal.RecentFrames;
import dova.sim.data.LabelledImages;
import dova.sim.model.TensorSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The recalibrator's parts: the bounded recent frames, non-square images, and the gate's typed verdicts. */
class RecalibrationPartsTest {
    @Test
    void recentFramesKeepTheNewestAndTrainingImagesTakeTheModelsShape() {
        RecentFrames r = new RecentFrames(3);
        for (int i = 0; i < 5; i++) {
            r.add(new RecentFrames.Sample(new byte[] {(byte) i, 0, 0, 0, 0, 0}, i % 2));
        }
        List<RecentFrames.Sample> s = r.snapshot();
        assertEquals(3, s.size());
        assertEquals(List.of(2, 3, 4), s.stream().map(x -> (int) x.pixels()[0]).toList(), "oldest first, newest kept");
        // a 2x3 model input: rows 2, columns 3 (the old code assumed sqrt(pixels) and made 2x3 into 2x3 only by luck)
        TensorSpec in = new TensorSpec("x", 1, 2, 3, 1.0, false, 8);
        LabelledImages img = RecentFrames.images(s, in);
        assertEquals(2, img.rows());
        assertEquals(3, img.cols());
        assertEquals(4, img.pixels()[2 * 6]);
        TensorSpec wide = new TensorSpec("x", 1, 1, 6, 1.0, false, 8);
        assertEquals(6, RecentFrames.images(s, wide).cols(), "a 1x6 input stays 1x6 (sqrt would make it 2x3)");
        assertThrows(IllegalArgumentException.class, () -> RecentFrames.images(
                List.of(new RecentFrames.Sample(new byte[6], -1)), in), "training needs labels");
        assertThrows(IllegalArgumentException.class, () -> new RecentFrames(0));
    }

    @Test
    void theGateAcceptsWithinTheRegressionAndWithoutLabelsComparesOverflow() {
        Gate g = new Gate(0.01);
        assertTrue(g.judge(new Gate.Score(0.90, 5, 100, Double.NaN), new Gate.Score(0.895, 50, 100, Double.NaN)).accepted());
        Gate.Verdict worse = g.judge(new Gate.Score(0.90, 5, 100, Double.NaN), new Gate.Score(0.85, 0, 100, Double.NaN));
        assertFalse(worse.accepted());
        assertTrue(worse.reason().contains("regressed beyond 0.01"), worse.reason());
        assertTrue(g.judge(new Gate.Score(Double.NaN, 10, 0, Double.NaN), new Gate.Score(Double.NaN, 10, 0, Double.NaN)).accepted());
        Gate.Verdict more = g.judge(new Gate.Score(Double.NaN, 10, 0, Double.NaN), new Gate.Score(Double.NaN, 11, 0, Double.NaN));
        assertFalse(more.accepted());
        assertTrue(more.reason().contains("overflows more"), more.reason());
        assertThrows(IllegalArgumentException.class, () -> new Gate(-1));
    }

    @Test
    void withoutLabelsTheGateComparesAgreementWithTheTeacherAndOverflow() {
        Gate g = new Gate(0.01);
        Gate.Score serving = new Gate.Score(Double.NaN, 10, 0, 0.80);
        assertTrue(g.judge(serving, new Gate.Score(Double.NaN, 3, 0, 0.95)).accepted());
        assertTrue(g.judge(serving, new Gate.Score(Double.NaN, 10, 0, 0.795)).accepted(), "within the regression");
        Gate.Verdict less = g.judge(serving, new Gate.Score(Double.NaN, 0, 0, 0.70));
        assertFalse(less.accepted());
        assertTrue(less.reason().contains("agrees with the FP32 teacher less"), less.reason());
        Gate.Verdict overflows = g.judge(serving, new Gate.Score(Double.NaN, 11, 0, 0.99));
        assertFalse(overflows.accepted(), "better agreement does not excuse more overflow");
        assertTrue(overflows.reason().contains("overflows more"), overflows.reason());
        assertEquals(0.95, new Gate.Score(Double.NaN, 0, 0, 0.95).measure());
        assertEquals(0.9, new Gate.Score(0.9, 0, 5, 0.95).measure(), "labels win over agreement");
    }
}
