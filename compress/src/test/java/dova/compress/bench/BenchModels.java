package dova.compress.bench;

import dova.compress.net.Architecture;
import dova.compress.net.Exporter;
import dova.compress.net.Op;
import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
import dova.sim.data.LabelledImages;
import dova.sim.model.IntegerModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The benchmark networks, built once as DJL blocks and exported to the integer format with the same weights. */
final class BenchModels {
    private BenchModels() {
    }

    /** MobileNet-v1-style at width 0.5 for 224x224x3 input: depthwise 3x3 + pointwise 1x1 blocks, 1000 classes. */
    static List<Op> mobilenet224() {
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Conv("stem", 16, 3, 2, 1, 1, true));
        int[][] blocks = {{16, 32, 1}, {32, 64, 2}, {64, 64, 1}, {64, 128, 2}, {128, 128, 1}, {128, 256, 2},
            {256, 256, 1}, {256, 256, 1}, {256, 256, 1}, {256, 512, 2}, {512, 512, 1}};
        for (int i = 0; i < blocks.length; i++) {
            ops.add(new Op.Conv("dw" + i, blocks[i][0], 3, blocks[i][2], 1, blocks[i][0], true));
            ops.add(new Op.Conv("pw" + i, blocks[i][1], 1, 1, 0, 1, true));
        }
        ops.add(new Op.GlobalAvgPool("gap"));
        ops.add(new Op.Dense("fc", 1000, false));
        return ops;
    }

    static QuantNet net(String name) {
        return switch (name) {
            case "resnet28" -> new QuantNet(Architecture.RESNET, QuantNet.withoutBatchNorm(Architecture.RESNET.ops(10, 1)), 10, 1,
                    28, 28);
            case "mobilenet224" -> new QuantNet(Architecture.MOBILENET, mobilenet224(), 1000, 3, 224, 224);
            default -> throw new IllegalArgumentException("unknown benchmark model " + name);
        };
    }

    static int classes(String name) {
        return "mobilenet224".equals(name) ? 1000 : 10;
    }

    /** Random images of the network's input size (values 0..255). */
    static byte[] images(QuantNet net, int n, long seed) {
        int size = (int) net.inputShape().size();
        byte[] px = new byte[n * size];
        new Random(seed).nextBytes(px);
        return px;
    }

    /** Calibrates on random images and exports at A32/M32 (random weights: this is about speed, not accuracy). */
    static IntegerModel export(TrainingLoop loop, String name) {
        QuantNet net = loop.net();
        int c = (int) net.inputShape().get(0);
        int h = (int) net.inputShape().get(1);
        int w = (int) net.inputShape().get(2);
        if (c != 1) {
            // calibration goes through LabelledImages, which is single-channel: calibrate at 1 channel's worth of
            // pixels per image laid out as c*h rows (the scales only need typical magnitudes)
            h = c * h;
        }
        int n = 8;
        byte[] px = new byte[n * h * w];
        new Random(1).nextBytes(px);
        LabelledImages calib = new LabelledImages("random", n, h, w, px, new byte[n]);
        if (c != 1) {
            net.state().activationScales.clear();
            for (String op : net.outputQmax().keySet()) {
                net.state().activationScales.put(op, 0.05);
            }
        } else {
            loop.calibrate(calib, n);
        }
        return Exporter.export(net, name, 32, 32);
    }
}
