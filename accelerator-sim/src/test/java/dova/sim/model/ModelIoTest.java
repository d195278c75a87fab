package dova.sim.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelIoTest {
    @TempDir
    Path tmp;

    private static String rejected(byte[] bytes) {
        return assertThrows(InvalidModelException.class, () -> ModelIo.fromBytes(bytes)).getMessage();
    }

    @Test
    void roundTripsEveryLayerKind() throws Exception {
        for (long seed = 0; seed < 20; seed++) {
            IntegerModel m = RandomModels.model(seed, 8, 8, 16, 12);
            Path f = tmp.resolve("m" + seed + ".dova");
            ModelIo.write(m, f);
            IntegerModel back = ModelIo.read(f);
            assertArrayEquals(ModelIo.toBytes(m), ModelIo.toBytes(back));
            // readable by the service's user, not only the exporter's (the temp file's 0600 once reached the image)
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            assertEquals(m.layers().size(), back.layers().size());
            assertEquals(m.macs(), back.macs());
        }
    }

    @Test
    void rejectsTruncatedFile() {
        byte[] b = ModelIo.toBytes(RandomModels.model(1, 8, 8, 32, 32));
        String m = rejected(Arrays.copyOf(b, b.length - 40));
        assertTrue(m.startsWith("truncated"), m);
    }

    @Test
    void rejectsTamperedFile() {
        byte[] b = ModelIo.toBytes(RandomModels.model(2, 8, 8, 32, 32));
        b[b.length / 2] ^= 1;
        assertTrue(rejected(b).startsWith("checksum mismatch"));
    }

    @Test
    void rejectsBadMagicAndUnknownVersion() {
        byte[] b = ModelIo.toBytes(RandomModels.model(3, 8, 8, 32, 32));
        byte[] magic = b.clone();
        magic[0] = 'X';
        assertTrue(rejected(magic).contains("bad magic"));
        byte[] version = b.clone();
        ByteBuffer.wrap(version).putInt(ModelIo.MAGIC.length, 7);
        assertEquals("unknown model format version 7; this build reads versions 1 to 2", rejected(version));
    }

    private static IntegerModel replaceLayer(IntegerModel m, int index, Layer l) {
        List<Layer> layers = new ArrayList<>(m.layers());
        layers.set(index, l);
        return new IntegerModel(m.name(), m.weightBits(), m.activationBits(), m.accumulatorBits(), m.multiplierBits(),
                m.tensors(), m.input(), m.output(), layers);
    }

    @Test
    void rejectsWeightOutsideTheNarrowRangeNamingTheLayer() {
        IntegerModel m = RandomModels.model(4, 8, 8, 32, 32);
        Conv2d c = (Conv2d) m.layers().get(0);
        byte[] w = c.weights().clone();
        w[3] = -128;
        Conv2d bad = new Conv2d(c.name(), c.input(), c.output(), c.outChannels(), c.inChannels(), c.kernelH(), c.kernelW(),
                c.strideH(), c.strideW(), c.padH(), c.padW(), c.groups(), w, c.bias(), c.weightScales(), c.multipliers(),
                c.shifts(), c.activation());
        String msg = rejected(ModelIo.encode(replaceLayer(m, 0, bad)));
        assertTrue(msg.contains("layer conv1") && msg.contains("weight 3") && msg.contains("-128"), msg);
    }

    @Test
    void rejectsBiasBeyondTheAccumulatorAndMultiplierBeyondM() {
        IntegerModel m = RandomModels.model(5, 8, 8, 16, 12);
        Conv2d c = (Conv2d) m.layers().get(0);
        int[] bias = c.bias().clone();
        bias[1] = 1 << 20;
        Conv2d badBias = new Conv2d(c.name(), c.input(), c.output(), c.outChannels(), c.inChannels(), c.kernelH(),
                c.kernelW(), c.strideH(), c.strideW(), c.padH(), c.padW(), c.groups(), c.weights(), bias, c.weightScales(),
                c.multipliers(), c.shifts(), c.activation());
        String msg = rejected(ModelIo.encode(replaceLayer(m, 0, badBias)));
        assertTrue(msg.contains("bias of channel 1") && msg.contains("16-bit accumulator"), msg);
        long[] mult = c.multipliers().clone();
        mult[0] = 1 << 12;
        String msg2 = rejected(ModelIo.encode(replaceLayer(m, 0, c.withRequant(mult, c.shifts()))));
        assertTrue(msg2.contains("multiplier 4096 of channel 0") && msg2.contains("12 unsigned bits"), msg2);
    }

    @Test
    void rejectsShapeInconsistency() {
        IntegerModel m = RandomModels.model(6, 8, 8, 32, 32);
        Conv2d c = (Conv2d) m.layers().get(0);
        Conv2d wrongStride = new Conv2d(c.name(), c.input(), c.output(), c.outChannels(), c.inChannels(), c.kernelH(),
                c.kernelW(), c.strideH() + 1, c.strideW() + 1, c.padH(), c.padW(), c.groups(), c.weights(), c.bias(),
                c.weightScales(), c.multipliers(), c.shifts(), c.activation());
        String msg = rejected(ModelIo.encode(replaceLayer(m, 0, wrongStride)));
        assertTrue(msg.contains("layer conv1") && msg.contains("expected"), msg);
    }

    @Test
    void missingFileIsNamed() {
        Path f = tmp.resolve("absent.dova");
        String msg = assertThrows(java.io.IOException.class, () -> ModelIo.read(f)).getMessage();
        assertTrue(msg.contains("absent.dova"), msg);
    }

    @Test
    void retargetingMultipliersKeepsThemWithinMBits() {
        IntegerModel m = RandomModels.model(7, 8, 8, 32, 32).withMultiplierBits(8).validate();
        for (Layer l : m.layers()) {
            if (l instanceof Conv2d c) {
                for (long v : c.multipliers()) {
                    assertTrue(v >= 128 && v <= 255, l.name() + " m=" + v);
                }
            }
        }
    }

    @Test
    void aBodyLengthBeyondTheFileIsNamedAsSuch() {
        byte[] bad = ModelIo.toBytes(RandomModels.model(2, 8, 8, 32, 32));
        // the body length follows the magic number and the 4-byte version
        ByteBuffer.wrap(bad).putLong(ModelIo.MAGIC.length + 4, Long.MAX_VALUE);
        String msg = rejected(bad);
        assertTrue(msg.contains("header promises a body of 9223372036854775807 bytes"), msg);
    }

    /** A file of format {@code version} holding {@code body} (header and checksum as ModelIo writes them). */
    private static byte[] file(int version, byte[] body) throws Exception {
        ByteBuffer out = ByteBuffer.allocate(ModelIo.MAGIC.length + 12 + body.length + 32);
        out.put(ModelIo.MAGIC).putInt(version).putLong(body.length).put(body)
                .put(java.security.MessageDigest.getInstance("SHA-256").digest(body));
        return out.array();
    }

    private static byte[] body(byte[] file) {
        return Arrays.copyOfRange(file, ModelIo.MAGIC.length + 12, file.length - 32);
    }

    @Test
    void recordsWhatTheModelIsForAndStillReadsVersionOneFiles() throws Exception {
        IntegerModel plain = RandomModels.model(4, 8, 8, 16, 12);
        int classes = plain.outputSpec().size();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            names.add("class " + i);
        }
        ModelInfo info = new ModelInfo("fashion-mnist", names, "grey 28x28, uint8 pixel / 255", dova.sim.Overflow.SATURATE);
        IntegerModel m = plain.withInfo(info);
        IntegerModel back = ModelIo.fromBytes(ModelIo.toBytes(m));
        assertEquals(info, back.info());
        assertEquals("class 1", back.info().className(1));
        assertEquals(Integer.toString(classes + 3), back.info().className(classes + 3));

        // version 1: the same body without the last section loads with nothing recorded
        byte[] unknown = body(ModelIo.toBytes(plain));
        int infoBytes = 2 + 4 + 2 + 1; // "" , 0 class names, "", overflow 0
        byte[] v1 = file(1, Arrays.copyOf(unknown, unknown.length - infoBytes));
        IntegerModel old = ModelIo.fromBytes(v1);
        assertEquals(ModelInfo.UNKNOWN, old.info());
        assertArrayEquals(ModelIo.toBytes(plain), ModelIo.toBytes(old));
        // a version-1 header on a version-2 body leaves the section unread
        assertTrue(rejected(file(1, unknown)).contains("unread bytes after the last layer"), rejected(file(1, unknown)));

        // the recorded classes must match the outputs; the overflow code must be known
        String msg = assertThrows(InvalidModelException.class,
                () -> plain.withInfo(new ModelInfo("x", List.of("a"), "", null)).validate()).getMessage();
        assertTrue(msg.contains("1 class names recorded for " + classes + " outputs"), msg);
        byte[] badMode = body(ModelIo.toBytes(plain));
        badMode[badMode.length - 1] = 9;
        assertTrue(rejected(file(2, badMode)).contains("unknown overflow mode code 9"));
    }
}
