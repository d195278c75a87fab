package dova.sim.model;

/**
 * A feature map of {@code channels x height x width} integers (CHW order) with one scale
 * and zero-point 0: real value = {@code scale * integer}.
 *
 * @param signed two's complement {@code [-2^(bits-1), 2^(bits-1)-1]}, else unsigned {@code [0, 2^bits-1]}
 */
public record TensorSpec(String name, int channels, int height, int width, double scale, boolean signed, int bits) {
    public TensorSpec {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + channels + "x" + height + "x" + width
                    + " must be positive");
        }
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("tensor " + name + ": scale must be positive and finite, got " + scale);
        }
        if (bits < 2 || bits > 16) {
            throw new IllegalArgumentException("tensor " + name + ": bits must be in [2, 16], got " + bits);
        }
    }

    public int size() {
        return channels * height * width;
    }

    public int qmin() {
        return signed ? -(1 << (bits - 1)) : 0;
    }

    public int qmax() {
        return signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    }

    public String shape() {
        return channels + "x" + height + "x" + width;
    }
}
