package dova.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dova.ingest.kafka.EmbeddedKafka;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image as the Dockerfile lays it out, run as the Deployment runs it (there is no Docker
 * engine here): the files the final stage copies, assembled from the same COPY lines, the
 * Dockerfile's ENV and ENTRYPOINT, the ConfigMap's settings, the container's user (uid 10001,
 * not root, so that read-only really is read-only), a read-only /app and only the Deployment's
 * two volumes writable (/tmp and /var/lib/dova, mapped to folders here), against a real broker.
 * {@code /ready} must answer 200. Catches a model, checkpoint or native library the image does
 * not carry, and anything written outside the volumes.
 */
class ImageLayoutIT {
    private static final Path ROOT = ManifestsTest.K8S.getParent();

    private static final Pattern COPY = Pattern.compile("^COPY --from=build (.+) (\\S+)$");
    private static final Pattern ENV = Pattern.compile("([A-Z_]+)=(\"[^\"]*\"|\\S+)");

    /** The final stage's lines of the Dockerfile. */
    private static List<String> finalStage() throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve("k8s/Dockerfile"));
        int from = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("FROM ")) {
                from = i;
            }
        }
        return lines.subList(from, lines.size());
    }

    /** Copies what a COPY line names (globs allowed in the last path segment) from the build tree into the image. */
    private static void copy(String sources, String dest, Path image) throws Exception {
        Path target = image.resolve(dest.substring(1));
        for (String src : sources.split("\\s+")) {
            Path s = Path.of(src.replaceFirst("^/src/", ""));
            Path dir = ROOT.resolve(s).getParent();
            // Docker matches with Go's filepath.Match ([^x] negates), Java's glob writes [!x]
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + s.getFileName().toString().replace("[^", "[!"));
            List<Path> matched;
            try (Stream<Path> files = Files.list(dir)) {
                matched = files.filter(p -> m.matches(p.getFileName())).sorted().toList();
            }
            assertTrue(!matched.isEmpty(), "the Dockerfile copies " + src + ", which the build does not produce");
            // Docker refuses several sources for a file destination
            assertTrue(dest.endsWith("/") || matched.size() == 1, "COPY " + src + " " + dest + " matches " + matched
                    + ": a file destination takes exactly one source");
            for (Path p : matched) {
                Path to = dest.endsWith("/") ? target.resolve(p.getFileName().toString()) : target;
                if (Files.isDirectory(p)) {
                    try (Stream<Path> walk = Files.walk(p)) {
                        for (Path f : walk.toList()) {
                            Path t = to.resolve(p.relativize(f).toString());
                            if (Files.isDirectory(f)) {
                                Files.createDirectories(t);
                            } else {
                                Files.createDirectories(t.getParent());
                                Files.copy(f, t);
                            }
                        }
                    }
                } else {
                    Files.createDirectories(to.getParent());
                    Files.copy(p, to);
                }
            }
        }
    }

    private static void chown(Path p, int uid) throws Exception {
        Process c = new ProcessBuilder("chown", "-R", uid + ":" + uid, p.toString()).inheritIO().start();
        assertEquals(0, c.waitFor());
    }

    @Test
    void theImagesLayoutStartsWithTheConfigMapsSettingsAndAnswersReady(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root to run the service as the image's uid 10001 (these machines and CI run as root)");
        // the service's user must reach the folders below (JUnit makes the temporary folder private)
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path image = dir.resolve("image");
        Path app = image.resolve("app");
        Path tmp = dir.resolve("volume-tmp");
        Path state = dir.resolve("volume-var-lib-dova");
        Files.createDirectories(tmp);
        Files.createDirectories(state);
        Map<String, String> env = new LinkedHashMap<>();
        List<String> entrypoint = new ArrayList<>();
        for (String line : finalStage()) {
            Matcher c = COPY.matcher(line.trim());
            if (c.matches()) {
                copy(c.group(1), c.group(2), image);
            } else if (line.startsWith("ENV ")) {
                Matcher e = ENV.matcher(line.substring(4));
                while (e.find()) {
                    env.put(e.group(1), e.group(2).replace("\"", ""));
                }
            } else if (line.startsWith("ENTRYPOINT ") || line.startsWith("CMD ")) {
                for (JsonNode a : Kustomize.JSON.readTree(line.substring(line.indexOf('[')))) {
                    entrypoint.add(a.asText());
                }
            }
        }
        assertTrue(Files.isRegularFile(app.resolve("dova-serve.jar")) && Files.isDirectory(app.resolve("lib")));
        // the container's paths, mapped onto this machine
        Map<String, String> paths = Map.of("/app", app.toString(), "/tmp", tmp.toString(), "/var/lib/dova", state.toString());
        List<com.fasterxml.jackson.databind.node.ObjectNode> rendered = Kustomize.render(ManifestsTest.K8S.resolve("base"));
        JsonNode cm = ManifestsTest.one(rendered, "ConfigMap", "dova-serve");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            cm.path("data").fields().forEachRemaining(f -> env.put(f.getKey(), f.getValue().asText()));
            env.put("DOVA_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
            env.put("DOVA_HTTP_HOST", "127.0.0.1");
            env.put("DOVA_HTTP_PORT", Integer.toString(port));
            env.put("DOVA_KAFKA_INSTANCE_ID", "dova-serve-image-test");
            env.put("DJL_CACHE_DIR", "/tmp/djl");
            // the topics Strimzi's topic operator would create: exactly the manifests' KafkaTopics (create-topics is off)
            for (JsonNode t : rendered) {
                if ("KafkaTopic".equals(t.path("kind").asText())) {
                    Map<String, String> config = new java.util.TreeMap<>();
                    t.path("spec").path("config").fields().forEachRemaining(f -> config.put(f.getKey(), f.getValue().asText()));
                    kafka.createTopic(t.path("metadata").path("name").asText(), t.path("spec").path("partitions").asInt(), config);
                }
            }
            List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=10001", "--regid=10001", "--clear-groups"));
            for (String a : entrypoint) {
                cmd.add(map(a.equals("java") ? Path.of(System.getProperty("java.home"), "bin", "java").toString() : a, paths));
            }
            chown(tmp, 10001);
            chown(state, 10001);
            // read-only: the image (and everything else but the two volumes) is not the user's
            Files.walk(image).forEach(p -> p.toFile().setWritable(false, false));
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(app.toFile());
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/bin:/bin");
            pb.environment().put("HOME", "/nonexistent");
            env.forEach((k, v) -> pb.environment().put(k, map(v, paths)));
            Path log = dir.resolve("serve.log");
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            Process p = pb.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                int status = 0;
                while (System.nanoTime() < deadline && p.isAlive()) {
                    status = ready(port);
                    if (status == 200) {
                        break;
                    }
                    Thread.sleep(250);
                }
                assertEquals(200, status, "/ready of the image's layout; log:\n" + Files.readString(log));
                assertTrue(Files.exists(state.resolve("registry")), "the registry lives on the /var/lib/dova volume");
            } finally {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
                Files.walk(image).forEach(f -> f.toFile().setWritable(true, false)); // so that the temp folder can go
            }
        }
    }

    /** The container paths in {@code v} (whole path prefixes, after a start, space, '=' or ':'), mapped in one pass. */
    private static String map(String v, Map<String, String> paths) {
        Matcher m = Pattern.compile("(?<=^|[\\s=:])(" + String.join("|", paths.keySet().stream().map(Pattern::quote).toList())
                + ")(?=/|$|[\\s:])").matcher(v);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(paths.get(m.group(1))));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static int ready(int port) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return 0;
        }
    }
}
