package dova.sim.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.RequantMode;
import dova.sim.model.Activation;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.ModelBuilder;
import dova.sim.model.RandomModels;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Values worked out by hand from docs/datapath.md, run on both executors. */
class HandWorkedTest {
    static Stream<BiFunction<IntegerModel, ProcessorConfig, Executor>> executors() {
        return Stream.of(Executor::reference, Executor::fast);
    }

    /**
     * Three input channels, all pixels 255, weights {127, 127, -127}, bias 0: every product is
     * +-32385, the exact sum 32385. The real multiplier is 1/256 (m = 2048, s = 19 at M = 12).
     */
    private static IntegerModel threeProducts() {
        ModelBuilder b = new ModelBuilder("hand", 8, 8, 16, 12);
        double sx = 1 / 255.0;
        double sw = 1 / 127.0;
        int x = b.input("image", 3, 1, 1, sx);
        int y = b.conv("fc", x, 1, 1, 1, 0, 1, new byte[] {127, 127, -127}, new int[] {0}, new double[] {sw},
                sx * sw * 256, Activation.NONE);
        return b.build(y);
    }

    private static final byte[] WHITE = {(byte) 255, (byte) 255, (byte) 255};

    @ParameterizedTest
    @MethodSource("executors")
    void oneLaneWrapCountsTwoEventsAndRecoversTheExactSum(BiFunction<IntegerModel, ProcessorConfig, Executor> make) {
        // 0 + 32385 = 32385; + 32385 = 64770 > 32767: event, wraps to -766; - 32385 = -33151 < -32768:
        // event, wraps to 32385 = the exact sum. 32385 / 256 = 126.5 -> roundShift gives 127.
        Executor e = make.apply(threeProducts(), ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP)
                .withMultiplierBits(12).withArray(1, 16));
        e.run(WHITE, 0);
        assertArrayEquals(new int[] {127}, e.logits());
        assertArrayEquals(new long[] {2}, e.overflowEvents());
    }

    @ParameterizedTest
    @MethodSource("executors")
    void oneLaneSaturateClampsOnceAndLosesTheSum(BiFunction<IntegerModel, ProcessorConfig, Executor> make) {
        // 32385; 64770 -> event, clamps to 32767; 32767 - 32385 = 382; 382 / 256 = 1.49 -> 1
        Executor e = make.apply(threeProducts(), ProcessorConfig.baseline().withAccumulator(16, Overflow.SATURATE)
                .withMultiplierBits(12).withArray(1, 16));
        e.run(WHITE, 0);
        assertArrayEquals(new int[] {1}, e.logits());
        assertArrayEquals(new long[] {1}, e.overflowEvents());
    }

    @ParameterizedTest
    @MethodSource("executors")
    void sixteenLanesFormOneExactGroup(BiFunction<IntegerModel, ProcessorConfig, Executor> make) {
        // one group: p = 32385 fits 16 bits, no event
        Executor e = make.apply(threeProducts(), ProcessorConfig.baseline().withAccumulator(16, Overflow.SATURATE)
                .withMultiplierBits(12));
        e.run(WHITE, 0);
        assertArrayEquals(new int[] {127}, e.logits());
        assertEquals(0, e.totalOverflowEvents());
    }

    @ParameterizedTest
    @MethodSource("executors")
    void narrowAccumulatorsReallyOverflowOnRandomModels(BiFunction<IntegerModel, ProcessorConfig, Executor> make) {
        long events = 0;
        int differ = 0;
        for (long seed = 0; seed < 10; seed++) {
            IntegerModel m = RandomModels.model(seed, 8, 8, 12, 32);
            Executor wrap = make.apply(m, ProcessorConfig.baseline().withAccumulator(12, Overflow.WRAP));
            Executor sat = make.apply(m, ProcessorConfig.baseline().withAccumulator(12, Overflow.SATURATE));
            byte[] px = RandomModels.image(new Random(seed), m);
            wrap.run(px, 0);
            sat.run(px, 0);
            events += wrap.totalOverflowEvents();
            differ += java.util.Arrays.equals(wrap.logits(), sat.logits()) ? 0 : 1;
        }
        assertTrue(events > 0, "A12 must overflow on random 8-bit models");
        assertTrue(differ > 0, "WRAP and SATURATE must disagree somewhere");
    }

    @ParameterizedTest
    @MethodSource("executors")
    void gemmlowpModeUsesQ31Requantization(BiFunction<IntegerModel, ProcessorConfig, Executor> make) {
        // A32: exact sum 32385; Q31 of 1/256 is 2^30 with shift -7: SRDHM gives 16193 (16192.5 truncated
        // after the nudge: (32385*2^30 + 2^30)/2^31 = 16193), then 16193 / 2^7 = 126.5 -> 127 (away from zero)
        Executor e = make.apply(threeProducts(), ProcessorConfig.baseline().withRequantMode(RequantMode.GEMMLOWP));
        e.run(WHITE, 0);
        assertArrayEquals(new int[] {127}, e.logits());
    }

    @ParameterizedTest
    @MethodSource("executors")
    void biasThatDoesNotFitTheAccumulatorIsRejected(BiFunction<IntegerModel, ProcessorConfig, Executor> make) {
        ModelBuilder b = new ModelBuilder("bias", 8, 8, 32, 12);
        int x = b.input("image", 1, 1, 1, 1 / 255.0);
        int y = b.conv("fc1", x, 2, 1, 1, 0, 1, new byte[] {1, 1}, new int[] {5, 40000}, new double[] {0.01, 0.01}, 0.1,
                Activation.NONE);
        IntegerModel m = b.build(y);
        String msg = assertThrows(InvalidModelException.class,
                () -> make.apply(m, ProcessorConfig.baseline().withAccumulator(16, Overflow.WRAP))).getMessage();
        assertTrue(msg.contains("fc1") && msg.contains("channel 1") && msg.contains("16-bit accumulator"), msg);
    }
}
