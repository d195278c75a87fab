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
        isas.add(NativeKernels.ISA_GENERIC);
        if (NativeKernels.isa() != NativeKernels.ISA_GENERIC) {
            isas.add(NativeKernels.isa());
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
            Random rnd = new Random(seed);
            for (int image = 0; image < 4; image++) {
                byte[] px = RandomModels.image(rnd, model);
                int a = ref.run(px, 0);
                int b = nat.run(px, 0);
                for (int t = 0; t < ref.model().tensors().size(); t++) {
                    assertArrayEquals(ref.tensorValues(t), nat.tensorValues(t),
                            "isa " + isa + ": tensor " + ref.model().tensor(t).name() + " differs on image " + image);
                }
                assertEquals(a, b);
            }
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
}
