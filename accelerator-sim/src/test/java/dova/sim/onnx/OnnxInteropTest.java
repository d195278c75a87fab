package dova.sim.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import dova.sim.model.RandomModels;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ONNX Runtime runs dova's exported INT8 models and gives the simulator's A32/M32 logits, or
 * differs by 1 LSB where its float requantization rounds differently (counted and bounded).
 */
class OnnxInteropTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    /** ORT's int8 logits for {@code n} images, one batch. */
    static int[][] ort(byte[] onnx, IntegerModel m, byte[] px, int n) throws OrtException {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession s = ENV.createSession(onnx, o);
                 OnnxTensor t = OnnxTensor.createTensor(ENV, ByteBuffer.wrap(px, 0, n * m.inputSpec().size()),
                         new long[] {n, m.inputSpec().channels(), m.inputSpec().height(), m.inputSpec().width()},
                         OnnxJavaType.UINT8);
                 OrtSession.Result r = s.run(Map.of(OnnxExporter.INPUT, t))) {
                byte[][] out = (byte[][]) r.get(0).getValue();
                int[][] v = new int[n][];
                for (int i = 0; i < n; i++) {
                    v[i] = new int[out[i].length];
                    for (int j = 0; j < out[i].length; j++) {
                        v[i][j] = m.outputSpec().signed() ? out[i][j] : out[i][j] & 0xff;
                    }
                }
                return v;
            }
        }
    }

    /** Counts of logits equal, 1 LSB apart and further apart, between ORT and the simulator at A32/M32. */
    static int[] compare(IntegerModel m, byte[] px, int n) throws OrtException {
        return compare(m, px, n, ort(OnnxExporter.export(m, OnnxExporter.Flavour.INT8), m, px, n));
    }

    /** As {@link #compare(IntegerModel, byte[], int)}, against logits ORT already gave. */
    static int[] compare(IntegerModel m, byte[] px, int n, int[][] ort) {
        Executor e = Executor.fast(m, ProcessorConfig.baseline());
        int[] counts = new int[3];
        for (int i = 0; i < n; i++) {
            e.run(px, i * m.inputSpec().size());
            int[] sim = e.logits();
            assertEquals(sim.length, ort[i].length, "logit count");
            for (int j = 0; j < sim.length; j++) {
                int d = Math.abs(sim[j] - ort[i][j]);
                counts[Math.min(d, 2)]++;
            }
        }
        return counts;
    }

    @ParameterizedTest(name = "random model {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomModelsAgreeWithin1Lsb(long seed) throws Exception {
        IntegerModel m = RandomModels.model(seed, 7, 8, 32, 32, true);
        Random rnd = new Random(seed);
        int n = 16;
        byte[] px = new byte[n * m.inputSpec().size()];
        for (int i = 0; i < n; i++) {
            System.arraycopy(RandomModels.image(rnd, m), 0, px, i * m.inputSpec().size(), m.inputSpec().size());
        }
        // ORT's own int8 kernels are not deterministic on some CPUs for some shapes (seen on an
        // AVX-512 VNNI + AMX Xeon: garbage in the output channels past the first 16 of a
        // 28-channel first conv, different from run to run, sometimes within 1 LSB of the
        // simulator's and sometimes far from it): then ORT is not an oracle for this model, and
        // that is checked before comparing, whatever the comparison would say. The simulator's
        // exactness is NativeExecutorTest's and ExecutorEquivalenceTest's.
        byte[] onnx = OnnxExporter.export(m, OnnxExporter.Flavour.INT8);
        int[][] first = ort(onnx, m, px, n);
        boolean stable = true;
        for (int run = 0; run < 4 && stable; run++) {
            stable = java.util.Arrays.deepEquals(first, ort(onnx, m, px, n));
        }
        if (!stable) {
            System.out.println(OnnxDivergence.report(m, java.util.Arrays.copyOf(px, m.inputSpec().size())));
        }
        assumeTrue(stable, "ONNX Runtime gives different logits from run to run on this CPU for random model " + seed
                + " (an ORT kernel defect): not compared");
        int[] c = compare(m, px, n, first);
        System.out.printf("random model %d: %d equal, %d 1 LSB apart, %d further%n", seed, c[0], c[1], c[2]);
        assertEquals(0, c[2], "logits more than 1 LSB apart");
        assertTrue(c[0] >= 9 * (c[0] + c[1]) / 10, "more than 10% of logits 1 LSB apart: " + c[1]);
    }

    @Test
    void shippedLeNetAgreesOnRandomDigits() throws Exception {
        Path file = Path.of("../models/lenet-mnist-a16m12-wrap.dova");
        IntegerModel m = ModelIo.read(file);
        int n = 64;
        byte[] px = new byte[n * m.inputSpec().size()];
        new Random(7).nextBytes(px);
        int[] c = compare(m, px, n);
        System.out.printf("shipped LeNet: %d equal, %d 1 LSB apart, %d further%n", c[0], c[1], c[2]);
        assertEquals(0, c[2], "logits more than 1 LSB apart");
    }

    @Test
    void floatFlavourRunsAndKeepsTheShapes() throws Exception {
        IntegerModel m = ModelIo.read(Path.of("../models/lenet-mnist-a16m12-wrap.dova"));
        byte[] onnx = OnnxExporter.export(m, OnnxExporter.Flavour.FLOAT);
        Path tmp = Files.createTempFile("lenet", ".onnx");
        Files.write(tmp, onnx);
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
             OrtSession s = ENV.createSession(tmp.toString(), o);
             OnnxTensor t = OnnxTensor.createTensor(ENV, ByteBuffer.wrap(new byte[2 * m.inputSpec().size()]),
                     new long[] {2, 1, m.inputSpec().height(), m.inputSpec().width()}, OnnxJavaType.UINT8);
             OrtSession.Result r = s.run(Map.of(OnnxExporter.INPUT, t))) {
            float[][] out = (float[][]) r.get(0).getValue();
            assertEquals(2, out.length);
            assertEquals(m.outputSpec().size(), out[0].length);
        } finally {
            Files.delete(tmp);
        }
    }
}
