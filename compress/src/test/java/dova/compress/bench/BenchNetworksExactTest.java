package dova.compress.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import org.junit.jupiter.api.Test;

/**
 * The benchmark networks themselves (full-size layers: 112x112 depthwise convolutions with stride 1
 * and 2, 3-channel stems, residual adds) give the same logits and the same per-layer overflow
 * counts on the fast executor as on the reference, in every mode the benchmark measures.
 */
class BenchNetworksExactTest {
    @Test
    void fastExecutorMatchesTheReferenceOnTheBenchmarkNetworks() {
        for (String name : new String[] {"mobilenet224", "resnet28", "worst28"}) {
            IntegerModel m = BenchNetworks.model(name);
            int n = name.equals("mobilenet224") ? 2 : 4;
            byte[] px = BenchNetworks.images(name, m, n);
            for (ProcessorConfig cfg : new ProcessorConfig[] {ProcessorConfig.paperTarget(Overflow.WRAP),
                ProcessorConfig.paperTarget(Overflow.SATURATE), ProcessorConfig.baseline()}) {
                Executor fast = Executor.fast(m, cfg);
                Executor ref = Executor.reference(m, cfg);
                for (int i = 0; i < n; i++) {
                    String what = name + " " + cfg.label() + " image " + i + " (" + Executor.fastPath(m, cfg) + ")";
                    assertEquals(ref.run(px, i * m.inputSpec().size()), fast.run(px, i * m.inputSpec().size()), what);
                    assertArrayEquals(ref.logits(), fast.logits(), what);
                }
                assertArrayEquals(ref.overflowEvents(), fast.overflowEvents(), name + " " + cfg.label());
            }
        }
    }
}
