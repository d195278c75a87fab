package dova.sim.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.ProcessorConfig;
import dova.sim.model.Activation;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The A = 32 accumulate path against ONNX's ConvInteger and MatMulInteger test vectors
 * (libonnx-testdata). Zero-points, which the processor does not have, are applied to the
 * operands before they enter it: {@code x - x_zero_point} as unsigned pixels and
 * {@code w - w_zero_point} as signed weights; ONNX pads {@code x - x_zero_point} with 0, as
 * the processor does. Accumulators are read with the probe before requantization.
 */
class OnnxVectorsTest {
    /** A TensorProto: dims and integer values (uint8 or int32 raw data). */
    record Tensor(long[] dims, long[] values) {
    }

    static Tensor read(String test, String file) throws IOException {
        try (InputStream in = OnnxVectorsTest.class.getResourceAsStream("/onnx/" + test + "/" + file)) {
            return parse(ByteBuffer.wrap(in.readAllBytes()));
        }
    }

    private static long varint(ByteBuffer b) {
        long r = 0;
        for (int shift = 0; ; shift += 7) {
            int c = b.get() & 0xff;
            r |= (long) (c & 0x7f) << shift;
            if (c < 0x80) {
                return r;
            }
        }
    }

    /** The protobuf fields of TensorProto that the vectors use: 1 dims, 2 data_type, 9 raw_data. */
    static Tensor parse(ByteBuffer b) {
        List<Long> dims = new ArrayList<>();
        int type = 0;
        byte[] raw = new byte[0];
        while (b.hasRemaining()) {
            long key = varint(b);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (wire == 0) {
                long v = varint(b);
                if (field == 1) {
                    dims.add(v);
                } else if (field == 2) {
                    type = (int) v;
                }
            } else if (wire == 2) {
                byte[] bytes = new byte[(int) varint(b)];
                b.get(bytes);
                if (field == 1) {
                    ByteBuffer packed = ByteBuffer.wrap(bytes);
                    while (packed.hasRemaining()) {
                        dims.add(varint(packed));
                    }
                } else if (field == 9) {
                    raw = bytes;
                }
            } else if (wire == 5) {
                b.position(b.position() + 4);
            } else if (wire == 1) {
                b.position(b.position() + 8);
            } else {
                throw new IllegalArgumentException("unsupported wire type " + wire);
            }
        }
        long[] values;
        if (type == 2 || type == 3) { // UINT8, INT8
            values = new long[raw.length];
            for (int i = 0; i < raw.length; i++) {
                values[i] = type == 2 ? raw[i] & 0xff : raw[i];
            }
        } else if (type == 6) { // INT32
            ByteBuffer r = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            values = new long[raw.length / 4];
            for (int i = 0; i < values.length; i++) {
                values[i] = r.getInt();
            }
        } else {
            throw new IllegalArgumentException("unsupported data type " + type);
        }
        return new Tensor(dims.stream().mapToLong(Long::longValue).toArray(), values);
    }

    private static int[] accumulators(IntegerModel m, byte[] input) {
        Executor e = Executor.fast(m, ProcessorConfig.baseline());
        List<int[]> seen = new ArrayList<>();
        e.setProbe((layer, conv, channel, acc, count) -> seen.add(Arrays.copyOf(acc, count)));
        e.run(input, 0);
        return seen.stream().flatMapToInt(Arrays::stream).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"test_basic_convinteger", "test_convinteger_without_padding", "test_convinteger_with_padding"})
    void convInteger(String test) throws IOException {
        Tensor x = read(test, "input_0.pb");
        Tensor w = read(test, "input_1.pb");
        long xZero = read(test, "input_2.pb").values()[0];
        Tensor expected = read(test, "output_0.pb");
        int channels = (int) x.dims()[1];
        int h = (int) x.dims()[2];
        int wd = (int) x.dims()[3];
        int out = (int) w.dims()[0];
        int k = (int) w.dims()[2];
        int pad = test.contains("with_padding") ? 1 : 0;
        byte[] px = new byte[x.values().length];
        for (int i = 0; i < px.length; i++) {
            long v = x.values()[i] - xZero;
            assertTrue(v >= 0 && v <= 255, "operand representable as a pixel");
            px[i] = (byte) v;
        }
        byte[] weights = new byte[w.values().length];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (byte) w.values()[i];
        }
        double[] ws = new double[out];
        Arrays.fill(ws, 1.0);
        ModelBuilder b = new ModelBuilder(test, 8, 8, 32, 32);
        int in = b.input("x", channels, h, wd, 1.0);
        int y = b.conv("conv", in, out, k, 1, pad, 1, weights, new int[out], ws, 1.0, Activation.NONE);
        int[] got = accumulators(b.build(y), px);
        assertArrayEquals(Arrays.stream(expected.values()).mapToInt(v -> (int) v).toArray(), got);
    }

    @ParameterizedTest
    @ValueSource(strings = {"test_matmulinteger"})
    void matMulInteger(String test) throws IOException {
        Tensor a = read(test, "input_0.pb");          // M x K, uint8
        Tensor bm = read(test, "input_1.pb");         // K x N, uint8
        long aZero = read(test, "input_2.pb").values()[0];
        long bZero = read(test, "input_3.pb").values()[0];
        Tensor expected = read(test, "output_0.pb");  // M x N, int32
        int m = (int) a.dims()[0];
        int kk = (int) a.dims()[1];
        int n = (int) bm.dims()[1];
        // Y = (A - za)(B - zb): each column of B - zb is the input of a fully connected layer whose
        // weights are the rows of A - za (signed, within the 8-bit narrow range)
        byte[] weights = new byte[m * kk];
        for (int i = 0; i < weights.length; i++) {
            long v = a.values()[i] - aZero;
            assertTrue(Math.abs(v) <= 127);
            weights[i] = (byte) v;
        }
        double[] ws = new double[m];
        Arrays.fill(ws, 1.0);
        ModelBuilder b = new ModelBuilder(test, 8, 8, 32, 32);
        int in = b.input("column", kk, 1, 1, 1.0);
        int y = b.dense("matmul", in, m, weights, new int[m], ws, 1.0, Activation.NONE);
        IntegerModel model = b.build(y);
        int checked = 0;
        for (int j = 0; j < n; j++) {
            byte[] column = new byte[kk];
            for (int k = 0; k < kk; k++) {
                column[k] = (byte) (bm.values()[k * n + j] - bZero);
            }
            int[] got = accumulators(model, column);
            for (int i = 0; i < m; i++) {
                assertEquals(expected.values()[i * n + j], got[i], "Y[" + i + "][" + j + "]");
                checked++;
            }
        }
        assertEquals(m * n, checked);
    }
}
