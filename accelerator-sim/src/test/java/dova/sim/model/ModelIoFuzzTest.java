package dova.sim.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A seeded mutation loop over valid model files. Mutated bodies are re-sealed (their checksum
 * recomputed, as a hostile writer would) so that the parser itself is exercised. Every case must
 * load or be refused with an {@link InvalidModelException}; nothing else may escape, and no case
 * may allocate more than a small multiple of its file size.
 */
class ModelIoFuzzTest {
    private static final int CASES = 20_000;

    @Test
    void mutatedAndResealedFilesLoadOrAreRefusedAndNothingElse() throws Exception {
        Random rnd = new Random(1201);
        byte[][] seeds = new byte[6][];
        for (int i = 0; i < seeds.length; i++) {
            seeds[i] = ModelIo.toBytes(RandomModels.model(i, 8, 8, 32, 32));
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int loaded = 0;
        int refused = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] f = mutate(rnd, seeds[rnd.nextInt(seeds.length)]);
            long before = mx.getCurrentThreadAllocatedBytes();
            try {
                ModelIo.fromBytes(f);
                loaded++;
            } catch (InvalidModelException e) {
                refused++;
            } catch (Throwable t) {
                fail("case " + i + ": " + t + " escaped the model reader", t);
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 64L * f.length + (1 << 20), "case " + i + " allocated " + allocated + " bytes for a "
                    + f.length + "-byte file");
        }
        System.out.printf("model reader fuzz: %d cases, %d loaded, %d refused%n", CASES, loaded, refused);
        assertTrue(refused > CASES / 2, "the mutations must mostly break files for the test to mean anything");
    }

    /** A mutated body, re-sealed: header and checksum consistent with the new body. */
    static byte[] mutate(Random rnd, byte[] file) throws Exception {
        int start = ModelIo.MAGIC.length + 12;
        byte[] body = Arrays.copyOfRange(file, start, file.length - 32);
        switch (rnd.nextInt(4)) {
            case 0 -> {
                for (int k = 1 + rnd.nextInt(6); k > 0; k--) {
                    body[rnd.nextInt(body.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> body = Arrays.copyOf(body, rnd.nextInt(body.length));
            case 2 -> { // an int somewhere set to an extreme (counts, shapes, indices)
                int[] extremes = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 65_536, 1 << 20};
                int at = rnd.nextInt(Math.max(1, body.length - 4));
                ByteBuffer.wrap(body).putInt(at, extremes[rnd.nextInt(extremes.length)]);
            }
            default -> {
                for (int k = 1 + rnd.nextInt(16); k > 0; k--) {
                    body[rnd.nextInt(body.length)] = (byte) rnd.nextInt(256);
                }
            }
        }
        ByteBuffer out = ByteBuffer.allocate(start + body.length + 32);
        out.put(ModelIo.MAGIC).putInt(ModelIo.VERSION).putLong(body.length).put(body)
                .put(java.security.MessageDigest.getInstance("SHA-256").digest(body));
        return out.array();
    }
}
