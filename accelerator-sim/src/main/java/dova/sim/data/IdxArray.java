package dova.sim.data;

import java.util.Arrays;

/**
 * An unsigned-byte IDX array: its dimensions (outermost first) and its data in row-major
 * order. {@code data.length} equals the product of {@code dims}.
 */
public record IdxArray(int[] dims, byte[] data) {
    public IdxArray {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d);
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " hold " + n
                    + " values but data has " + data.length);
        }
        dims = dims.clone();
    }

    /** Number of items along the outermost dimension. */
    public int count() {
        return dims[0];
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }
}
