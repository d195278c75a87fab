package dova.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import dova.calibrate.drift.DriftDetector;
import dova.calibrate.drift.DriftEvent;
import dova.calibrate.observe.RangeProfile;
import dova.calibrate.plan.LayerHeadroom;
import dova.calibrate.plan.RescalingPlan;
import dova.calibrate.plan.RescalingPlanner;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.RandomModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PlannerAndDriftTest {
    private static byte[] images(IntegerModel m, int n, long seed) {
        Random r = new Random(seed);
        int size = m.inputSpec().size();
        byte[] px = new byte[n * size];
        for (int i = 0; i < n; i++) {
            System.arraycopy(RandomModels.image(r, m), 0, px, i * size, size);
        }
        return px;
    }

    private static long overflowEvents(IntegerModel m, ProcessorConfig cfg, byte[] px, int n) {
        Executor e = Executor.fast(m, cfg);
        for (int i = 0; i < n; i++) {
            e.run(px, i * m.inputSpec().size());
        }
        return e.totalOverflowEvents();
    }

    @Test
    void aPlannedModelHasNoOverflowOnItsOwnCalibrationData() {
        int checked = 0;
        for (long seed = 0; seed < 6; seed++) {
            IntegerModel model = RandomModels.model(seed, 8, 8, 16, 32);
            ProcessorConfig target = ProcessorConfig.baseline().withAccumulator(16, seed % 2 == 0 ? Overflow.WRAP
                    : Overflow.SATURATE).withMultiplierBits(12);
            int n = 32;
            byte[] px = images(model, n, seed);
            long before = overflowEvents(model, target, px, n);
            RangeProfile.Collector c = new RangeProfile.Collector(model);
            for (int i = 0; i < n; i++) {
                c.add(px, i * model.inputSpec().size());
            }
            RescalingPlan plan = RescalingPlanner.plan(model, c.profile(), target, 0.9999, px, n, 30);
            assertEquals(0, plan.overflowEvents(), "seed " + seed + ":\n" + plan.table());
            assertEquals(0, overflowEvents(plan.model(), target, px, n), "re-run on the simulator");
            for (LayerHeadroom h : plan.layers()) {
                assertTrue(h.headroomBits() >= 0, h.toString());
            }
            if (before > 0) {
                checked++;
            }
        }
        assertTrue(checked >= 3, "the random models must overflow before planning for the test to mean anything");
    }

    @Test
    void driftDetectorFiresOnBrightnessShiftOnly() {
        long[] ref = new long[256];
        long[] same = new long[256];
        long[] bright = new long[256];
        Random r = new Random(5);
        for (int i = 0; i < 100_000; i++) {
            int v = Math.min(255, Math.max(0, (int) (100 + 30 * r.nextGaussian())));
            ref[v]++;
            same[Math.min(255, Math.max(0, (int) (100 + 30 * r.nextGaussian())))]++;
            bright[Math.min(255, v + 60)]++;
        }
        DriftDetector d = new DriftDetector(ref, 0.2);
        assertFalse(d.check(same, 1000).isPresent(), "PSI of the same distribution: " + d.psi(same));
        DriftEvent e = d.check(bright, 1000).orElseThrow();
        assertTrue(e.psi() > 0.2 && e.meanShift() > 50, e.describe());
    }

    @Test
    void windowsAndDriftRunAsStreamStages() throws Exception {
        IntegerModel model = RandomModels.model(9, 8, 8, 32, 32);
        int size = model.inputSpec().size();
        List<byte[]> frames = new ArrayList<>();
        Random r = new Random(9);
        for (int i = 0; i < 200; i++) {
            byte[] px = RandomModels.image(r, model);
            if (i >= 100) {
                for (int k = 0; k < size; k++) {
                    px[k] = (byte) Math.min(255, (px[k] & 0xff) / 4 + 180); // brighter, lower contrast
                }
            }
            frames.add(px);
        }
        ActorSystem system = ActorSystem.create("calibrate-test");
        try {
            RangeProfile reference = Source.from(frames.subList(0, 50)).runWith(CalibrationStages.profile(model), system)
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(50, reference.images());
            List<DriftEvent> events = Source.from(frames).via(CalibrationStages.windows(model, 50))
                    .via(CalibrationStages.drift(new DriftDetector(reference.pixelHistogram(), 0.2)))
                    .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(2, events.size(), "the two drifted windows, and only them");
        } finally {
            system.terminate();
        }
    }

    /**
     * The service's calibration branch: windows through whichever model serves, a window never
     * mixing two models, wrong-sized images skipped, and each model's first window its drift
     * reference.
     */
    @Test
    void windowsFollowTheServingModelAndEachModelHasItsOwnReference() throws Exception {
        IntegerModel a = RandomModels.model(21, 8, 8, 16, 32);
        IntegerModel b = RandomModels.model(22, 8, 8, 16, 32);
        int size = a.inputSpec().size();
        org.junit.jupiter.api.Assumptions.assumeTrue(size == b.inputSpec().size(), "same input size for the swap");
        Random r = new Random(5);
        List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < 260; i++) {
            byte[] px = RandomModels.image(r, a);
            if (i >= 200) {
                for (int k = 0; k < size; k++) {
                    px[k] = (byte) Math.min(255, (px[k] & 0xff) / 4 + 180); // drift on model b
                }
            }
            frames.add(i == 10 ? new byte[size + 1] : px); // one frame of the wrong size
        }
        java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<IntegerModel> serving = new java.util.concurrent.atomic.AtomicReference<>(a);
        ActorSystem system = ActorSystem.create("calibrate-stages-test");
        try {
            List<CalibrationStages.DriftCheck> checks = Source.from(frames)
                    .map(px -> {
                        if (seen.incrementAndGet() == 121) {
                            serving.set(b); // the swap: frames from 120 on are observed through b
                        }
                        return px;
                    })
                    .via(CalibrationStages.windowsOf(serving::get, 50))
                    .via(CalibrationStages.driftChecks(0.2))
                    .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
            // a: frames 0..119 without the wrong-sized one = 119 -> 2 windows (19 dropped at the swap);
            // b: frames 120..259 = 140 -> 2 windows (40 left open)
            assertEquals(4, checks.size());
            assertEquals(List.of(a, a, b, b), checks.stream().map(c -> c.window().model()).toList());
            assertEquals(List.of(true, false, true, false), checks.stream().map(CalibrationStages.DriftCheck::reference).toList());
            for (CalibrationStages.DriftCheck c : checks) {
                assertEquals(50, c.window().profile().images());
            }
            assertFalse(checks.get(1).event().isPresent(), "a's second window looks like its first");
            assertTrue(checks.get(3).event().isPresent(), "b's second window (frames 170..219, the last 20 drifted) drifted");
        } finally {
            system.terminate();
        }
    }

    /**
     * A stage started after the traffic drifted (a replica joining the fleet late): with the
     * fleet's reference its first window is checked and drifts; on its own that drifted window
     * would become the reference and nothing would ever drift.
     */
    @Test
    void aSharedReferenceLetsALateStageSeeTheDrift() throws Exception {
        IntegerModel m = RandomModels.model(23, 8, 8, 16, 32);
        int size = m.inputSpec().size();
        Random r = new Random(6);
        List<byte[]> before = new ArrayList<>();
        List<byte[]> drifted = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            byte[] px = RandomModels.image(r, m);
            before.add(px.clone());
            for (int k = 0; k < size; k++) {
                px[k] = (byte) Math.min(255, (px[k] & 0xff) / 4 + 180);
            }
            drifted.add(px);
        }
        ActorSystem system = ActorSystem.create("calibrate-shared-reference-test");
        try {
            long[] fleet = Source.from(before).via(CalibrationStages.windowsOf(() -> m, 50)).take(1)
                    .runWith(Sink.head(), system).toCompletableFuture().get(30, TimeUnit.SECONDS).profile().pixelHistogram();
            List<IntegerModel> asked = new ArrayList<>();
            List<CalibrationStages.DriftCheck> shared = Source.from(drifted).via(CalibrationStages.windowsOf(() -> m, 50))
                    .via(CalibrationStages.driftChecks(0.2, model -> {
                        asked.add(model);
                        return fleet;
                    }))
                    .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(List.of(m), asked, "asked once, at the model's first window");
            assertEquals(List.of(false, false), shared.stream().map(CalibrationStages.DriftCheck::reference).toList());
            assertTrue(shared.get(0).event().isPresent(), "the first window drifted from the fleet's reference");
            assertTrue(shared.get(0).psi() > 0.2, "psi " + shared.get(0).psi());
            List<CalibrationStages.DriftCheck> alone = Source.from(drifted).via(CalibrationStages.windowsOf(() -> m, 50))
                    .via(CalibrationStages.driftChecks(0.2, model -> null))
                    .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(List.of(true, false), alone.stream().map(CalibrationStages.DriftCheck::reference).toList());
            assertFalse(alone.get(1).event().isPresent(), "alone, the drifted first window is the reference");
        } finally {
            system.terminate();
        }
    }
}
