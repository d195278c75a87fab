package dova.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.compress.net.Architecture;
import dova.compress.net.Exporter;
import dova.compress.net.QuantNet;
import dova.compress.net.QuantTarget;
import dova.compress.train.TrainingLoop;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.FixedPoint;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The exported model, run on accelerator-sim, must agree with the training-side integer
 * simulation: identical predictions at A32/M32, and at A16/M12 WRAP (where wrapping the
 * final sum is exact).
 */
class ExportAgreementTest {
    static TrainingLoop loop;
    static LabelledImages test;

    @BeforeAll
    static void train() {
        LabelledImages train = TestData.load(DataSet.MNIST, DataSet.Split.TRAIN, 3200);
        test = TestData.load(DataSet.MNIST, DataSet.Split.TEST, 500);
        QuantNet net = new QuantNet(Architecture.LENET, Architecture.LENET.ops(10, 1), 10, 1, 28, 28);
        loop = TrainingLoop.create(net, 7);
        loop.fit("fp32", train, 1, 32, 2e-3f, 7, System.err, null);
        loop.calibrate(train.head(512), 64);
    }

    @AfterAll
    static void close() {
        loop.model().close();
    }

    private static int[] simulate(IntegerModel m, ProcessorConfig cfg) {
        Executor e = Executor.fast(m, cfg);
        int[] out = new int[test.count()];
        for (int i = 0; i < test.count(); i++) {
            out[i] = e.run(test.pixels(), i * test.pixelsPerImage());
        }
        return out;
    }

    private static int agreement(int acc, int mul, Overflow mode) {
        QuantNet net = loop.net();
        net.quantize(new QuantTarget(acc, mul, mode, true, true, false));
        int[] training = loop.predict(test, 100);
        IntegerModel m = Exporter.export(net, "lenet", acc, mul);
        int[] sim = simulate(m, ProcessorConfig.baseline().withAccumulator(acc, mode).withMultiplierBits(mul));
        int same = 0;
        for (int i = 0; i < sim.length; i++) {
            same += sim[i] == training[i] ? 1 : 0;
        }
        System.err.printf("A%d/M%d %s: %d/%d identical predictions, simulator accuracy %.2f%%%n", acc, mul, mode, same,
                sim.length, 100 * TrainingLoop.accuracy(sim, test));
        return same;
    }

    @Test
    void identicalPredictionsAtA32M32() {
        assertEquals(test.count(), agreement(32, 32, Overflow.WRAP));
    }

    @Test
    void nearlyIdenticalPredictionsAtA16M12WrapEvenWhenNaiveSumsOverflow() {
        // this naive model overflows 16 bits massively; a few accumulators then exceed 2^24, where the
        // float32 training simulation stops being exact, so agreement is required at 98%, not 100%
        assertTrue(agreement(16, 12, Overflow.WRAP) >= 0.98 * test.count());
    }

    /**
     * A bias outside A bits is refused by default (naming layer and channel); with clamping, as
     * quantization-aware training simulates it, the export succeeds and agrees with the
     * training-side simulation at that width.
     */
    @Test
    void biasesOutsideABitsAreRefusedOrClampedAsTrainingSimulatesThem() {
        QuantNet net = loop.net();
        int bits = 12;
        InvalidModelException e = null;
        for (; bits >= 6 && e == null; bits--) { // the widest accumulator that this naive model's biases exceed
            try {
                Exporter.export(net, "lenet", bits, 12);
            } catch (InvalidModelException refused) {
                e = refused;
            }
        }
        bits++;
        assertTrue(e != null, "some width from 12 down to 6 bits is too narrow for a bias");
        assertTrue(e.getMessage().contains("does not fit a " + bits + "-bit accumulator"), e.getMessage());
        java.util.List<String> clamped = new java.util.ArrayList<>();
        final int width = bits;
        IntegerModel m = Exporter.export(net, "lenet", width, 12, true, clamped);
        assertFalse(clamped.isEmpty());
        assertTrue(e.getMessage().startsWith("layer " + clamped.get(0).split("/")[0]), e.getMessage() + " vs " + clamped);
        net.quantize(new QuantTarget(width, 12, Overflow.WRAP, true, true, false));
        int[] training = loop.predict(test, 100);
        int[] sim = simulate(m, ProcessorConfig.baseline().withAccumulator(width, Overflow.WRAP).withMultiplierBits(12));
        System.err.printf("A%d/M12 WRAP, %d biases clamped: %d/%d identical predictions%n", width, clamped.size(),
                java.util.stream.IntStream.range(0, sim.length).filter(i -> sim[i] == training[i]).count(), sim.length);
        int same = 0;
        for (int i = 0; i < sim.length; i++) {
            same += sim[i] == training[i] ? 1 : 0;
        }
        assertTrue(same >= 0.98 * test.count(), same + " of " + test.count() + " identical predictions");
    }

    /**
     * The training side counts an overflow event for every final sum outside A bits. For the first
     * layer, whose input is the exact pixels, the count must equal a brute-force count over the
     * exported integer weights, in every accumulator mode (the modes differ only downstream).
     */
    @Test
    void firstLayerOverflowCountsMatchABruteForceCount() {
        QuantNet net = loop.net();
        LabelledImages few = test.head(40);
        int bits = 16;
        net.quantize(new QuantTarget(bits, 12, Overflow.WRAP, true, true, false));
        IntegerModel m = Exporter.export(net, "lenet", bits, 12);
        dova.sim.model.Conv2d c = (dova.sim.model.Conv2d) m.layers().get(0);
        long expected = 0;
        long expectedRisk = 0; // outputs whose [bias - N, bias + P] leaves A bits: some prefix may overflow
        long[] perChannel = new long[c.outChannels()];
        int h = few.rows();
        int w = few.cols();
        for (int img = 0; img < few.count(); img++) {
            for (int oc = 0; oc < c.outChannels(); oc++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        long acc = c.bias()[oc];
                        long pos = 0;
                        long neg = 0;
                        for (int ky = 0; ky < 3; ky++) {
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y + ky - 1;
                                int ix = x + kx - 1;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    long prod = (long) c.weights()[oc * 9 + ky * 3 + kx]
                                            * (few.pixels()[img * h * w + iy * w + ix] & 0xff);
                                    acc += prod;
                                    pos += Math.max(prod, 0);
                                    neg += Math.max(-prod, 0);
                                }
                            }
                        }
                        expected += acc > FixedPoint.maxSigned(bits) || acc < FixedPoint.minSigned(bits) ? 1 : 0;
                        int risk = c.bias()[oc] + pos > FixedPoint.maxSigned(bits)
                                || c.bias()[oc] - neg < FixedPoint.minSigned(bits) ? 1 : 0;
                        expectedRisk += risk;
                        perChannel[oc] += risk;
                    }
                }
            }
        }
        assertTrue(expected > 0, "this naive model overflows 16 bits in its first layer");
        assertTrue(expectedRisk > expected, "and more outputs have a prefix that may overflow than a final sum that does");
        for (Overflow mode : Overflow.values()) {
            for (boolean aware : new boolean[] {true, false}) {
                net.quantize(new QuantTarget(bits, 12, mode, true, aware, false));
                net.state().resetOverflowCounts();
                net.state().collectChannelOverflow = true;
                loop.predict(few, 20);
                net.state().collectChannelOverflow = false;
                long[] counts = net.state().overflowCounts.get(c.name());
                // overflow-aware training counts, for the layer that reads the image, every output a
                // prefix of whose sum may overflow; evaluation without it counts final sums
                assertEquals(aware ? expectedRisk : expected, counts[0], mode + (aware ? " simulated" : " exact sums"));
                assertEquals((long) few.count() * c.outChannels() * h * w, counts[1]);
                if (aware) {
                    // per-channel narrowing reads the same count channel by channel
                    assertEquals(java.util.Arrays.toString(perChannel),
                            java.util.Arrays.toString(net.state().channelOverflowCounts.get(c.name())), mode + " per channel");
                }
            }
        }
    }

    /**
     * Per-channel weight limits (per-channel narrowing): every exported weight of channel c lies
     * within its limit, the channels left alone keep their 127, and the export still agrees with
     * the training-side simulation prediction for prediction at A32/M32.
     */
    @Test
    void perChannelLimitsAreExportedAsTrainingSimulatesThem() {
        QuantNet net = loop.net();
        String layer = net.state().weightLimits.keySet().iterator().next();
        int oc = (int) net.weight(layer).getArray().getShape().get(0);
        int[] limits = new int[oc];
        for (int c = 0; c < oc; c++) {
            limits[c] = new int[] {127, 31, 7, 3}[c % 4];
        }
        net.state().channelLimits.put(layer, limits);
        try {
            net.quantize(new QuantTarget(32, 32, Overflow.WRAP, true, true, false));
            int[] training = loop.predict(test, 100);
            IntegerModel m = Exporter.export(net, "lenet", 32, 32);
            dova.sim.model.Conv2d conv = (dova.sim.model.Conv2d) m.layers().get(0);
            int per = conv.weights().length / oc;
            for (int c = 0; c < oc; c++) {
                int max = 0;
                for (int i = c * per; i < (c + 1) * per; i++) {
                    max = Math.max(max, Math.abs(conv.weights()[i]));
                }
                assertEquals(limits[c], max, "channel " + c + ": its largest weight sits at its own limit");
            }
            int[] sim = simulate(m, ProcessorConfig.baseline());
            for (int i = 0; i < sim.length; i++) {
                assertEquals(training[i], sim[i], "image " + i);
            }
            System.err.printf("per-channel limits 127/31/7/3: accuracy %.2f%%%n", 100 * TrainingLoop.accuracy(sim, test));
        } finally {
            net.state().channelLimits.clear();
        }
    }

    /**
     * 7-bit weights (--weight-bits 7, ONNX Runtime's reduce_range): every exported weight within
     * +-63, so no vpmaddubsw pair sum of 8-bit inputs can saturate (2 x 255 x 63 = 32,130): the
     * x86-avx2 profile counts no pair saturation and predicts as exact int32 accumulation does.
     */
    @Test
    void sevenBitWeightsNeverSaturateTheAvx2PairStage() {
        QuantNet net = loop.net();
        java.util.Map<String, Integer> saved = new java.util.LinkedHashMap<>(net.state().weightLimits);
        try {
            net.state().weightLimits.replaceAll((k, v) -> 63);
            net.quantize(new QuantTarget(32, 12, Overflow.WRAP, true, true, false));
            IntegerModel m = Exporter.export(net, "lenet-w7", 32, 12);
            for (var l : m.layers()) {
                if (l instanceof dova.sim.model.Conv2d c) {
                    for (byte w : c.weights()) {
                        assertTrue(Math.abs(w) <= 63, c.name() + ": weight " + w);
                    }
                }
            }
            ProcessorConfig exact = dova.sim.DatapathProfile.X86_VNNI.apply(ProcessorConfig.baseline().withMultiplierBits(12));
            ProcessorConfig avx2 = dova.sim.DatapathProfile.X86_AVX2.apply(ProcessorConfig.baseline().withMultiplierBits(12));
            Executor a = Executor.reference(m, exact);
            Executor b = Executor.reference(m, avx2);
            LabelledImages few = test.head(100);
            for (int i = 0; i < few.count(); i++) {
                assertEquals(a.run(few.pixels(), i * 784), b.run(few.pixels(), i * 784), "image " + i);
            }
            assertEquals(0, b.totalOverflowEvents(), "no pair saturates with 7-bit weights");
        } finally {
            net.state().weightLimits.putAll(saved);
        }
    }

    /**
     * Training for the x86-avx2 profile simulates vpmaddubsw's saturating int16 pair sums: on this
     * naive model (8-bit weights at full range, pixels up to 255) the first layer's pairs saturate,
     * and the training-side forward must then predict exactly as the simulator's x86-avx2 profile
     * runs the exported model, with the same number of saturated pairs in every layer.
     */
    @Test
    void theAvx2PairStageIsSimulatedInTrainingAsTheSimulatorRunsIt() {
        QuantNet net = loop.net();
        QuantTarget t = new QuantTarget(32, 12, Overflow.WRAP, true, true, false)
                .forProfile(dova.sim.DatapathProfile.X86_AVX2);
        assertEquals(new dova.sim.PairStage(2, 16, Overflow.SATURATE), t.pairStage());
        net.quantize(t);
        net.state().pairStageEverywhere = true;
        LabelledImages few = test.head(200);
        net.state().resetOverflowCounts();
        int[] training = loop.predict(few, 100);
        java.util.Map<String, long[]> trained = new java.util.LinkedHashMap<>(net.state().pairSaturations);
        IntegerModel m = Exporter.export(net, "lenet", 32, 12);
        Executor e = Executor.fast(m, t.processor());
        int same = 0;
        for (int i = 0; i < few.count(); i++) {
            same += e.run(few.pixels(), i * few.pixelsPerImage()) == training[i] ? 1 : 0;
        }
        long[] events = e.overflowEvents();
        String first = m.layers().get(0).name();
        System.err.printf("x86-avx2: %d/%d identical predictions; pair saturations in training %s, simulator %s%n", same,
                few.count(), trained.entrySet().stream().map(x -> x.getKey() + "=" + x.getValue()[0]).toList(),
                java.util.Arrays.toString(events));
        assertTrue(trained.containsKey(first) && trained.get(first)[0] > 0, "the first layer's pairs saturate: " + trained);
        assertEquals(few.count(), same);
        for (int i = 0; i < m.layers().size(); i++) {
            long[] c = trained.get(m.layers().get(i).name());
            assertEquals(c == null ? 0 : c[0], events[i], "saturated pairs of " + m.layers().get(i).name());
        }
        // by default only the layer that reads the image is simulated
        net.state().pairStageEverywhere = false;
        net.state().resetOverflowCounts();
        loop.predict(few, 100);
        assertEquals(java.util.Set.of(first), net.state().pairSaturations.keySet());
        assertEquals(trained.get(first)[0], net.state().pairSaturations.get(first)[0]);
    }

    /**
     * With the P/N bound counted for every conv (--prefix-bound-everywhere), a deeper layer's count
     * is a superset of its final-sum count, and larger for this naive model at 16 bits (prefixes
     * that leave the range and come back); the first layer's count is the same either way.
     */
    @Test
    void prefixBoundEverywhereCountsMoreThanFinalSumsInDeeperLayers() {
        QuantNet net = loop.net();
        LabelledImages few = test.head(40);
        net.quantize(new QuantTarget(16, 12, Overflow.WRAP, true, true, false));
        long[][] counts = new long[2][];
        for (int k = 0; k < 2; k++) {
            net.state().prefixBoundEverywhere = k == 1;
            net.state().resetOverflowCounts();
            loop.predict(few, 20);
            counts[k] = new long[] {net.state().overflowCounts.get("conv1")[0], net.state().overflowCounts.get("conv2")[0]};
        }
        net.state().prefixBoundEverywhere = false;
        assertEquals(counts[0][0], counts[1][0], "conv1 reads the image: the P/N bound either way");
        assertTrue(counts[1][1] > counts[0][1], "conv2: " + counts[1][1] + " outputs at risk against " + counts[0][1]
                + " final sums outside 16 bits");
    }

    @Test
    void fp32TrainingLearnsSomething() {
        loop.net().setMode(QuantNet.Mode.FP32);
        double acc = TrainingLoop.accuracy(loop.predict(test, 100), test);
        assertTrue(acc > 0.85, "one epoch on 3200 MNIST images should exceed 85%, got " + acc);
    }
}
