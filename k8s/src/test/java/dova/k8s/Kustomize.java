package dova.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Renders an overlay with the real kustomize ({@code kubectl kustomize}, v5.5 on these machines
 * and in CI) and parses the documents. A warning from kustomize (a deprecated field) fails the
 * render, so that the manifests stay on the current format.
 */
final class Kustomize {
    static final ObjectMapper YAML = new YAMLMapper();
    static final ObjectMapper JSON = new ObjectMapper();

    private Kustomize() {
    }

    static List<ObjectNode> parseAll(Path file) throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(file.toFile())) {
            Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n != null && !n.isNull() && !n.isMissingNode()) {
                    if (!n.isObject()) {
                        throw new IOException(file + ": a document is not a mapping");
                    }
                    out.add((ObjectNode) n);
                }
            }
        }
        return out;
    }

    static List<ObjectNode> render(Path dir) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("kubectl", "kustomize", dir.toString());
        Path err = Files.createTempFile("kustomize-", ".err");
        Path out = Files.createTempFile("kustomize-", ".yaml");
        pb.redirectError(err.toFile()).redirectOutput(out.toFile());
        try {
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new IOException("kubectl is needed to render the manifests (kubectl kustomize): " + e.getMessage(), e);
            }
            if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("kubectl kustomize " + dir + " did not finish within 60 s");
            }
            String warnings = Files.readString(err);
            if (p.exitValue() != 0 || !warnings.isBlank()) {
                throw new IOException("kubectl kustomize " + dir + " (exit " + p.exitValue() + "): " + warnings.strip());
            }
            return parseAll(out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted rendering " + dir, e);
        } finally {
            Files.deleteIfExists(err);
            Files.deleteIfExists(out);
        }
    }
}
