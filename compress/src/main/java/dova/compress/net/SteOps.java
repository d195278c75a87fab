package dova.compress.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * The straight-through operations of quantization-aware training on DJL arrays: constants that
 * stay alive for the backward pass, rounding and clamping whose forward is the processor's value
 * and whose gradient passes through, and float-only masks and counts (boolean ops are several
 * times slower on this engine).
 */
final class SteOps {
    private SteOps() {
    }

    /**
     * {@code v} times a constant, through a scalar array that stays attached to {@code v}'s manager.
     * DJL's {@code mul(Number)}, {@code div(Number)}, {@code add(Number)} and {@code sub(Number)} wrap
     * the number in a zero-copy native tensor and close it as soon as the op returns, but autograd
     * keeps that tensor for the backward pass: once the garbage collector frees its buffer, the
     * gradients read freed memory (non-finite gradients at random steps). Every constant on the
     * training path therefore goes through this method or {@link #constant}.
     */
    static NDArray times(NDArray v, float f) {
        return v.mul(constant(v, f));
    }

    /** A scalar constant attached to {@code like}'s manager, alive until that manager or scope closes. */
    static NDArray constant(NDArray like, float f) {
        return like.getManager().create(f);
    }

    /** Rounds half to even (as torch.round and Math.rint) with a straight-through gradient. */
    static NDArray roundSte(NDArray v) {
        NDArray value = v.stopGradient();
        return v.add(value.round().sub(value)); // one recorded op; |round(v) - v| <= 1/2 is exact in float
    }

    /**
     * {@code target} as the forward value, {@code v}'s gradient: {@code target + (v - v)} is
     * {@code target} exactly (unlike {@code v + (target - v)} when the two are far apart, as
     * wrapped sums are), and costs two recorded ops whose backward passes are identities.
     */
    static NDArray straightThrough(NDArray v, NDArray target) {
        return v.sub(v.stopGradient()).add(target);
    }

    /**
     * Forward value {@code clip(target, lo, hi)} ({@code target}: detached integers); gradient
     * {@code d(source) * factor} where {@code target} lies in {@code [lo, hi]} and {@code keep}
     * (a 0/1 float mask, or null) is 1, zero elsewhere. This is clamp's own backward rule, folded
     * into a single recorded multiplication with a float mask: clamp's backward builds boolean
     * masks, several times slower than float ops on this engine, and dominated the step.
     */
    static NDArray clipStraightThrough(NDArray source, NDArray factor, NDArray target, float lo, float hi, NDArray keep) {
        NDArray out = target.clip(lo, hi);
        NDArray mask = equalMask(out, target);
        if (keep != null) {
            mask.muli(keep);
        }
        if (factor != null) {
            mask.muli(factor); // broadcast in place
        }
        NDArray y = straightThrough(source.mul(mask), out);
        mask.close(); // autograd holds its own reference
        out.close();
        return y;
    }

    /** 1 where the integer-valued tensors {@code a} and {@code b} are equal, 0 elsewhere: relu(1 - |a - b|), float ops only. */
    static NDArray equalMask(NDArray a, NDArray b) {
        NDArray d = a.sub(b);
        NDArray m = d.abs();
        d.close();
        m.negi();
        m.addi(constant(m, 1f));
        NDArray mask = ai.djl.nn.Activation.relu(m);
        m.close();
        return mask;
    }

    /**
     * Non-zero elements of an integer-valued float tensor: {@code sum(min(|v|, 1))} in float ops
     * (a boolean reduction is several times slower on this engine), temporaries freed at once.
     * Exact: every partial sum is an integer below 2^24 (float64 for larger tensors).
     */
    /**
     * Adds the non-zero elements of each channel (axis 1) of an integer-valued float tensor
     * ({@code (N, C)} or {@code (N, C, H, W)}) to {@code counts[c]}; float ops only, as above.
     */
    static void addNonzeroPerChannel(NDArray v, long[] counts) {
        int[] axes = v.getShape().dimension() == 4 ? new int[] {0, 2, 3} : new int[] {0};
        try (NDArray abs = v.abs(); NDArray one = abs.minimum(1f);
             NDArray wide = one.toType(DataType.FLOAT64, false); NDArray sum = wide.sum(axes)) {
            double[] per = sum.toDoubleArray();
            for (int c = 0; c < per.length && c < counts.length; c++) {
                counts[c] += Math.round(per[c]);
            }
        }
    }

    static long countNonzero(NDArray v) {
        try (NDArray abs = v.abs(); NDArray one = abs.minimum(1f);
             NDArray wide = one.toType(v.size() < (1 << 24) ? DataType.FLOAT32 : DataType.FLOAT64, false);
             NDArray sum = wide.sum()) {
            return Math.round(sum.toType(DataType.FLOAT64, false).getDouble());
        }
    }
}
