package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's first command on a fresh clone: {@code ./dova demo} in a clone of this repository with no
 * {@code data/} fetches and verifies the data sets itself, then runs the demo to its summary. The
 * clone runs this build's classes and dependencies (DOVA_DIST: a folder laid out as serve/target
 * is after packaging, made from the test's own classpath, since the tests run before the jar
 * exists), so the test takes a minute rather than a build.
 */
class FreshCloneDemoIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static String run(Path dir, int seconds, java.util.Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out;
        try (var in = p.getInputStream()) {
            out = in.readAllBytes(); // the process ends (or is killed below) before this returns in practice
        }
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish in " + seconds + " s");
        }
        String s = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + s);
        return s;
    }

    /** serve's classes as the jar ./dova runs, and every jar of the test classpath under lib/. */
    static void jar(Path classes, Path jarFile) throws Exception {
        try (var jar = new java.util.jar.JarOutputStream(Files.newOutputStream(jarFile)); var walk = Files.walk(classes)) {
            for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                jar.putNextEntry(new java.util.jar.JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
    }

    static Path dist(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("lib"));
        Path classes = ROOT.resolve("serve/target/classes");
        jar(classes, dir.resolve("dova-serve-0-test.jar"));
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        int n = 0;
        for (String e : cp.split(java.io.File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.endsWith(".jar") && Files.isRegularFile(p)) {
                Files.createSymbolicLink(dir.resolve("lib").resolve((n++) + "-" + p.getFileName()), p.toAbsolutePath());
            } else if (Files.isDirectory(p) && !p.toAbsolutePath().normalize().equals(classes)
                    && !p.getFileName().toString().equals("test-classes")) {
                jar(p, dir.resolve("lib").resolve((n++) + "-module.jar")); // a sibling module's classes in the reactor
            }
        }
        assertTrue(n > 20, "the test classpath's jars: " + cp);
        return dir;
    }

    @Test
    void theDemoFetchesItsDataAndRunsToItsSummaryOnAFreshClone(@TempDir Path tmp) throws Exception {
        Path clone = tmp.resolve("dova");
        run(tmp, 120, java.util.Map.of(), "git", "clone", "--quiet", "--local", "--no-hardlinks", ROOT.toString(),
                clone.toString());
        assertTrue(!Files.exists(clone.resolve("data/mnist")), "a clone has no data sets");
        java.util.Map<String, String> env = new java.util.HashMap<>();
        env.put("DOVA_SKIP_BUILD", "1");
        env.put("DOVA_DIST", dist(tmp.resolve("dist")).toString());
        env.put("DOVA_DEMO_DURATION", "24s");
        env.put("DOVA_DEMO_DRIFT_AFTER", "10s");
        env.put("DOVA_DEMO_FPS", "100");
        String out = run(clone, 400, env, "timeout", "380", "./dova", "demo");
        assertTrue(out.contains("fetching the data sets") && out.contains("data sets ready"), out);
        for (String f : new String[] {"mnist/t10k-images-idx3-ubyte", "fashion-mnist/t10k-labels-idx1-ubyte"}) {
            assertTrue(Files.size(clone.resolve("data").resolve(f)) > 0, f);
        }
        assertTrue(out.contains("==== dova demo summary ===="), out);
        assertTrue(out.contains("accuracy on the processor"), out);
        // nothing of the Java logging or PyTorch noise the newcomer should not see
        for (String noise : new String[] {"WARN", "CudaUtils", "AutoNonVariableTypeMode", "\r"}) {
            assertTrue(!out.contains(noise), "the demo's output carries '" + noise.replace("\r", "\\r") + "':\n" + out);
        }
    }
}
