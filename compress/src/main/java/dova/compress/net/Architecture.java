package dova.compress.net;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The networks dova trains. Every conv layer's channel count is a multiple of 16 (the
 * processor's lane count) from the start; pruning keeps it so.
 */
public enum Architecture {
    /** LeNet-style: two 3x3 conv + max-pool stages (16, 32 channels) and a classifier, for MNIST. */
    LENET,
    /**
     * ResNet-20-like: a stem and three stages of two residual blocks (16, 32, 64 channels), every
     * conv followed by batch norm (folded before quantization), for Fashion-MNIST.
     */
    RESNET,
    /** MobileNet-style: depthwise 3x3 + pointwise 1x1 blocks, each with batch norm, for Fashion-MNIST. */
    MOBILENET;

    public static Architecture parse(String name) {
        for (Architecture a : values()) {
            if (a.name().equalsIgnoreCase(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: "
                + Arrays.stream(values()).map(a -> a.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The op chain for {@code classes} outputs; {@code width} scales channel counts (1 = as documented). */
    public List<Op> ops(int classes, int width) {
        List<Op> ops = new ArrayList<>();
        switch (this) {
            case LENET -> {
                ops.add(new Op.Conv("conv1", 16 * width, 3, 1, 1, 1, true));
                ops.add(new Op.MaxPool("pool1", 2, 2));
                ops.add(new Op.Conv("conv2", 32 * width, 3, 1, 1, 1, true));
                ops.add(new Op.MaxPool("pool2", 2, 2));
                ops.add(new Op.Flatten("flatten"));
                ops.add(new Op.Dense("fc", classes, false));
            }
            case RESNET -> {
                ops.add(new Op.Conv("stem", 16 * width, 3, 1, 1, 1, true, true));
                int[] channels = {16 * width, 32 * width, 64 * width};
                for (int stage = 0; stage < 3; stage++) {
                    if (stage > 0) {
                        ops.add(new Op.Conv("down" + stage, channels[stage], 3, 2, 1, 1, true, true));
                    }
                    for (int block = 0; block < 2; block++) {
                        String tag = "s" + stage + "b" + block;
                        ops.add(new Op.Save(tag));
                        ops.add(new Op.Conv(tag + "c1", channels[stage], 3, 1, 1, 1, true, true));
                        ops.add(new Op.Conv(tag + "c2", channels[stage], 3, 1, 1, 1, false, true));
                        ops.add(new Op.Residual(tag + "add", tag, true));
                    }
                }
                ops.add(new Op.GlobalAvgPool("gap"));
                ops.add(new Op.Dense("fc", classes, false));
            }
            case MOBILENET -> {
                ops.add(new Op.Conv("stem", 16 * width, 3, 2, 1, 1, true, true));
                int[][] blocks = {{16, 32, 1}, {32, 64, 2}, {64, 64, 1}, {64, 128, 2}};
                for (int i = 0; i < blocks.length; i++) {
                    int in = blocks[i][0] * width;
                    ops.add(new Op.Conv("dw" + i, in, 3, blocks[i][2], 1, in, true, true));
                    ops.add(new Op.Conv("pw" + i, blocks[i][1] * width, 1, 1, 0, 1, true, true));
                }
                ops.add(new Op.GlobalAvgPool("gap"));
                ops.add(new Op.Dense("fc", classes, false));
            }
            default -> throw new IllegalStateException();
        }
        return ops;
    }
}
