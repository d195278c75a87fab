package dova.compress.train;

import java.util.Locale;
import java.util.Random;

/**
 * Light training-time augmentation of grey images, applied while a batch is filled. Every
 * transform is drawn from the caller's {@link Random}, so a seeded run sees the same images.
 */
public enum Augmentation {
    /** The images as they are. */
    NONE,
    /** A random translation by up to 2 pixels in each direction, zero filled (digits: MNIST). */
    SHIFT,
    /** A horizontal flip with probability 1/2 (clothing, for a network too small to need crops). */
    FLIP,
    /**
     * A horizontal flip with probability 1/2, then a random crop of the image padded by 2 pixels
     * of zeros on each side (clothing: Fashion-MNIST, whose items are left-right symmetric in kind).
     */
    FLIP_CROP;

    /** Largest translation in pixels, both transforms. */
    public static final int MAX_SHIFT = 2;

    public static Augmentation parse(String name) {
        for (Augmentation a : values()) {
            if (a.name().equalsIgnoreCase(name.replace('-', '_'))) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown augmentation '" + name + "'; known: none, shift, flip, flip-crop");
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Writes image {@code src[srcOff, srcOff + rows * cols)} (unsigned bytes), transformed, as
     * floats 0..255 into {@code dst[dstOff, ...)}.
     */
    public void apply(byte[] src, int srcOff, int rows, int cols, float[] dst, int dstOff, Random rnd) {
        int dy = 0;
        int dx = 0;
        boolean flip = false;
        switch (this) {
            case NONE -> { }
            case FLIP -> flip = rnd.nextBoolean();
            case SHIFT, FLIP_CROP -> {
                flip = this == FLIP_CROP && rnd.nextBoolean();
                dy = rnd.nextInt(2 * MAX_SHIFT + 1) - MAX_SHIFT;
                dx = rnd.nextInt(2 * MAX_SHIFT + 1) - MAX_SHIFT;
            }
            default -> throw new IllegalStateException();
        }
        for (int y = 0; y < rows; y++) {
            int sy = y + dy;
            for (int x = 0; x < cols; x++) {
                int sx = x + dx;
                float v = 0;
                if (sy >= 0 && sy < rows && sx >= 0 && sx < cols) {
                    int col = flip ? cols - 1 - sx : sx;
                    v = src[srcOff + sy * cols + col] & 0xff;
                }
                dst[dstOff + y * cols + x] = v;
            }
        }
    }
}
