package dova.serve.registry;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Locale;

/**
 * The records of the fleet's model topic ({@link FleetRegistry}), a compacted Kafka topic with
 * one partition. Three kinds, each under its own key so that compaction keeps every version, the
 * last pointer and every version's drift reference:
 * <ul>
 *   <li>key {@code v0007}: a published version: its number, note, integer model file, the
 *       registry's signature of that file (or none) and its QAT checkpoint (or none);</li>
 *   <li>key {@code CURRENT}: the serving pointer: the version every replica serves, and who set it;</li>
 *   <li>key {@code r0007}: the drift reference of version 7, the pixel histogram (256 bins) of the
 *       first window the fleet observed through it, and which replica observed it: a replica that
 *       joins later compares its windows with that, not with whatever it happens to see first.</li>
 * </ul>
 *
 * <p>Value layout (big-endian): the 8 ASCII bytes {@code DOVAMREC}, an int format version (1),
 * an int kind (1 version, 2 pointer, 3 reference), then for a version {@code int number, bytes note,
 * bytes model, bytes signature, bytes checkpoint}, for a pointer {@code int number, bytes by}, for
 * a reference {@code int number, bytes by, bytes histogram} (256 big-endian longs, none negative), where
 * {@code bytes} is an int length followed by that many bytes; then the SHA-256 of everything
 * before it. A record is untrusted input: every length is checked against the bytes that remain
 * before anything is allocated, the checksum before anything is parsed, and the key must name the
 * number inside; a record that fails any check is refused with a {@link Corrupt} naming why.
 */
public sealed interface ModelRecord permits ModelRecord.Published, ModelRecord.Pointer, ModelRecord.Reference {
    /** The key of the serving pointer. */
    String POINTER_KEY = "CURRENT";
    /** The format version this code writes and reads. */
    int FORMAT = 1;
    /** Largest record the topic is created for (its {@code max.message.bytes}): a model and its checkpoint. */
    int MAX_BYTES = 16 << 20;

    /** The version number the record names. */
    int number();

    /** The record's key on the topic. */
    String key();

    /** A published version. {@code signature} is "" when unsigned, {@code checkpoint} empty when it has none. */
    record Published(int number, String note, byte[] model, String signature, byte[] checkpoint) implements ModelRecord {
        public Published {
            requireVersion(number);
        }

        @Override
        public String key() {
            return versionKey(number);
        }

        public boolean hasCheckpoint() {
            return checkpoint.length > 0;
        }
    }

    /** The serving pointer: every replica serves {@code number}; {@code by} says who moved it (a replica, or the CLI). */
    record Pointer(int number, String by) implements ModelRecord {
        public Pointer {
            requireVersion(number);
        }

        @Override
        public String key() {
            return POINTER_KEY;
        }
    }

    /** Bins of a drift reference's pixel histogram (one per 8-bit pixel value). */
    int REFERENCE_BINS = 256;

    /** The drift reference of version {@code number}: {@code pixels}, 256 counts, observed by {@code by}. */
    record Reference(int number, String by, long[] pixels) implements ModelRecord {
        public Reference {
            requireVersion(number);
            if (pixels.length != REFERENCE_BINS) {
                throw new IllegalArgumentException("a drift reference has " + REFERENCE_BINS + " bins, got " + pixels.length);
            }
            for (long c : pixels) {
                if (c < 0) {
                    throw new IllegalArgumentException("a drift reference's counts are not negative, got " + c);
                }
            }
            pixels = pixels.clone();
        }

        @Override
        public String key() {
            return referenceKey(number);
        }

        @Override
        public long[] pixels() {
            return pixels.clone();
        }
    }

    /** The key of version {@code number}'s drift reference: {@code r0007}. */
    static String referenceKey(int number) {
        return String.format(Locale.ROOT, "r%04d", number);
    }

    /** A record that is not a valid model-topic record; {@link #reason()} is a short tag for metrics. */
    final class Corrupt extends Exception {
        private final String reason;

        public Corrupt(String reason, String message) {
            super(message);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /** The key of version {@code number}: {@code v0007}. */
    static String versionKey(int number) {
        return String.format(Locale.ROOT, "v%04d", number);
    }

    private static void requireVersion(int number) {
        if (number < 1) {
            throw new IllegalArgumentException("versions start at 1, got " + number);
        }
    }

    byte[] MAGIC = "DOVAMREC".getBytes(StandardCharsets.US_ASCII);
    int KIND_VERSION = 1;
    int KIND_POINTER = 2;
    int KIND_REFERENCE = 3;
    int DIGEST_BYTES = 32;

    /** The record's value bytes. */
    static byte[] encode(ModelRecord r) {
        byte[][] fields;
        int kind;
        if (r instanceof Published p) {
            fields = new byte[][] {p.note().getBytes(StandardCharsets.UTF_8), p.model(),
                    p.signature().getBytes(StandardCharsets.US_ASCII), p.checkpoint()};
            kind = KIND_VERSION;
        } else if (r instanceof Reference ref) {
            ByteBuffer h = ByteBuffer.allocate(REFERENCE_BINS * Long.BYTES);
            for (long c : ref.pixels()) {
                h.putLong(c);
            }
            fields = new byte[][] {ref.by().getBytes(StandardCharsets.UTF_8), h.array()};
            kind = KIND_REFERENCE;
        } else {
            fields = new byte[][] {((Pointer) r).by().getBytes(StandardCharsets.UTF_8)};
            kind = KIND_POINTER;
        }
        int size = MAGIC.length + 3 * Integer.BYTES + DIGEST_BYTES;
        for (byte[] f : fields) {
            size += Integer.BYTES + f.length;
        }
        if (size > MAX_BYTES) {
            throw new IllegalArgumentException(r.key() + ": a record of " + size + " bytes exceeds the model topic's "
                    + MAX_BYTES + "-byte limit");
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(MAGIC).putInt(FORMAT).putInt(kind).putInt(r.number());
        for (byte[] f : fields) {
            b.putInt(f.length).put(f);
        }
        b.put(sha256(b.array(), b.position()));
        return b.array();
    }

    /**
     * Reads a record from the topic.
     *
     * @throws Corrupt when the value is truncated, of another format, fails its checksum, or its
     *     key does not name the number inside
     */
    static ModelRecord decode(String key, byte[] value) throws Corrupt {
        String where = "model record " + (key == null ? "(no key)" : "'" + key + "'");
        if (value == null) {
            throw new Corrupt("empty", where + " has no value");
        }
        if (value.length < MAGIC.length + 3 * Integer.BYTES + DIGEST_BYTES) {
            throw new Corrupt("truncated", where + " is " + value.length + " bytes, shorter than any record");
        }
        if (!Arrays.equals(value, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new Corrupt("format", where + " does not start with DOVAMREC: not a dova model record");
        }
        int body = value.length - DIGEST_BYTES;
        if (!MessageDigest.isEqual(sha256(value, body), Arrays.copyOfRange(value, body, value.length))) {
            throw new Corrupt("checksum", where + " fails its SHA-256 checksum: truncated or changed after it was written");
        }
        ByteBuffer b = ByteBuffer.wrap(value, 0, body);
        b.position(MAGIC.length);
        int format = b.getInt();
        if (format != FORMAT) {
            throw new Corrupt("format", where + " is of format version " + format + "; this dova reads version " + FORMAT);
        }
        int kind = b.getInt();
        int number = b.getInt();
        if (number < 1) {
            throw new Corrupt("number", where + " names version " + number + "; versions start at 1");
        }
        ModelRecord r = switch (kind) {
            case KIND_VERSION -> new Published(number, utf8(b, where, "note"), bytes(b, where, "model"),
                    new String(bytes(b, where, "signature"), StandardCharsets.US_ASCII), bytes(b, where, "checkpoint"));
            case KIND_POINTER -> new Pointer(number, utf8(b, where, "by"));
            case KIND_REFERENCE -> reference(number, utf8(b, where, "by"), bytes(b, where, "histogram"), where);
            default -> throw new Corrupt("format", where + " is of unknown kind " + kind);
        };
        if (b.hasRemaining()) {
            throw new Corrupt("format", where + " has " + b.remaining() + " bytes after its last field");
        }
        if (!r.key().equals(key)) {
            throw new Corrupt("key", where + " holds " + r.key() + ": a record under the wrong key is not served");
        }
        return r;
    }

    private static Reference reference(int number, String by, byte[] histogram, String where) throws Corrupt {
        if (histogram.length != REFERENCE_BINS * Long.BYTES) {
            throw new Corrupt("format", where + "'s histogram is " + histogram.length + " bytes; a drift reference has "
                    + REFERENCE_BINS + " counts of 8 bytes");
        }
        long[] pixels = new long[REFERENCE_BINS];
        ByteBuffer h = ByteBuffer.wrap(histogram);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = h.getLong();
            if (pixels[i] < 0) {
                throw new Corrupt("format", where + "'s histogram has a negative count " + pixels[i] + " at bin " + i);
            }
        }
        return new Reference(number, by, pixels);
    }

    private static String utf8(ByteBuffer b, String where, String field) throws Corrupt {
        return new String(bytes(b, where, field), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer b, String where, String field) throws Corrupt {
        if (b.remaining() < Integer.BYTES) {
            throw new Corrupt("truncated", where + " ends before its " + field + " field");
        }
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            // checked before allocating: a hostile length allocates nothing
            throw new Corrupt("truncated", where + "'s " + field + " claims " + n + " bytes where " + b.remaining() + " remain");
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static byte[] sha256(byte[] bytes, int length) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(bytes, 0, length);
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
