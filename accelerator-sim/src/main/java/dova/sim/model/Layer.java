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

    enum Kind { CONV2D, ADD, MAX_POOL, AVG_POOL, GLOBAL_AVG_POOL, FLATTEN }
}
