package dova.sim.model;

import java.util.List;

/** Reshapes {@code C x H x W} to {@code (C*H*W) x 1 x 1}; the CHW order of the data is kept, nothing is computed. */
public record Flatten(String name, int input, int output) implements Layer {
    @Override
    public List<Integer> inputs() {
        return List.of(input);
    }

    @Override
    public Kind kind() {
        return Kind.FLATTEN;
    }
}
