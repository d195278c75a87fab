package dova.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The datapath profiles against this CPU's own instructions: a C program (src/test/c/silicon.c,
 * built here with gcc) runs vpmaddubsw + vpmaddwd + vpaddd, and vpdpbusd where the CPU has
 * AVX512-VNNI, on seeded random vectors and on the edge cases (every product 255 x 127, alternating
 * signs, all -128); the profiles' dot products must equal its int32 results bit for bit.
 */
class SiliconProfileTest {
    static boolean run(Path dir, List<String> cmd, StringBuilder out) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    @Test
    void theProfilesReproduceTheCpusInt8Instructions(@TempDir Path dir) throws Exception {
        Path src = Path.of("src/test/c/silicon.c").toAbsolutePath();
        StringBuilder log = new StringBuilder();
        boolean avx2 = new String(Files.readAllBytes(Path.of("/proc/cpuinfo")), StandardCharsets.US_ASCII).contains(" avx2");
        Assumptions.assumeTrue(avx2, "this CPU has no AVX2: the x86-avx2 profile cannot be checked against silicon here");
        boolean built = run(dir, List.of("gcc", "-O1", "-mavx2", "-DWITH_VNNI", src.toString(), "-o", "silicon"), log)
                || run(dir, List.of("gcc", "-O1", "-mavx2", src.toString(), "-o", "silicon"), log);
        Assumptions.assumeTrue(built, "gcc could not build the silicon test program: " + log);

        List<byte[][]> cases = new ArrayList<>();
        byte[] a = new byte[64];
        byte[] b = new byte[64];
        java.util.Arrays.fill(a, (byte) 255);
        java.util.Arrays.fill(b, (byte) 127);
        cases.add(new byte[][] {a.clone(), b.clone()}); // every pair saturates high
        for (int i = 0; i < 64; i++) {
            b[i] = (byte) (i % 2 == 0 ? 127 : -128);
        }
        cases.add(new byte[][] {a.clone(), b.clone()}); // alternating signs: pairs cancel, never saturate
        java.util.Arrays.fill(b, (byte) -128);
        cases.add(new byte[][] {a.clone(), b.clone()}); // every pair saturates low
        Random rnd = new Random(20261202);
        for (int n = 0; n < 500; n++) {
            byte[] x = new byte[64];
            byte[] y = new byte[64];
            rnd.nextBytes(x);
            rnd.nextBytes(y);
            if (n % 2 == 0) { // near full range, as the first layer of an image network sees it
                for (int i = 0; i < 64; i++) {
                    x[i] = (byte) (200 + rnd.nextInt(56));
                    y[i] = (byte) (rnd.nextBoolean() ? 100 + rnd.nextInt(28) : -(100 + rnd.nextInt(29)));
                }
            }
            cases.add(new byte[][] {x, y});
        }
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        for (byte[][] c : cases) {
            in.write(c[0]);
            in.write(c[1]);
        }
        Process p = new ProcessBuilder(dir.resolve("silicon").toString()).directory(dir.toFile()).start();
        p.getOutputStream().write(in.toByteArray());
        p.getOutputStream().close();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).lines().toList();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2 * cases.size(), lines.size(), String.join("\n", lines));

        PairStage avx2Stage = DatapathProfile.X86_AVX2.apply(ProcessorConfig.baseline()).pairStage();
        assertEquals(new PairStage(2, 16, Overflow.SATURATE), avx2Stage);
        int saturated = 0;
        boolean vnni = !lines.get(1).equals("vnni -");
        for (int i = 0; i < cases.size(); i++) {
            byte[] x = cases.get(i)[0];
            byte[] y = cases.get(i)[1];
            long silicon = Long.parseLong(lines.get(2 * i).substring(5));
            long simulated = (int) avx2Stage.dot(x, y); // int32 as vpaddd keeps it
            assertEquals(silicon, simulated, "x86-avx2, case " + i);
            long exact = new PairStage(4, 32, Overflow.WRAP).dot(x, y);
            saturated += exact != simulated ? 1 : 0;
            if (vnni) {
                assertEquals(Long.parseLong(lines.get(2 * i + 1).substring(5)), exact, "x86-vnni, case " + i);
            }
        }
        assertTrue(saturated > 200, "the edge and near-full-range cases saturate on AVX2: " + saturated);
        System.out.println("silicon: " + cases.size() + " dot products; vpmaddubsw saturated " + saturated
                + " of them, all reproduced by x86-avx2; vpdpbusd " + (vnni ? "reproduced by x86-vnni"
                : "not on this CPU (no AVX512-VNNI): x86-vnni not checked against silicon here"));
    }
}
