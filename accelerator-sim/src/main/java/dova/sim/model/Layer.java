package dova.sim.model;

import java.util.List;

/**
 * One operation of an integer model. Tensors are referred to by their index in the model's
 * tensor list; layers appear in execution order and may read only tensors already written.
 */
public sealed interface Layer permits Conv2d, Add, MaxPool, AvgPool, GlobalAvgPool, Flatten {
    String name();

    List<Integer> inputs();

    int output();

    /** Kind tag used by the file format. */
    Kind kind();

    /** The layer kinds, with their codes in the model format (docs/model-format.md). */
    enum Kind implements WireCode {
        CONV2D(0), ADD(1), MAX_POOL(2), AVG_POOL(3), GLOBAL_AVG_POOL(4), FLATTEN(5);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }
}
