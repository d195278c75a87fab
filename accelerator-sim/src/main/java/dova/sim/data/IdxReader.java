package dova.sim.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (the MNIST container format), raw or gzip-compressed.
 *
 * <p>Layout: two zero bytes, a type byte, a dimension count {@code n}, then {@code n}
 * big-endian 32-bit dimensions, then the values. Only type {@code 0x08} (unsigned byte) is
 * accepted: it is the only type the image data sets use. Every defect is reported as an
 * {@link IdxFormatException} naming the file: bad magic, unsupported type, zero or too
 * many dimensions, negative dimensions, a size that overflows a Java array, truncated data
 * and trailing bytes.
 */
public final class IdxReader {
    /** Largest dimension count accepted: images are 3-D, labels 1-D; 4 leaves room for colour. */
    public static final int MAX_DIMS = 4;
    private static final int TYPE_UBYTE = 0x08;

    private IdxReader() {
    }

    /** Reads {@code file}, decompressing it if it starts with the gzip magic {@code 1f 8b}. */
    public static IdxArray read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IdxFormatException(file.toString(), "no such file (run scripts/fetch-data.sh to obtain the data sets)");
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            return read(raw, file.toString());
        }
    }

    /** Reads one IDX array from {@code in}; {@code source} names it in error messages. */
    public static IdxArray read(InputStream in, String source) throws IOException {
        InputStream body = in.markSupported() ? in : new BufferedInputStream(in);
        body.mark(2);
        int b0 = body.read();
        int b1 = body.read();
        body.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                body = new BufferedInputStream(new GZIPInputStream(body, 1 << 16));
            } catch (IOException e) {
                throw new IdxFormatException(source, "corrupt gzip header: " + e.getMessage());
            }
        }
        try {
            return parse(new DataInputStream(body), source);
        } catch (EOFException e) {
            throw new IdxFormatException(source, "truncated: file ends inside the header");
        } catch (java.util.zip.ZipException e) {
            throw new IdxFormatException(source, "corrupt gzip data: " + e.getMessage());
        }
    }

    private static IdxArray parse(DataInputStream in, String source) throws IOException {
        int z0 = in.readUnsignedByte();
        int z1 = in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int nDims = in.readUnsignedByte();
        if (z0 != 0 || z1 != 0) {
            throw new IdxFormatException(source, String.format(
                    "bad magic number 0x%02x%02x%02x%02x: an IDX file starts with two zero bytes", z0, z1, type, nDims));
        }
        if (type != TYPE_UBYTE) {
            throw new IdxFormatException(source, String.format(
                    "unsupported element type 0x%02x: only unsigned byte (0x08) is supported", type));
        }
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw new IdxFormatException(source, "dimension count " + nDims + " outside [1, " + MAX_DIMS + "]");
        }
        int[] dims = new int[nDims];
        long size = 1;
        for (int i = 0; i < nDims; i++) {
            dims[i] = in.readInt();
            if (dims[i] < 0) {
                throw new IdxFormatException(source, "dimension " + i + " is negative (" + Integer.toUnsignedString(dims[i]) + " as unsigned)");
            }
            size *= dims[i];
            if (size > Integer.MAX_VALUE - 8) {
                throw new IdxFormatException(source, "dimension overflow: the product of the dimensions exceeds "
                        + (Integer.MAX_VALUE - 8) + " bytes");
            }
        }
        byte[] data = new byte[(int) size];
        int read = in.readNBytes(data, 0, data.length);
        if (read < data.length) {
            throw new IdxFormatException(source, "truncated: header promises " + data.length + " data bytes, file has " + read);
        }
        if (in.read() != -1) {
            throw new IdxFormatException(source, "trailing bytes after the " + data.length + " data bytes the header promises");
        }
        return new IdxArray(dims, data);
    }
}
