package dova.calibrate.bench;

import dova.calibrate.observe.LogHistogram;
import dova.calibrate.observe.MinMax;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Values per second into the range observers: scripts/run-test-main.sh calibrate org.openjdk.jmh.Main ObserverBenchmark. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class ObserverBenchmark {
    static final int N = 4096;
    double[] values = new double[N];
    LogHistogram histogram = new LogHistogram();
    MinMax minMax = new MinMax();

    @Setup
    public void setup() {
        Random r = new Random(1);
        for (int i = 0; i < N; i++) {
            values[i] = r.nextGaussian() * 1000;
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void logHistogram() {
        for (double v : values) {
            histogram.add(v);
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void minMax() {
        for (double v : values) {
            minMax.add(v);
        }
    }
}
