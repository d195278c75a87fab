package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.serve.pool.Deployment;
import dova.serve.pool.Inference;
import dova.serve.pool.ProcessorPool;
import dova.serve.registry.ModelRegistry;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.ModelIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryAndPoolTest {
    static final Path SHIPPED = Path.of("..", "models", "lenet-mnist-a16m12-wrap.dova");

    @Test
    void registrySeedsPublishesAndRollsBack(@TempDir Path dir) throws Exception {
        ModelRegistry r = new ModelRegistry(dir);
        assertEquals(1, r.seed(SHIPPED));
        assertEquals(1, r.seed(SHIPPED), "seeding twice keeps the registry");
        IntegerModel m = r.load(1);
        int v2 = r.publish(m, "second");
        assertEquals(2, v2);
        assertEquals(1, r.currentVersion(), "publishing does not switch");
        r.makeCurrent(2);
        assertEquals(2, r.currentVersion());
        r.makeCurrent(1);
        assertEquals(1, r.currentVersion());
        assertEquals(List.of(1, 2), r.list().stream().map(ModelRegistry.Version::number).toList());
        assertTrue(r.list().get(0).current());
        String missing = assertThrows(IOException.class, () -> r.makeCurrent(7)).getMessage();
        assertTrue(missing.contains("no version 7"), missing);
    }

    @Test
    void aPointerThatCannotBeTrustedStopsInsteadOfReseeding(@TempDir Path dir) throws Exception {
        ModelRegistry r = new ModelRegistry(dir);
        r.seed(SHIPPED);
        int v2 = r.publish(ModelIo.read(SHIPPED), "second");
        r.makeCurrent(v2);
        for (String bad : new String[] {"0", "-3", "7", "two"}) {
            Files.writeString(dir.resolve("CURRENT"), bad + "\n");
            IOException e = assertThrows(IOException.class, () -> r.seed(SHIPPED), bad);
            assertTrue(e.getMessage().contains("rollback"), e.getMessage());
            assertEquals(bad + "\n", Files.readString(dir.resolve("CURRENT")), "the pointer is left as it was");
            assertEquals(2, r.list().size(), "versions can still be listed");
        }
        Files.delete(dir.resolve("CURRENT"));
        IOException e = assertThrows(IOException.class, () -> r.seed(SHIPPED));
        assertTrue(e.getMessage().contains("no CURRENT pointer"), e.getMessage());
        assertEquals(2, r.list().size(), "nothing was re-seeded");
        r.makeCurrent(1);
        assertEquals(1, r.seed(SHIPPED), "rollback repairs it");
    }

    @Test
    void aTamperedModelThatReSealsItsChecksumIsRefusedWhenARegistrySigns(@TempDir Path dir) throws Exception {
        dova.serve.registry.ModelTrust trust = dova.serve.registry.ModelTrust.of("00112233445566778899aabbccddeeff", false);
        ModelRegistry r = new ModelRegistry(dir, trust);
        assertEquals(1, r.seed(SHIPPED));
        int v2 = r.publish(ModelIo.read(SHIPPED), "second");
        r.makeCurrent(v2);
        // re-sealed with the project's own writer: the file checksum is valid, the signature is not
        IntegerModel m = ModelIo.read(SHIPPED);
        List<dova.sim.model.Layer> layers = new ArrayList<>(m.layers());
        dova.sim.model.Conv2d last = (dova.sim.model.Conv2d) layers.get(layers.size() - 1);
        byte[] negated = last.weights().clone();
        for (int i = 0; i < negated.length; i++) {
            negated[i] = (byte) -negated[i];
        }
        layers.set(layers.size() - 1, new dova.sim.model.Conv2d(last.name(), last.input(), last.output(), last.outChannels(),
                last.inChannels(), last.kernelH(), last.kernelW(), last.strideH(), last.strideW(), last.padH(), last.padW(),
                last.groups(), negated, last.bias(), last.weightScales(), last.multipliers(), last.shifts(), last.activation()));
        ModelIo.write(new IntegerModel(m.name(), m.weightBits(), m.activationBits(), m.accumulatorBits(), m.multiplierBits(),
                m.tensors(), m.input(), m.output(), layers), dir.resolve("v0001.dova"));
        IOException e = assertThrows(IOException.class, () -> r.makeCurrent(1), "rollback to the tampered version");
        assertTrue(e.getMessage().contains("signature does not verify"), e.getMessage());
        assertEquals(v2, r.currentVersion(), "the pointer did not move");
        // an unsigned version is refused too, unless the operator allows unsigned models
        Files.delete(dir.resolve("v0002.sig"));
        IOException u = assertThrows(IOException.class, () -> r.load(v2));
        assertTrue(u.getMessage().contains("is not signed"), u.getMessage());
        assertEquals(ModelIo.read(SHIPPED).name(), new ModelRegistry(dir, dova.serve.registry.ModelTrust.of(
                "00112233445566778899aabbccddeeff", true)).load(v2).name());
        assertTrue(!trust.toString().contains("0011"), "the key never appears: " + trust);
        assertThrows(IllegalArgumentException.class, () -> dova.serve.registry.ModelTrust.of("abcd", false));
    }

    @Test
    void aRegistryPathThatIsAFileIsNamedAsSuch(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("registry"), "x");
        IOException e = assertThrows(IOException.class, () -> new ModelRegistry(file));
        assertTrue(e.getMessage().contains("is a file, not a folder") && e.getMessage().contains("DOVA_MODEL_REGISTRY"),
                e.getMessage());
    }

    @Test
    void corruptVersionIsRefusedOnLoad(@TempDir Path dir) throws Exception {
        ModelRegistry r = new ModelRegistry(dir);
        r.seed(SHIPPED);
        Path f = dir.resolve("v0001.dova");
        byte[] b = Files.readAllBytes(f);
        b[b.length / 3] ^= 0x10;
        Files.write(f, b);
        String m = assertThrows(InvalidModelException.class, () -> r.load(1)).getMessage();
        assertTrue(m.contains("checksum mismatch"), m);
        String seed = assertThrows(IOException.class, () -> new ModelRegistry(dir.resolve("x")).seed(dir.resolve("none.dova")))
                .getMessage();
        assertTrue(seed.contains("dova.model.initial"), seed);
    }

    @Test
    void hotSwapUnderLoadDropsNothingAndEveryResultNamesItsVersion() throws Exception {
        IntegerModel m = ModelIo.read(SHIPPED);
        ProcessorConfig cfg = ProcessorConfig.paperTarget(Overflow.WRAP);
        try (ProcessorPool pool = new ProcessorPool(List.of(cfg, cfg), new Deployment(1, m), 4096)) {
            byte[] px = new byte[784];
            Set<Integer> versions = new HashSet<>();
            for (int round = 0; round < 5; round++) {
                List<CompletableFuture<Inference>> batch = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    px[i % 784] = (byte) i;
                    batch.add(pool.submit(px.clone()));
                }
                batch.get(150).get(30, TimeUnit.SECONDS);
                pool.swap(new Deployment(round + 2, m)); // while the rest of the batch is queued or running
                for (CompletableFuture<Inference> f : batch) {
                    int v = f.get(30, TimeUnit.SECONDS).modelVersion(); // throws if a frame failed
                    assertTrue(v == round + 1 || v == round + 2, "round " + round + " served by v" + v);
                    versions.add(v);
                }
            }
            // frames submitted after the last swap are served by it (the frames of a round may all finish
            // before its swap: the executor is fast enough on a 300-frame batch)
            for (int i = 0; i < 10; i++) {
                int v = pool.submit(px.clone()).get(30, TimeUnit.SECONDS).modelVersion();
                assertEquals(6, v, "a frame submitted after the last swap");
                versions.add(v);
            }
            assertEquals(6, versions.size(), "every version served some frames: " + versions);
        }
    }

    @Test
    void aModelThatCannotRunOnEveryProcessorIsRefusedAndNothingChanges() throws Exception {
        IntegerModel m = ModelIo.read(SHIPPED);
        ProcessorConfig a16 = ProcessorConfig.paperTarget(Overflow.WRAP);
        ProcessorConfig a10 = ProcessorConfig.baseline().withAccumulator(10, Overflow.WRAP);
        try (ProcessorPool pool = new ProcessorPool(List.of(a16), new Deployment(1, m), 16)) {
            IntegerModel wide = m.withAccumulatorBits(32);
            pool.swap(new Deployment(2, wide));
            assertEquals(2, pool.current().version());
        }
        // a pool with an A10 processor: the shipped model's biases exceed 10 bits
        String msg = assertThrows(InvalidModelException.class,
                () -> new ProcessorPool(List.of(a16, a10), new Deployment(1, m), 16)).getMessage();
        assertTrue(msg.contains("10-bit accumulator"), msg);
    }
}
