package dova.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.compress.net.Architecture;
import dova.compress.net.Checkpoint;
import dova.compress.net.QuantNet;
import dova.compress.train.TrainingLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @Test
    void roundTripsParametersAndQuantizationState(@TempDir Path dir) throws Exception {
        QuantNet a = new QuantNet(Architecture.LENET, Architecture.LENET.ops(10, 1), 10, 1, 28, 28);
        TrainingLoop la = TrainingLoop.create(a, 1);
        a.state().activationScales.put("conv1", 0.25);
        a.state().weightLimits.put("conv2", 17);
        a.state().activationBits.put("conv1", 6);
        int[] perChannel = new int[16];
        java.util.Arrays.fill(perChannel, 127);
        perChannel[3] = 9;
        a.state().channelLimits.put("conv1", perChannel);
        Path f = dir.resolve("a.ckpt");
        Checkpoint.save(a, 3, f);
        QuantNet b = new QuantNet(Architecture.LENET, Architecture.LENET.ops(10, 1), 10, 1, 28, 28);
        TrainingLoop lb = TrainingLoop.create(b, 2);
        assertEquals(3, Checkpoint.load(b, f));
        assertArrayEquals(a.weight("conv2").getArray().toFloatArray(), b.weight("conv2").getArray().toFloatArray());
        assertEquals(0.25, b.state().activationScales.get("conv1"));
        assertEquals(17, b.state().weightLimits.get("conv2"));
        assertEquals(6, b.state().activationBits.get("conv1"));
        org.junit.jupiter.api.Assertions.assertArrayEquals(perChannel, b.state().channelLimits.get("conv1"),
                "per-channel weight limits survive the round trip");
        la.model().close();
        lb.model().close();
    }

    @Test
    void checkpointOfAnotherArchitectureOrTruncatedIsRefusedBeforeAnythingChanges(@TempDir Path dir) throws Exception {
        QuantNet lenet = new QuantNet(Architecture.LENET, Architecture.LENET.ops(10, 1), 10, 1, 28, 28);
        TrainingLoop l1 = TrainingLoop.create(lenet, 1);
        Path f = dir.resolve("lenet.ckpt");
        Checkpoint.save(lenet, 1, f);
        QuantNet resnet = new QuantNet(Architecture.RESNET, Architecture.RESNET.ops(10, 1), 10, 1, 28, 28);
        TrainingLoop l2 = TrainingLoop.create(resnet, 1);
        float[] before = resnet.weight("stem").getArray().toFloatArray();
        String m = assertThrows(IOException.class, () -> Checkpoint.load(resnet, f)).getMessage();
        assertTrue(m.contains("architecture 'lenet', not 'resnet'"), m);
        assertArrayEquals(before, resnet.weight("stem").getArray().toFloatArray());
        byte[] bytes = Files.readAllBytes(f);
        Path cut = Files.write(dir.resolve("cut.ckpt"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        String t = assertThrows(IOException.class, () -> Checkpoint.load(lenet, cut)).getMessage();
        assertTrue(t.contains("truncated"), t);
        l1.model().close();
        l2.model().close();
    }
}
