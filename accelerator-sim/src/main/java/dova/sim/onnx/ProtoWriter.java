package dova.sim.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The protobuf wire format, as much of it as an ONNX model needs: varint, 32-bit and
 * length-delimited fields (protobuf encoding guide, "Message Structure"). A message is written
 * into its own writer and embedded with {@link #message}.
 */
final class ProtoWriter {
    private static final int VARINT = 0;
    private static final int FIXED32 = 5;
    private static final int LENGTH_DELIMITED = 2;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private void tag(int field, int wireType) {
        rawVarint(((long) field << 3) | wireType);
    }

    private void rawVarint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    ProtoWriter varint(int field, long v) {
        tag(field, VARINT);
        rawVarint(v);
        return this;
    }

    ProtoWriter fixed32(int field, float v) {
        tag(field, FIXED32);
        int bits = Float.floatToRawIntBits(v);
        for (int i = 0; i < 4; i++) {
            out.write(bits >>> (8 * i));
        }
        return this;
    }

    ProtoWriter bytes(int field, byte[] v) {
        tag(field, LENGTH_DELIMITED);
        rawVarint(v.length);
        out.writeBytes(v);
        return this;
    }

    ProtoWriter string(int field, String v) {
        return bytes(field, v.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter m) {
        return bytes(field, m.toByteArray());
    }

    /** A packed repeated int64 field. */
    ProtoWriter packedVarints(int field, long... v) {
        ProtoWriter p = new ProtoWriter();
        for (long x : v) {
            p.rawVarint(x);
        }
        return bytes(field, p.toByteArray());
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
