package dova.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.calibrate.observe.RangeProfile;
import dova.sim.model.IntegerModel;
import dova.sim.model.RandomModels;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A profile shared between replicas as bytes comes back equal, and damaged bytes are refused by name. */
class RangeSnapshotTest {
    private static RangeProfile profile(long seed, int images) {
        IntegerModel model = RandomModels.model(seed, 5, 8, 16, 16, true);
        RangeProfile.Collector c = new RangeProfile.Collector(model);
        Random rnd = new Random(seed);
        for (int i = 0; i < images; i++) {
            c.add(RandomModels.image(rnd, model), 0);
        }
        return c.profile();
    }

    private static void assertSame(RangeProfile a, RangeProfile b) {
        assertEquals(a.images(), b.images());
        assertArrayEquals(a.pixelHistogram(), b.pixelHistogram());
        assertEquals(a.layers().keySet().stream().toList(), b.layers().keySet().stream().toList(), "layers in order");
        a.layers().forEach((name, r) -> {
            RangeProfile.LayerRange s = b.layers().get(name);
            assertEquals(r.accumulator.min(), s.accumulator.min(), name);
            assertEquals(r.accumulator.max(), s.accumulator.max(), name);
            assertEquals(r.accumulator.count(), s.accumulator.count(), name);
            assertArrayEquals(r.realOutput.counts(), s.realOutput.counts(), name);
            assertEquals(r.realOutput.percentile(0.999), s.realOutput.percentile(0.999), name);
        });
    }

    @Test
    void aSnapshotRoundTripsAndMergesAsTheProfileDoes() {
        RangeProfile a = profile(1, 12);
        RangeProfile b = profile(1, 7);
        assertSame(a, RangeProfile.fromBytes(a.toBytes()));
        assertSame(new RangeProfile(), RangeProfile.fromBytes(new RangeProfile().toBytes()));
        RangeProfile direct = a.copy();
        direct.merge(b);
        RangeProfile viaBytes = RangeProfile.fromBytes(a.toBytes());
        viaBytes.merge(RangeProfile.fromBytes(b.toBytes()));
        assertSame(direct, viaBytes);
    }

    @Test
    void damagedSnapshotsAreRefused() {
        byte[] whole = profile(2, 5).toBytes();
        for (int n = 0; n < whole.length; n += 13) {
            byte[] cut = Arrays.copyOf(whole, n);
            assertThrows(IllegalArgumentException.class, () -> RangeProfile.fromBytes(cut), "truncated to " + n);
        }
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RangeProfile.fromBytes(longer)).getMessage()
                .contains("after its last layer"));
        byte[] layers = whole.clone();
        ByteBuffer.wrap(layers).putInt(8 + 8 + 256 * 8, Integer.MAX_VALUE); // a hostile layer count: nothing allocated
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RangeProfile.fromBytes(layers)).getMessage()
                .contains("layers"));
        byte[] negative = whole.clone();
        ByteBuffer.wrap(negative).putLong(8, -1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RangeProfile.fromBytes(negative)).getMessage()
                .contains("negative image count"));
        byte[] magic = whole.clone();
        magic[0] = 'X';
        assertThrows(IllegalArgumentException.class, () -> RangeProfile.fromBytes(magic));
    }
}
