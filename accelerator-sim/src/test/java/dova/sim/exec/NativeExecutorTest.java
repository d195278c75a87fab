package dova.sim.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.RandomModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native kernels, generic C and AVX2, must equal the reference bit for bit (every tensor,
 * every per-layer overflow count) on random models the native path runs, at every accumulator
 * width from 8 bits (where nearly every output fails the P/N bound and is replayed) to 32.
 */
class NativeExecutorTest {
    static Stream<Arguments> cases() {
        int[] accBits = {32, 24, 16, 14, 12, 10, 8};
        int[] mulBits = {32, 16, 12, 8, 4};
        int[] lanes = {1, 4, 16, 64};
        return LongStream.range(0, 80).mapToObj(seed -> {
            Random r = new Random(seed * 104729);
            ProcessorConfig cfg = ProcessorConfig.baseline()
                    .withAccumulator(accBits[r.nextInt(accBits.length)], r.nextBoolean() ? Overflow.WRAP : Overflow.SATURATE)
                    .withMultiplierBits(mulBits[r.nextInt(mulBits.length)])
                    .withArray(lanes[r.nextInt(lanes.length)], 16);
            return Arguments.of(seed, cfg, 2 + r.nextInt(7), 2 + r.nextInt(7));
        });
    }

    static List<Integer> isas() {
        List<Integer> isas = new ArrayList<>();
        // every level the loaded library runs on this CPU: generic C, AVX2, AVX-512 VNNI
        for (int isa = NativeKernels.ISA_GENERIC; isa <= NativeKernels.best(); isa++) {
            isas.add(isa);
        }
        return isas;
    }

    @ParameterizedTest(name = "seed {0}: {1}, w{2} a{3}")
    @MethodSource("cases")
    void nativeEqualsReference(long seed, ProcessorConfig cfg, int wb, int ab) {
        assumeTrue(NativeKernels.available(), NativeKernels.status());
        IntegerModel model = RandomModels.model(seed, wb, ab, cfg.accumulatorBits(), 32, true);
        assertNull(NativeSupport.unsupported(Executor.prepare(model, cfg), cfg), "the generator must make native-runnable models");
        for (int isa : isas()) {
            Executor ref = Executor.reference(model, cfg);
            Executor nat = new NativeExecutor(model, cfg, isa);
            assertSameOnImages(model, ref, nat, seed, "isa " + isa);
            assertArrayEquals(ref.overflowEvents(), nat.overflowEvents(), "isa " + isa + ": overflow counts per layer differ");
        }
    }

    /** The calibration probe sees the same accumulators, layer by layer and channel by channel, as from the pure-Java executor. */
    /** A quarter of {@link #cases()}: the probe path is slower. */
    static Stream<Arguments> probeCases() {
        return cases().filter(a -> (long) a.get()[0] % 4 == 0);
    }

    @ParameterizedTest(name = "seed {0}: {1}")
    @MethodSource("probeCases")
    void probeSeesTheJavaExecutorsAccumulators(long seed, ProcessorConfig cfg, int wb, int ab) {
        assumeTrue(NativeKernels.available(), NativeKernels.status());
        IntegerModel model = RandomModels.model(seed, wb, ab, cfg.accumulatorBits(), 32, true);
        List<String> fromJava = new ArrayList<>();
        List<String> fromNative = new ArrayList<>();
        List<String> fromReference = new ArrayList<>();
        Executor pure = Executor.fastJava(model, cfg);
        Executor reference = Executor.reference(model, cfg);
        reference.setProbe((layer, conv, channel, acc, count) -> fromReference.add(layer + "/" + channel + ":"
                + java.util.Arrays.toString(java.util.Arrays.copyOf(acc, count))));
        Executor nat = new NativeExecutor(model, cfg, NativeKernels.isa());
        pure.setProbe((layer, conv, channel, acc, count) -> fromJava.add(layer + "/" + channel + ":"
                + java.util.Arrays.toString(java.util.Arrays.copyOf(acc, count))));
        nat.setProbe((layer, conv, channel, acc, count) -> fromNative.add(layer + "/" + channel + ":"
                + java.util.Arrays.toString(java.util.Arrays.copyOf(acc, count))));
        Random rnd = new Random(seed);
        for (int image = 0; image < 2; image++) {
            byte[] px = RandomModels.image(rnd, model);
            pure.run(px, 0);
            nat.run(px, 0);
            reference.run(px, 0);
            assertArrayEquals(pure.logits(), nat.logits(), "logits with the probe set");
        }
        assertEquals(fromJava, fromNative);
        assertEquals(fromReference, fromJava, "the reference executor's probe sees the same accumulators");
        assertArrayEquals(pure.overflowEvents(), nat.overflowEvents());
    }

    /**
     * u8 mode (vpmaddubsw on uint8 rows) where no weight pair can saturate its int16 sum: 7-bit
     * weights at their extremes (+-63, pair sums up to 2 x 63 x 255 = 32,130 on 255-pixel inputs)
     * are planned in u8 mode and stay exact (the bound's edge: {@link #u8BoundAtItsEdge}).
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void u8ModeOnlyWhereNoPairCanSaturateAndExact(long seed) {
        assumeTrue(NativeKernels.available() && NativeKernels.best() >= NativeKernels.ISA_AVX2, NativeKernels.status());
        ProcessorConfig cfg = ProcessorConfig.baseline();
        IntegerModel model = RandomModels.model(seed, 7, 8, 32, 32, true);
        NativeExecutor nat = new NativeExecutor(model, cfg, NativeKernels.ISA_AVX2);
        assertSameOnImages(model, Executor.reference(model, cfg), nat, seed, "w7");
        int u8 = nat.plan.u8Layers;
        assertEquals(true, u8 > 0, "7-bit weights: the dense layers run in u8 mode");
    }

    static LongStream seeds() {
        return LongStream.range(0, 12);
    }

    /**
     * The u8 bound at its edge: a 1x1 conv over 4 pixel channels whose first pair of weights is
     * (a, b). 255 * (64 + 64) = 32,640 fits int16 (u8 mode, and exact on an all-255 image);
     * 255 * (65 + 64) = 32,895 does not, nor does (127, 127); (-64, -64) fits, (127, 1) fits.
     */
    @org.junit.jupiter.api.Test
    void u8BoundAtItsEdge() {
        assumeTrue(NativeKernels.available() && NativeKernels.best() >= NativeKernels.ISA_AVX2, NativeKernels.status());
        int[][] pairs = {{64, 64}, {65, 64}, {127, 127}, {-64, -64}, {-65, -64}, {127, 1}, {127, 2}};
        int[] expected = {1, 0, 0, 1, 0, 1, 0};
        for (int i = 0; i < pairs.length; i++) {
            dova.sim.model.ModelBuilder b = new dova.sim.model.ModelBuilder("edge", 8, 8, 32, 32);
            int x = b.input("image", 4, 3, 3, 1 / 255.0);
            byte[] w = {(byte) pairs[i][0], (byte) pairs[i][1], 3, -2, 1, 1, 1, 1};
            x = b.conv("conv", x, 2, 1, 1, 0, 1, w, new int[] {5, -7}, new double[] {0.01, 0.01}, 0.3,
                    dova.sim.model.Activation.NONE);
            IntegerModel model = b.build(x);
            ProcessorConfig cfg = ProcessorConfig.baseline();
            NativeExecutor nat = new NativeExecutor(model, cfg, NativeKernels.ISA_AVX2);
            assertEquals(expected[i], nat.plan.u8Layers, "pair " + java.util.Arrays.toString(pairs[i]));
            Executor ref = Executor.reference(model, cfg);
            byte[] px = new byte[4 * 9];
            java.util.Arrays.fill(px, (byte) 255);
            ref.run(px, 0);
            nat.run(px, 0);
            assertArrayEquals(ref.tensorValues(model.output()), nat.tensorValues(model.output()),
                    "pair " + java.util.Arrays.toString(pairs[i]) + " on an all-255 image");
        }
    }

    /**
     * Grouped mode on uint8 rows: at A16 (WRAP and SATURATE, 16 lanes) with 7-bit weights, the
     * layers whose channels are a multiple of 4 run the grouped kernel in u8 mode, and every
     * tensor and per-layer overflow count equals the reference's.
     */
    @org.junit.jupiter.api.Test
    void u8GroupedModeCountsEveryOverflowEvent() {
        assumeTrue(NativeKernels.available() && NativeKernels.best() >= NativeKernels.ISA_AVX2, NativeKernels.status());
        int grouped = 0;
        long events = 0;
        for (long seed = 0; seed < 16; seed++) {
            for (Overflow mode : Overflow.values()) {
                ProcessorConfig cfg = ProcessorConfig.baseline().withAccumulator(16, mode).withArray(16, 16);
                IntegerModel model = RandomModels.model(seed, 7, 8, 16, 32, true);
                NativeExecutor nat = new NativeExecutor(model, cfg, NativeKernels.ISA_AVX2);
                Executor ref = Executor.reference(model, cfg);
                assertSameOnImages(model, ref, nat, seed, "seed " + seed + " " + mode);
                assertArrayEquals(ref.overflowEvents(), nat.overflowEvents(), "seed " + seed + " " + mode);
                grouped += nat.plan.u8GroupedLayers;
                events += nat.plan.u8GroupedLayers > 0 ? nat.totalOverflowEvents() : 0;
            }
        }
        assertEquals(true, grouped > 0, "some layers run the grouped kernel in u8 mode");
        assertEquals(true, events > 0, "and some of those models overflow, so the counts are compared where it matters");
    }

    /**
     * VNNI (vpdpbusd: 4 products exact into int32) runs every layer with uint8 rows, whatever its
     * weights: full-range 8-bit weights, whose pairs would saturate vpmaddubsw, are planned in u8
     * mode there (not on AVX2) and stay exact, in S mode at A32 and in grouped mode at A16 with
     * the per-layer overflow counts of the reference.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void vnniRunsFullRangeWeightsOnUint8RowsExactly(long seed) {
        assumeTrue(NativeKernels.available() && NativeKernels.best() >= NativeKernels.ISA_VNNI, NativeKernels.status());
        IntegerModel wide = RandomModels.model(seed, 8, 8, 32, 32, true);
        ProcessorConfig a32 = ProcessorConfig.baseline();
        NativeExecutor vnni = new NativeExecutor(wide, a32, NativeKernels.ISA_VNNI);
        NativeExecutor avx2 = new NativeExecutor(wide, a32, NativeKernels.ISA_AVX2);
        assertSameOnImages(wide, Executor.reference(wide, a32), vnni, seed, "w8 VNNI");
        assertEquals(true, vnni.plan.u8Layers > avx2.plan.u8Layers,
                "VNNI plans more u8 layers than AVX2 on 8-bit weights: " + vnni.plan.u8Layers + " vs " + avx2.plan.u8Layers);
        for (Overflow mode : Overflow.values()) {
            ProcessorConfig a16 = ProcessorConfig.baseline().withAccumulator(16, mode).withArray(16, 16);
            IntegerModel model = RandomModels.model(seed, 8, 8, 16, 32, true);
            NativeExecutor nat = new NativeExecutor(model, a16, NativeKernels.ISA_VNNI);
            Executor ref = Executor.reference(model, a16);
            assertSameOnImages(model, ref, nat, seed, "w8 A16 " + mode);
            assertArrayEquals(ref.overflowEvents(), nat.overflowEvents(), "w8 A16 " + mode + ": events per layer");
        }
    }

    /** The edge pairs of {@link #u8BoundAtItsEdge} under VNNI: every one runs in u8 mode and equals the reference on all-255 pixels. */
    @org.junit.jupiter.api.Test
    void vnniHasNoPairBound() {
        assumeTrue(NativeKernels.available() && NativeKernels.best() >= NativeKernels.ISA_VNNI, NativeKernels.status());
        int[][] pairs = {{127, 127}, {-127, -127}, {-127, 127}, {65, 64}};
        for (int[] pair : pairs) {
            dova.sim.model.ModelBuilder b = new dova.sim.model.ModelBuilder("edge", 8, 8, 32, 32);
            int x = b.input("image", 4, 3, 3, 1 / 255.0);
            byte[] w = {(byte) pair[0], (byte) pair[1], (byte) pair[0], (byte) pair[1], 1, 1, 1, 1};
            x = b.conv("conv", x, 2, 1, 1, 0, 1, w, new int[] {5, -7}, new double[] {0.01, 0.01}, 0.3,
                    dova.sim.model.Activation.NONE);
            IntegerModel model = b.build(x);
            ProcessorConfig cfg = ProcessorConfig.baseline();
            NativeExecutor nat = new NativeExecutor(model, cfg, NativeKernels.ISA_VNNI);
            assertEquals(1, nat.plan.u8Layers, "pair " + java.util.Arrays.toString(pair));
            Executor ref = Executor.reference(model, cfg);
            byte[] px = new byte[4 * 9];
            java.util.Arrays.fill(px, (byte) 255);
            ref.run(px, 0);
            nat.run(px, 0);
            assertArrayEquals(ref.tensorValues(model.output()), nat.tensorValues(model.output()),
                    "pair " + java.util.Arrays.toString(pair) + " on an all-255 image");
        }
    }

    /** A level above the loaded library's is refused, not run with kernels it lacks. */
    @org.junit.jupiter.api.Test
    void aLevelAboveTheLibrarysIsRefused() {
        assumeTrue(NativeKernels.available(), NativeKernels.status());
        IntegerModel model = RandomModels.model(1, 7, 8, 32, 32, true);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new NativeExecutor(model, ProcessorConfig.baseline(), NativeKernels.best() + 1));
        assertEquals(true, e.getMessage().contains("run up to"), e.getMessage());
    }

    /** Runs 4 random images (seeded by {@code seed}) on both executors; every tensor and the prediction must agree. */
    static void assertSameOnImages(IntegerModel model, Executor ref, Executor nat, long seed, String what) {
        Random rnd = new Random(seed);
        for (int image = 0; image < 4; image++) {
            byte[] px = RandomModels.image(rnd, model);
            int a = ref.run(px, 0);
            int b = nat.run(px, 0);
            for (int t = 0; t < ref.model().tensors().size(); t++) {
                assertArrayEquals(ref.tensorValues(t), nat.tensorValues(t), what + ": tensor " + ref.model().tensor(t).name()
                        + " differs on image " + image);
            }
            assertEquals(a, b, what + ": prediction on image " + image);
        }
    }
}
