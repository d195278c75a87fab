package dova.sim.onnx;

import dova.sim.model.InvalidModelException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the protobuf wire format (protobuf encoding guide, "Message Structure") from a byte range,
 * for untrusted files: every length is checked against the bytes that are left before anything
 * is copied or allocated, and a malformed field is an {@link InvalidModelException} naming the
 * byte offset, never an index or memory error.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private int pos;
    private final int limit;
    private final String what;
    private int wireType = -1;

    ProtoReader(byte[] buf, String what) {
        this(buf, 0, buf.length, what);
    }

    private ProtoReader(byte[] buf, int from, int limit, String what) {
        this.buf = buf;
        this.pos = from;
        this.limit = limit;
        this.what = what;
    }

    private InvalidModelException bad(String why) {
        return new InvalidModelException("ONNX " + what + ": " + why + " at byte " + pos);
    }

    /** The next field's number, or -1 at the end of this message. */
    int next() {
        if (pos >= limit) {
            return -1;
        }
        long tag = varint();
        wireType = (int) (tag & 7);
        long field = tag >>> 3;
        if (field < 1 || field > (1 << 29)) {
            throw bad("field number " + field);
        }
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32) {
            throw bad("wire type " + wireType + " (groups are not used by ONNX)");
        }
        return (int) field;
    }

    int wireType() {
        return wireType;
    }

    long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) {
                throw bad("truncated varint");
            }
            byte b = buf[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw bad("varint longer than 10 bytes");
    }

    private void expect(int type, String field) {
        if (wireType != type) {
            throw bad(field + " has wire type " + wireType + ", expected " + type);
        }
    }

    long int64(String field) {
        expect(VARINT, field);
        return varint();
    }

    float fixed32(String field) {
        expect(FIXED32, field);
        return Float.intBitsToFloat((int) fixed(4));
    }

    private long fixed(int n) {
        if (limit - pos < n) {
            throw bad("truncated fixed-width field");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) (buf[pos++] & 0xFF) << (8 * i);
        }
        return v;
    }

    /** A length-delimited field as a reader of its own bytes (no copy). */
    ProtoReader message(String field) {
        expect(LENGTH_DELIMITED, field);
        int n = length();
        ProtoReader r = new ProtoReader(buf, pos, pos + n, what);
        pos += n;
        return r;
    }

    byte[] bytes(String field) {
        expect(LENGTH_DELIMITED, field);
        int n = length();
        byte[] v = java.util.Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return v;
    }

    String string(String field) {
        return new String(bytes(field), StandardCharsets.UTF_8);
    }

    private int length() {
        long n = varint();
        if (n < 0 || n > limit - pos) {
            throw bad("length " + n + " exceeds the " + (limit - pos) + " bytes left");
        }
        return (int) n;
    }

    /** A repeated int64 field, packed (one length-delimited run) or not (one varint): appends to {@code out}. */
    void int64s(String field, LongList out) {
        if (wireType == VARINT) {
            out.add(varint());
            return;
        }
        ProtoReader packed = message(field);
        while (packed.pos < packed.limit) {
            out.add(packed.varint());
        }
    }

    /** A repeated float field, packed or not: appends to {@code out}. */
    void floats(String field, FloatList out) {
        if (wireType == FIXED32) {
            out.add(fixed32(field));
            return;
        }
        ProtoReader packed = message(field);
        if ((packed.limit - packed.pos) % 4 != 0) {
            throw bad(field + ": packed floats of " + (packed.limit - packed.pos) + " bytes");
        }
        while (packed.pos < packed.limit) {
            out.add(Float.intBitsToFloat((int) packed.fixed(4)));
        }
    }

    void skip() {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> fixed(8);
            case FIXED32 -> fixed(4);
            default -> {
                int n = length(); // before the add: length() moves pos past the length's own bytes
                pos += n;
            }
        }
    }

    /** A growable long array (repeated fields; every element was read from the file, so its size is bounded by it). */
    static final class LongList {
        private long[] v = new long[4];
        private int n;

        void add(long x) {
            if (n == v.length) {
                v = java.util.Arrays.copyOf(v, 2 * n);
            }
            v[n++] = x;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(v, n);
        }
    }

    /** A growable float array, as {@link LongList}. */
    static final class FloatList {
        private float[] v = new float[4];
        private int n;

        void add(float x) {
            if (n == v.length) {
                v = java.util.Arrays.copyOf(v, 2 * n);
            }
            v[n++] = x;
        }

        float[] toArray() {
            return java.util.Arrays.copyOf(v, n);
        }
    }
}
