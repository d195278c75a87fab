package dova.sim.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir
    Path tmp;

    private Path resource(String name) throws IOException {
        Path p = tmp.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/idx/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    private static byte[] header(int type, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.array();
    }

    private Path write(String name, byte[]... parts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p);
        }
        return Files.write(tmp.resolve(name), out.toByteArray());
    }

    private static String message(Path file) {
        return assertThrows(IdxFormatException.class, () -> IdxReader.read(file)).getMessage();
    }

    @Test
    void readsCommittedMnistSampleRawImagesAndGzippedLabels() throws IOException {
        LabelledImages set = LabelledImages.load("sample", resource("mnist-sample-images-idx3-ubyte"),
                resource("mnist-sample-labels-idx1-ubyte.gz"));
        assertEquals(64, set.count());
        assertEquals(28, set.rows());
        assertEquals(28, set.cols());
        // the first MNIST test digits are 7, 2, 1, 0, 4, 1, 4, 9 (a well-known sequence)
        assertArrayEquals(new int[] {7, 2, 1, 0, 4, 1, 4, 9},
                Arrays.stream(new int[] {0, 1, 2, 3, 4, 5, 6, 7}).map(set::label).toArray());
        assertEquals(10, set.classes());
    }

    @Test
    void gzippedAndRawGiveTheSameArray() throws IOException {
        Path raw = resource("fashion-mnist-sample-images-idx3-ubyte");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(Files.readAllBytes(raw));
        }
        Path zipped = Files.write(tmp.resolve("x.gz"), gz.toByteArray());
        IdxArray a = IdxReader.read(raw);
        IdxArray b = IdxReader.read(zipped);
        assertArrayEquals(a.dims(), b.dims());
        assertArrayEquals(a.data(), b.data());
    }

    @Test
    void rejectsBadMagic() throws IOException {
        Path f = write("bad-magic", new byte[] {1, 0, 8, 1, 0, 0, 0, 1, 5});
        String m = message(f);
        assertTrue(m.contains("bad-magic") && m.contains("bad magic number"), m);
    }

    @Test
    void rejectsUnsupportedType() throws IOException {
        Path f = write("float", header(0x0D, 1), new byte[4]);
        assertTrue(message(f).contains("unsupported element type 0x0d"), message(f));
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        Path f = write("short", header(8, 2, 3), new byte[5]);
        String m = message(f);
        assertTrue(m.contains("short") && m.contains("truncated") && m.contains("6 data bytes") && m.contains("has 5"), m);
    }

    @Test
    void rejectsTruncatedHeader() throws IOException {
        Path f = write("hdr", new byte[] {0, 0, 8, 3, 0, 0});
        assertTrue(message(f).contains("truncated: file ends inside the header"), message(f));
    }

    @Test
    void rejectsTruncatedRealFile() throws IOException {
        Path full = resource("mnist-sample-images-idx3-ubyte");
        byte[] bytes = Files.readAllBytes(full);
        Path cut = write("cut", Arrays.copyOf(bytes, bytes.length - 100));
        assertTrue(message(cut).contains("truncated"), message(cut));
    }

    @Test
    void rejectsDimensionOverflow() throws IOException {
        Path f = write("huge", header(8, 70000, 70000, 1));
        assertTrue(message(f).contains("dimension overflow"), message(f));
    }

    @Test
    void rejectsNegativeDimension() throws IOException {
        Path f = write("neg", header(8, -1));
        assertTrue(message(f).contains("negative"), message(f));
    }

    @Test
    void rejectsZeroAndTooManyDimensions() throws IOException {
        assertTrue(message(write("zero", header(8))).contains("dimension count 0"));
        assertTrue(message(write("five", header(8, 1, 1, 1, 1, 1), new byte[1])).contains("dimension count 5"));
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        Path f = write("long", header(8, 2), new byte[3]);
        assertTrue(message(f).contains("trailing bytes"), message(f));
    }

    @Test
    void rejectsCorruptGzip() throws IOException {
        Path f = write("bad.gz", new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5});
        String m = message(f);
        assertTrue(m.contains("bad.gz") && (m.contains("gzip") || m.contains("truncated")), m);
    }

    @Test
    void rejectsMissingFile() {
        String m = message(tmp.resolve("absent"));
        assertTrue(m.contains("absent") && m.contains("fetch-data"), m);
    }

    @Test
    void rejectsLabelImageCountMismatch() throws IOException {
        Path images = write("img", header(8, 3, 2, 2), new byte[12]);
        Path labels = write("lab", header(8, 2), new byte[2]);
        String m = assertThrows(IdxFormatException.class, () -> LabelledImages.load("x", images, labels)).getMessage();
        assertTrue(m.contains("lab") && m.contains("count mismatch") && m.contains("2 labels for 3 images"), m);
    }

    @Test
    void rejectsImageFileOfWrongRank() throws IOException {
        Path images = write("img2d", header(8, 3, 4), new byte[12]);
        Path labels = write("lab", header(8, 3), new byte[3]);
        String m = assertThrows(IdxFormatException.class, () -> LabelledImages.load("x", images, labels)).getMessage();
        assertTrue(m.contains("3 dimensions"), m);
    }

    @Test
    void dataSetNamesParseAndUnknownNameIsListed() {
        assertEquals(DataSet.FASHION_MNIST, DataSet.parse("fashion-mnist"));
        String m = assertThrows(IllegalArgumentException.class, () -> DataSet.parse("cifar")).getMessage();
        assertTrue(m.contains("cifar") && m.contains("mnist, fashion-mnist"), m);
    }
}
