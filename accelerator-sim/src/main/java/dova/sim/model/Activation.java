package dova.sim.model;

/** An activation fused into the requantization clamp (docs/datapath.md section 3). */
public enum Activation implements WireCode {
    /** Clamp to the output tensor's range only. */
    NONE(0),
    /** {@code qmin = 0}. */
    RELU(1),
    /** {@code qmin = 0}, {@code qmax = min(2^ba - 1, round(6 / Sy))}. */
    RELU6(2);

    private final int code;

    Activation(int code) {
        this.code = code;
    }

    /** The activation's code in the model format. */
    @Override
    public int code() {
        return code;
    }

    /** Lower clamp bound for an output tensor. */
    public int qmin(TensorSpec out) {
        return this == NONE ? out.qmin() : Math.max(0, out.qmin());
    }

    /** Upper clamp bound for an output tensor. */
    public int qmax(TensorSpec out) {
        if (this == RELU6) {
            return (int) Math.min(out.qmax(), Math.round(6.0 / out.scale()));
        }
        return out.qmax();
    }
}
