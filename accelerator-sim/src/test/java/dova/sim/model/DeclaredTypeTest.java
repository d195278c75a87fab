package dova.sim.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Declared tensor types are promises (docs/datapath.md section 1): a max pool or flatten output
 * declared narrower than its input, or an input declared other than unsigned 8-bit, made the fast
 * and the reference executors disagree; such a model is now refused when it is built or loaded.
 */
class DeclaredTypeTest {
    /** The model of seed 3 with tensor {@code index} re-declared with {@code bits} (as a file could say). */
    private static IntegerModel redeclared(IntegerModel m, int index, boolean signed, int bits) {
        List<TensorSpec> t = new ArrayList<>(m.tensors());
        TensorSpec x = t.get(index);
        t.set(index, new TensorSpec(x.name(), x.channels(), x.height(), x.width(), x.scale(), signed, bits));
        return new IntegerModel(m.name(), m.weightBits(), m.activationBits(), m.accumulatorBits(), m.multiplierBits(), t,
                m.input(), m.output(), m.layers());
    }

    private static IntegerModel withLayer(Class<? extends Layer> kind) {
        for (long seed = 0; seed < 100; seed++) {
            IntegerModel m = RandomModels.model(seed, 8, 8, 32, 32);
            if (m.layers().stream().anyMatch(kind::isInstance)) {
                return m;
            }
        }
        throw new AssertionError("no random model has a " + kind.getSimpleName());
    }

    private static int outputOf(IntegerModel m, Class<? extends Layer> kind) {
        return m.layers().stream().filter(kind::isInstance).findFirst().orElseThrow().output();
    }

    @Test
    void narrowedMaxPoolOutputIsRefusedAtLoad() {
        IntegerModel m = withLayer(MaxPool.class);
        IntegerModel bad = redeclared(m, outputOf(m, MaxPool.class), false, 4);
        String msg = assertThrows(InvalidModelException.class, () -> ModelIo.fromBytes(ModelIo.toBytes(bad))).getMessage();
        assertTrue(msg.contains("does not requantize"), msg);
    }

    @Test
    void narrowedFlattenOutputIsRefused() {
        IntegerModel m = withLayer(Flatten.class);
        String msg = assertThrows(InvalidModelException.class,
                () -> redeclared(m, outputOf(m, Flatten.class), false, 5).validate()).getMessage();
        assertTrue(msg.contains("keeps its input's type"), msg);
    }

    @Test
    void inputDeclaredUnder8BitsIsRefused() {
        IntegerModel m = RandomModels.model(1, 8, 8, 32, 32);
        String msg = assertThrows(InvalidModelException.class, () -> redeclared(m, m.input(), false, 6).validate()).getMessage();
        assertTrue(msg.contains("unsigned 8-bit pixels"), msg);
        assertThrows(InvalidModelException.class, () -> redeclared(m, m.input(), true, 8).validate());
    }

    @Test
    void builderRefusesToNarrowWhatDoesNotRequantize() {
        ModelBuilder b = new ModelBuilder("m", 8, 8, 32, 32);
        int x = b.input("image", 1, 6, 6, 1 / 255.0);
        assertThrows(IllegalArgumentException.class, () -> b.narrow(x, 4));
        int p = b.maxPool("pool", x, 2, 2, 0);
        assertThrows(IllegalArgumentException.class, () -> b.narrow(p, 4));
    }

    @Test
    void executorsAgreeOnModelsThatKeepThePromise() {
        // the same models as above, as declared: fast (native where loaded) and pure Java equal the reference
        for (IntegerModel m : List.of(withLayer(MaxPool.class), withLayer(Flatten.class))) {
            ProcessorConfig cfg = ProcessorConfig.paperTarget(dova.sim.Overflow.SATURATE);
            Executor ref = Executor.reference(m, cfg);
            Executor fast = Executor.fast(m, cfg);
            Executor java = Executor.fastJava(m, cfg);
            Random rnd = new Random(5);
            for (int i = 0; i < 3; i++) {
                byte[] px = RandomModels.image(rnd, m);
                ref.run(px, 0);
                fast.run(px, 0);
                java.run(px, 0);
                assertArrayEquals(ref.logits(), fast.logits());
                assertArrayEquals(ref.logits(), java.logits());
            }
            assertArrayEquals(ref.overflowEvents(), fast.overflowEvents());
            assertArrayEquals(ref.overflowEvents(), java.overflowEvents());
        }
    }
}
