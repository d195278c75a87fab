package dova.sim.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The codes the model format writes are the ones docs/model-format.md lists, whatever the constants' order. */
class WireCodeTest {
    @Test
    void layerKindAndActivationCodesAreTheDocumentedOnes() {
        Map<Layer.Kind, Integer> kinds = Map.of(Layer.Kind.CONV2D, 0, Layer.Kind.ADD, 1, Layer.Kind.MAX_POOL, 2,
                Layer.Kind.AVG_POOL, 3, Layer.Kind.GLOBAL_AVG_POOL, 4, Layer.Kind.FLATTEN, 5);
        assertEquals(Layer.Kind.values().length, kinds.size(), "a new kind needs its code pinned here and documented");
        kinds.forEach((k, c) -> {
            assertEquals(c, k.code(), k.name());
            assertEquals(k, WireCode.byCode(Layer.Kind.class, c).orElseThrow());
        });
        Map<Activation, Integer> acts = Map.of(Activation.NONE, 0, Activation.RELU, 1, Activation.RELU6, 2);
        assertEquals(Activation.values().length, acts.size());
        acts.forEach((a, c) -> assertEquals(c, a.code(), a.name()));
        assertTrue(WireCode.byCode(Activation.class, 3).isEmpty());
        assertTrue(WireCode.byCode(Layer.Kind.class, 255).isEmpty());
    }
}
