package dova.sim.model;

import java.util.List;

/** Exact max pool; padded positions are skipped (never selected). Output shape as {@link Conv2d}. */
public record MaxPool(String name, int input, int output, int kernel, int stride, int pad) implements Layer {
    @Override
    public List<Integer> inputs() {
        return List.of(input);
    }

    @Override
    public Kind kind() {
        return Kind.MAX_POOL;
    }
}
