package dova.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.calibrate.observe.LogHistogram;
import dova.calibrate.observe.MinMax;
import dova.calibrate.observe.MovingMinMax;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ObserversTest {
    @Test
    void histogramMemoryStaysBoundedOverTenMillionValues() {
        LogHistogram h = new LogHistogram();
        int binsBefore = h.counts().length;
        Random r = new Random(1);
        for (int i = 0; i < 10_000_000; i++) {
            h.add(r.nextGaussian() * Math.scalb(1.0, r.nextInt(40) - 20));
        }
        assertEquals(10_000_000, h.count());
        assertEquals(binsBefore, h.counts().length, "no bins were added");
        assertEquals(8L * LogHistogram.BINS + 16, LogHistogram.memoryBytes());
        assertTrue(LogHistogram.memoryBytes() < 16 * 1024, "about 10 KiB whatever the stream length");
    }

    @Test
    void percentilesAreWithinOneBinOfTheExactValue() {
        Random r = new Random(2);
        double[] v = new double[200_000];
        LogHistogram h = new LogHistogram();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(r.nextGaussian() * 3);
            h.add(v[i]);
        }
        Arrays.sort(v);
        for (double p : new double[] {0.5, 0.9, 0.99, 0.9999}) {
            double exact = v[(int) Math.ceil(p * v.length) - 1];
            double est = h.percentile(p);
            // the estimate is the upper edge of the bin holding the exact value: at most 1/16 above it
            assertTrue(est >= exact && est <= exact * (1 + 1.0 / 16) * 1.0001, p + ": " + est + " vs " + exact);
        }
        assertEquals(0.0, h.shareAbove(1e9));
    }

    @Test
    void mergedObserversEqualOneObserverOfEverything() {
        Random r = new Random(3);
        LogHistogram all = new LogHistogram();
        LogHistogram a = new LogHistogram();
        LogHistogram b = new LogHistogram();
        MinMax mAll = new MinMax();
        MinMax mA = new MinMax();
        MinMax mB = new MinMax();
        for (int i = 0; i < 100_000; i++) {
            double x = r.nextGaussian() * 100;
            all.add(x);
            mAll.add(x);
            if (i % 3 == 0) {
                a.add(x);
                mA.add(x);
            } else {
                b.add(x);
                mB.add(x);
            }
        }
        a.merge(b);
        mA.merge(mB);
        assertArrayEquals(all.counts(), a.counts());
        assertEquals(mAll.min(), mA.min());
        assertEquals(mAll.max(), mA.max());
        assertEquals(mAll.count(), mA.count());
    }

    @Test
    void movingMinMaxFollowsRecentBatches() {
        MovingMinMax m = new MovingMinMax(0.5);
        m.addBatch(-1, 1);
        m.addBatch(-3, 3);
        assertEquals(-2, m.min(), 1e-12);
        assertEquals(2, m.max(), 1e-12);
        MovingMinMax other = new MovingMinMax(0.5);
        other.addBatch(-6, 6);
        m.merge(other); // 2 batches at 2, 1 batch at 6: weighted 10/3
        assertEquals(10.0 / 3, m.max(), 1e-12);
        assertEquals(3, m.batches());
    }
}
