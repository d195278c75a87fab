package dova.sim.model;

import java.util.List;

/**
 * Grouped 2-D convolution (dense: {@code groups = 1}; depthwise: {@code groups = inChannels
 * = outChannels}; fully connected: a 1x1 kernel over a 1x1 map). Output shape:
 * {@code outH = (inH + 2*padH - kernelH) / strideH + 1}, likewise for width.
 *
 * <p>Weights are laid out {@code [outChannel][inChannel / groups][kernelY][kernelX]};
 * output channel {@code c} belongs to group {@code c / (outChannels / groups)}. Requantization
 * of channel {@code c} uses the real multiplier {@code R[c] = Sx * weightScales[c] / Sy}
 * and its {@code M}-bit form {@code multipliers[c] / 2^shifts[c]}.
 */
public record Conv2d(String name, int input, int output, int outChannels, int inChannels, int kernelH, int kernelW,
                     int strideH, int strideW, int padH, int padW, int groups, byte[] weights, int[] bias,
                     double[] weightScales, long[] multipliers, int[] shifts, Activation activation) implements Layer {

    @Override
    public List<Integer> inputs() {
        return List.of(input);
    }

    @Override
    public Kind kind() {
        return Kind.CONV2D;
    }

    public int inChannelsPerGroup() {
        return inChannels / groups;
    }

    public int outChannelsPerGroup() {
        return outChannels / groups;
    }

    public boolean depthwise() {
        return groups > 1 && groups == inChannels && groups == outChannels;
    }

    public int outHeight(int inH) {
        return (inH + 2 * padH - kernelH) / strideH + 1;
    }

    public int outWidth(int inW) {
        return (inW + 2 * padW - kernelW) / strideW + 1;
    }

    /** Index of weight {@code (outChannel, inChannelInGroup, ky, kx)}. */
    public int weightIndex(int oc, int icg, int ky, int kx) {
        return ((oc * inChannelsPerGroup() + icg) * kernelH + ky) * kernelW + kx;
    }

    /** Copy with new requantization multipliers and shifts. */
    public Conv2d withRequant(long[] m, int[] s) {
        return new Conv2d(name, input, output, outChannels, inChannels, kernelH, kernelW, strideH, strideW, padH, padW,
                groups, weights, bias, weightScales, m, s, activation);
    }
}
