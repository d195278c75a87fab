package dova.sim.exec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/** The two growable sections of a {@link NativePlan}: its int32 words and its 64-byte aligned data. */
final class PlanBuffers {
    private PlanBuffers() {
    }

    /** A growable int32 list. */
    static final class Words {
        private int[] v = new int[256];
        private int n;

        void add(int x) {
            if (n == v.length) {
                v = Arrays.copyOf(v, 2 * n);
            }
            v[n++] = x;
        }

        void addAll(int... xs) {
            for (int x : xs) {
                add(x);
            }
        }

        int get(int i) {
            return v[i];
        }

        void set(int i, int x) {
            v[i] = x;
        }

        int size() {
            return n;
        }
    }

    /** The data section: arrays at 64-byte aligned offsets, little-endian as the words. */
    static final class Data {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.nativeOrder());

        private int reserve(long bytes) {
            int at = (int) NativePlan.align(b.position());
            if (at + bytes > Integer.MAX_VALUE - 64) {
                throw new IllegalArgumentException("model weights exceed one native plan");
            }
            if (at + bytes > b.capacity()) {
                ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 64,
                        Math.max(2L * b.capacity(), at + bytes + 64))).order(ByteOrder.nativeOrder());
                b.flip();
                bigger.put(b);
                b = bigger;
            }
            b.position(at);
            return at;
        }

        /** Writes {@code count} elements of {@code elementBytes} each through {@code put}; returns their offset. */
        private int write(int count, int elementBytes, java.util.function.Consumer<ByteBuffer> put) {
            int at = reserve((long) elementBytes * count);
            put.accept(b);
            b.position(at + elementBytes * count);
            return at;
        }

        int shorts(short[] v) {
            return write(v.length, 2, x -> x.asShortBuffer().put(v));
        }

        int signedBytes(byte[] v) {
            return write(v.length, 1, x -> x.put(v));
        }

        int ints(int[] v) {
            return write(v.length, 4, x -> x.asIntBuffer().put(v));
        }

        int doubles(double[] v) {
            return write(v.length, 8, x -> x.asDoubleBuffer().put(v));
        }

        int longs(long[] v) {
            return write(v.length, 8, x -> x.asLongBuffer().put(v));
        }

        byte[] bytes() {
            byte[] out = new byte[b.position()];
            b.duplicate().flip().get(out);
            return out;
        }
    }
}
