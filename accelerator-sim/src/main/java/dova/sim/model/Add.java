package dova.sim.model;

import java.util.List;

/**
 * Residual add {@code y = clamp(roundShift(x1*m1 + x2*m2, s))} of two tensors of one shape,
 * with real multipliers {@code S1/Sy ~ m1/2^s} and {@code S2/Sy ~ m2/2^s} sharing one shift
 * (docs/datapath.md section 4).
 */
public record Add(String name, int left, int right, int output, long leftMultiplier, long rightMultiplier, int shift,
                  Activation activation) implements Layer {
    @Override
    public List<Integer> inputs() {
        return List.of(left, right);
    }

    @Override
    public Kind kind() {
        return Kind.ADD;
    }
}
