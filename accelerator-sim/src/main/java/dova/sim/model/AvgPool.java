package dova.sim.model;

import java.util.List;

/**
 * Average pool without padding: the window sum is formed in A bits (one group per element,
 * order ky, kx), then requantized with {@code R = Sx / (Sy * kernel^2) ~ multiplier / 2^shift}.
 */
public record AvgPool(String name, int input, int output, int kernel, int stride, long multiplier, int shift)
        implements Layer {
    @Override
    public List<Integer> inputs() {
        return List.of(input);
    }

    @Override
    public Kind kind() {
        return Kind.AVG_POOL;
    }
}
