package dova.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dova.compress.net.Architecture;
import dova.compress.net.BatchNormFolding;
import dova.compress.net.Exporter;
import dova.compress.net.Pruner;
import dova.compress.net.QuantNet;
import dova.compress.net.QuantTarget;
import dova.compress.train.TrainingLoop;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Folding batch norm into the convolutions preserves the FP32 network's outputs; unfolded networks cannot be quantized. */
class BatchNormFoldingTest {
    static TrainingLoop loop;
    static TrainingLoop foldedLoop;
    static LabelledImages test;

    @BeforeAll
    static void train() {
        LabelledImages train = TestData.load(DataSet.MNIST, DataSet.Split.TRAIN, 640);
        test = TestData.load(DataSet.MNIST, DataSet.Split.TEST, 200);
        QuantNet net = new QuantNet(Architecture.RESNET, Architecture.RESNET.ops(10, 1), 10, 1, 28, 28);
        loop = TrainingLoop.create(net, 3);
        loop.fit("fp32", train, 1, 32, 1e-3f, 3, System.err, null); // moves the running statistics
        QuantNet folded = new QuantNet(Architecture.RESNET, QuantNet.withoutBatchNorm(net.ops()), 10, 1, 28, 28);
        foldedLoop = TrainingLoop.create(folded, 4);
        assertEquals(15, BatchNormFolding.fold(net, folded), "every conv of the ResNet has batch norm");
    }

    @AfterAll
    static void close() {
        loop.model().close();
        foldedLoop.model().close();
    }

    private static float[] logits(TrainingLoop l, LabelledImages data) {
        NDManager mgr = l.model().getNDManager().newSubManager();
        try (mgr) {
            NDArray x = TrainingLoop.batch(mgr, data).get(0);
            return l.net().forward(new ParameterStore(mgr, false), new NDList(x), false).singletonOrThrow().toFloatArray();
        }
    }

    @Test
    void foldedNetworkComputesTheSameFunction() {
        float[] gammaOrMean = loop.net().batchNorm("s1b0c1").runningMean().getArray().toFloatArray();
        double moved = 0;
        for (float v : gammaOrMean) {
            moved += Math.abs(v);
        }
        assertTrue(moved > 0, "training moved the running means off zero, so folding has work to do");
        float[] before = logits(loop, test);
        float[] after = logits(foldedLoop, test);
        double maxAbs = 0;
        double maxDiff = 0;
        for (int i = 0; i < before.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(before[i]));
            maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
        }
        assertTrue(maxDiff <= 1e-4 * Math.max(1, maxAbs), "logits differ by " + maxDiff + " (largest " + maxAbs + ")");
        assertArrayEquals(loop.predict(test, 100), foldedLoop.predict(test, 100));
    }

    @Test
    void unfoldedNetworksAreRefusedByQuantizationExportAndPruning() {
        QuantNet net = loop.net();
        loop.calibrate(test, 100);
        net.quantize(QuantTarget.PAPER);
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loop.predict(test, 100));
            assertTrue(e.getMessage().contains("must be folded"), e.getMessage());
        } finally {
            net.setMode(QuantNet.Mode.FP32);
        }
        assertTrue(assertThrows(IllegalStateException.class, () -> Exporter.export(net, "resnet", 16, 12))
                .getMessage().contains("batch norm"));
        assertTrue(assertThrows(IllegalStateException.class, () -> Pruner.plan(net, 16, 0.5))
                .getMessage().contains("fold batch norm"));
        assertThrows(IllegalArgumentException.class, () -> BatchNormFolding.fold(net, net));
    }
}
