package dova.compress.net;

/**
 * One step of a network: the networks dova trains are sequential chains of these, with
 * residual connections expressed by {@link Save} and {@link Residual}.
 */
public sealed interface Op permits Op.Conv, Op.Dense, Op.MaxPool, Op.GlobalAvgPool, Op.Flatten, Op.Save, Op.Residual {
    /**
     * Convolution with square kernel; {@code groups == in == out} is depthwise. With
     * {@code batchNorm}, batch normalization follows the convolution (before the ReLU) in FP32
     * training; {@link BatchNormFolding} folds it into the weights and bias before quantization.
     */
    record Conv(String name, int outChannels, int kernel, int stride, int pad, int groups, boolean relu,
                boolean batchNorm) implements Op {
        public Conv(String name, int outChannels, int kernel, int stride, int pad, int groups, boolean relu) {
            this(name, outChannels, kernel, stride, pad, groups, relu, false);
        }

        /** The same convolution with {@code n} output channels ({@code n} groups if depthwise). */
        public Conv withOutChannels(int n) {
            return new Conv(name, n, kernel, stride, pad, groups == 1 ? 1 : n, relu, batchNorm);
        }
    }

    /** Fully connected layer over a flattened (or globally pooled) input. */
    record Dense(String name, int outputs, boolean relu) implements Op {
    }

    record MaxPool(String name, int kernel, int stride) implements Op {
    }

    record GlobalAvgPool(String name) implements Op {
    }

    record Flatten(String name) implements Op {
    }

    /** Remembers the current tensor under {@code tag} for a later residual add. */
    record Save(String tag) implements Op {
    }

    /** Adds the tensor saved under {@code tag} to the current one, optionally followed by ReLU. */
    record Residual(String name, String tag, boolean relu) implements Op {
    }
}
