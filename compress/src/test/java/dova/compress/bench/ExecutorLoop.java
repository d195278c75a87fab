package dova.compress.bench;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;

/**
 * Runs one benchmark network on the fast executor in a loop for a given time and prints images per
 * second: a target for {@code perf record} when working on the kernels.
 *   scripts/run-test-main.sh compress dova.compress.bench.ExecutorLoop resnet28 a16-wrap 10
 */
public final class ExecutorLoop {
    private ExecutorLoop() {
    }

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "resnet28";
        String cfgName = args.length > 1 ? args[1] : "a16-wrap";
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 10;
        ProcessorConfig cfg = switch (cfgName) {
            case "a16-wrap" -> ProcessorConfig.paperTarget(Overflow.WRAP);
            case "a16-saturate" -> ProcessorConfig.paperTarget(Overflow.SATURATE);
            case "a32" -> ProcessorConfig.baseline();
            default -> throw new IllegalArgumentException("config must be a16-wrap, a16-saturate or a32, got " + cfgName);
        };
        IntegerModel m = BenchNetworks.model(name);
        int n = 32;
        byte[] px = BenchNetworks.images(name, m, n);
        Executor e = Executor.fast(m, cfg);
        System.out.println(name + " " + cfg.label() + ": " + Executor.fastPath(m, cfg));
        long images = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            for (int i = 0; i < n; i++) {
                e.run(px, i * m.inputSpec().size());
            }
            images += n;
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%d images in %.2f s: %.1f images/s, %.2f GMAC/s, %d overflow events%n", images, s, images / s,
                images * (double) m.macs() / s / 1e9, e.totalOverflowEvents());
        long[] ev = e.overflowEvents();
        for (int i = 0; i < ev.length; i++) {
            if (ev[i] > 0) {
                System.out.println("  " + m.layers().get(i).name() + ": " + ev[i]);
            }
        }
    }
}
