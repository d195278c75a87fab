package dova.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import dova.compress.net.Architecture;
import dova.compress.net.QuantNet;
import dova.compress.net.QuantTarget;
import dova.compress.train.TrainingLoop;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.Overflow;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The quantization-aware backward pass must not depend on the garbage collector. Every constant
 * in the integer-domain forward pass (requantization factors, residual factors, the wrap span,
 * the logit scale) is a native tensor that autograd keeps for the backward pass; if its Java
 * owner is closed early, a collection between forward and backward frees the memory the
 * gradients are computed from. The test runs forward, forces collections and overwrites freed
 * native memory with NaN bit patterns, runs backward, and requires the gradients to be finite
 * and bit-identical to those of an undisturbed run. The ResNet exercises every constant:
 * residual adds, the global pool and the WRAP simulation.
 */
class QatGradientTest {
    static TrainingLoop loop;
    static LabelledImages data;

    @BeforeAll
    static void setUp() {
        data = TestData.load(DataSet.MNIST, DataSet.Split.TRAIN, 64);
        QuantNet net = new QuantNet(Architecture.RESNET, QuantNet.withoutBatchNorm(Architecture.RESNET.ops(10, 1)), 10, 1, 28,
                28);
        loop = TrainingLoop.create(net, 11);
        loop.calibrate(data, 32);
    }

    @AfterAll
    static void close() {
        loop.model().close();
    }

    private static Map<String, float[]> gradients(boolean disturb) throws InterruptedException {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Trainer trainer = loop.model().newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()));
             NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDList batch = TrainingLoop.batch(trainer.getManager(), data);
            NDArray x = batch.get(0);
            NDArray y = batch.get(1);
            List<ByteBuffer> poison = new ArrayList<>();
            try (GradientCollector gc = trainer.newGradientCollector()) {
                gc.zeroGradients(); // gradients accumulate across backward passes otherwise
                NDList pred = trainer.forward(new NDList(x));
                NDArray loss = trainer.getLoss().evaluate(new NDList(y), pred);
                if (disturb) {
                    for (int round = 0; round < 3; round++) {
                        System.gc();
                        Thread.sleep(50); // direct buffers are freed by the cleaner thread
                    }
                    for (int i = 0; i < 50_000; i++) {
                        ByteBuffer b = ByteBuffer.allocateDirect(4 + (i % 8) * 4);
                        while (b.hasRemaining()) {
                            b.put((byte) 0xff); // 0xffffffff is a NaN
                        }
                        poison.add(b);
                    }
                }
                gc.backward(loss);
            }
            for (Parameter p : loop.net().getDirectParameters().values()) {
                out.put(p.getName(), p.getArray().getGradient().toFloatArray());
            }
            java.lang.ref.Reference.reachabilityFence(poison); // keep the overwritten memory allocated until here
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Overflow.class)
    void gradientsAreFiniteAndIndependentOfCollections(Overflow mode) throws InterruptedException {
        loop.net().quantize(new QuantTarget(16, 12, mode, true, true, false));
        try {
            Map<String, float[]> quiet = gradients(false);
            Map<String, float[]> disturbed = gradients(true);
            assertEquals(quiet.keySet(), disturbed.keySet());
            int nonZero = 0;
            for (var e : quiet.entrySet()) {
                for (float g : disturbed.get(e.getKey())) {
                    assertTrue(Float.isFinite(g), e.getKey() + ": non-finite gradient " + g);
                    nonZero += g != 0 ? 1 : 0;
                }
                assertArrayEquals(e.getValue(), disturbed.get(e.getKey()), e.getKey() + ": gradient changed");
            }
            assertTrue(nonZero > 1000, "the backward pass reached the parameters: " + nonZero + " non-zero gradients");
        } finally {
            loop.net().setMode(QuantNet.Mode.FP32);
        }
    }
}
