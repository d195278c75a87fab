package dova.sim.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.RequantMode;
import dova.sim.model.IntegerModel;
import dova.sim.model.RandomModels;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast executors, the pure-Java one and whichever {@link Executor#fast} picks (native where
 * loaded and the model suits it), must equal the reference bit for bit, overflow counts included,
 * on random models and configurations.
 */
class ExecutorEquivalenceTest {
    static Stream<Arguments> cases() {
        int[] accBits = {32, 24, 16, 14, 12, 10, 8};
        int[] mulBits = {32, 16, 12, 8, 4};
        int[] lanes = {1, 4, 16, 64};
        return LongStream.range(0, 60).mapToObj(seed -> {
            Random r = new Random(seed * 7919);
            ProcessorConfig cfg = ProcessorConfig.baseline()
                    .withAccumulator(accBits[r.nextInt(accBits.length)], r.nextBoolean() ? Overflow.WRAP : Overflow.SATURATE)
                    .withMultiplierBits(mulBits[r.nextInt(mulBits.length)])
                    .withArray(lanes[r.nextInt(lanes.length)], 16)
                    .withRequantMode(r.nextInt(5) == 0 ? RequantMode.GEMMLOWP : RequantMode.NATIVE);
            int wb = 2 + r.nextInt(7);
            int ab = 2 + r.nextInt(7);
            return Arguments.of(seed, cfg, wb, ab);
        });
    }

    @ParameterizedTest(name = "seed {0}: {1}, w{2} a{3}")
    @MethodSource("cases")
    void fastEqualsReference(long seed, ProcessorConfig cfg, int wb, int ab) {
        cfg = new ProcessorConfig(8, 8, cfg.accumulatorBits(), cfg.overflow(), cfg.multiplierBits(), cfg.requantMode(),
                cfg.lanes(), cfg.rows(), cfg.bufferBytes(), cfg.costTable());
        IntegerModel model = RandomModels.model(seed, wb, ab, cfg.accumulatorBits(), 32);
        Executor ref = Executor.reference(model, cfg);
        for (Executor fast : new Executor[] {Executor.fastJava(model, cfg), Executor.fast(model, cfg)}) {
            Random rnd = new Random(seed);
            ref.resetCounters();
            for (int image = 0; image < 4; image++) {
                byte[] px = RandomModels.image(rnd, model);
                int a = ref.run(px, 0);
                int b = fast.run(px, 0);
                for (int t = 0; t < ref.model().tensors().size(); t++) {
                    assertArrayEquals(ref.tensorValues(t), fast.tensorValues(t),
                            fast.getClass().getSimpleName() + ": tensor " + ref.model().tensor(t).name() + " differs on image "
                                    + image);
                }
                assertTrue(a == b);
            }
            assertArrayEquals(ref.overflowEvents(), fast.overflowEvents(),
                    fast.getClass().getSimpleName() + ": overflow counts per layer differ");
        }
    }
}
