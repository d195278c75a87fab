package dova.compress.net;


/**
 * Folds batch normalization into the preceding convolution, the step between FP32 training and
 * quantization. With the running statistics {@code mean, var} and the affine {@code gamma, beta}
 * of output channel {@code c}, and {@code k = gamma / sqrt(var + eps)}:
 *
 * <pre>
 *   W'[c] = W[c] * k        b'[c] = (b[c] - mean) * k + beta
 * </pre>
 *
 * so that {@code conv(x, W') + b' = BN(conv(x, W) + b)} in inference. Quantization then works on
 * the folded weights (per-channel scales absorb {@code k}), which is what the processor runs.
 * The arithmetic is in float64, rounded once to float32.
 */
public final class BatchNormFolding {
    private BatchNormFolding() {
    }

    /**
     * Copies {@code from} (with batch norm) into {@code to}, a freshly initialized network built
     * from {@link QuantNet#withoutBatchNorm} of {@code from}'s ops, folding every batch norm.
     * Quantization state (activation scales, weight limits, activation widths) is copied too.
     *
     * @return the number of convolutions folded
     */
    public static int fold(QuantNet from, QuantNet to) {
        if (!QuantNet.withoutBatchNorm(from.ops()).equals(to.ops())) {
            throw new IllegalArgumentException("the target network must have the source's ops without batch norm");
        }
        if (to.hasBatchNorm()) {
            throw new IllegalArgumentException("the target network still has batch norm");
        }
        int folded = 0;
        for (Op op : from.ops()) {
            String name;
            if (op instanceof Op.Conv c) {
                name = c.name();
            } else if (op instanceof Op.Dense d) {
                name = d.name();
            } else {
                continue;
            }
            float[] w = from.weight(name).getArray().toFloatArray();
            float[] b = from.bias(name).getArray().toFloatArray();
            QuantNet.BatchNormParameters bn = from.batchNorm(name);
            if (bn != null) {
                float[] gamma = bn.gamma().getArray().toFloatArray();
                float[] beta = bn.beta().getArray().toFloatArray();
                float[] mean = bn.runningMean().getArray().toFloatArray();
                float[] var = bn.runningVar().getArray().toFloatArray();
                int per = w.length / b.length;
                for (int c = 0; c < b.length; c++) {
                    if (!(var[c] >= 0) || !Float.isFinite(gamma[c]) || !Float.isFinite(mean[c])) {
                        throw new IllegalStateException(name + ": batch norm of channel " + c + " is not finite or has a"
                                + " negative variance (gamma " + gamma[c] + ", mean " + mean[c] + ", var " + var[c] + ")");
                    }
                    double k = gamma[c] / Math.sqrt(var[c] + (double) QuantNet.BN_EPSILON);
                    for (int i = c * per; i < (c + 1) * per; i++) {
                        w[i] = (float) (w[i] * k);
                    }
                    b[c] = (float) ((b[c] - (double) mean[c]) * k + beta[c]);
                }
                folded++;
            }
            to.weight(name).getArray().set(w);
            to.bias(name).getArray().set(b);
        }
        to.state().activationScales.putAll(from.state().activationScales);
        to.state().weightLimits.putAll(from.state().weightLimits);
        from.state().channelLimits.forEach((k, v) -> to.state().channelLimits.put(k, v.clone()));
        to.state().activationBits.putAll(from.state().activationBits);
        return folded;
    }
}
