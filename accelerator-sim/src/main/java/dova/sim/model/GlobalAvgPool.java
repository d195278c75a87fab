package dova.sim.model;

import java.util.List;

/**
 * Global average pool to {@code C x 1 x 1}: the sum over {@code H*W} positions is formed in A
 * bits (row-major order), then requantized with {@code R = Sx / (Sy * H * W)}.
 */
public record GlobalAvgPool(String name, int input, int output, long multiplier, int shift) implements Layer {
    @Override
    public List<Integer> inputs() {
        return List.of(input);
    }

    @Override
    public Kind kind() {
        return Kind.GLOBAL_AVG_POOL;
    }
}
