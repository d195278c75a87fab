package dova.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The subset of kustomize that dova's manifests use, enough to render the overlays in a test
 * without the kustomize binary: {@code resources} (files and directories), {@code namespace},
 * {@code commonLabels} (metadata, selectors and pod templates), {@code configMapGenerator}
 * (files) and {@code patches} with a target (strategic-merge style: maps merge, lists of
 * objects merge by {@code name}, other lists are replaced). Anything else fails loudly.
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
        Path k = dir.resolve("kustomization.yaml");
        ObjectNode kust = (ObjectNode) YAML.readTree(k.toFile());
        for (Iterator<String> f = kust.fieldNames(); f.hasNext(); ) {
            String field = f.next();
            if (!List.of("apiVersion", "kind", "namespace", "commonLabels", "resources", "configMapGenerator", "patches")
                    .contains(field)) {
                throw new IOException(k + ": unsupported kustomize field '" + field + "'");
            }
        }
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode r : kust.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                out.addAll(render(p));
            } else if (Files.isRegularFile(p)) {
                out.addAll(parseAll(p));
            } else {
                throw new IOException(k + ": resource " + r.asText() + " does not exist");
            }
        }
        for (JsonNode g : kust.path("configMapGenerator")) {
            ObjectNode cm = JSON.createObjectNode();
            cm.put("apiVersion", "v1").put("kind", "ConfigMap");
            ObjectNode meta = cm.putObject("metadata");
            meta.put("name", g.path("name").asText());
            if (g.path("options").has("labels")) {
                meta.set("labels", g.path("options").path("labels").deepCopy());
            }
            ObjectNode data = cm.putObject("data");
            for (JsonNode file : g.path("files")) {
                Path p = dir.resolve(file.asText());
                if (!Files.isRegularFile(p)) {
                    throw new IOException(k + ": generator file " + file.asText() + " does not exist");
                }
                data.put(p.getFileName().toString(), Files.readString(p));
            }
            out.add(cm);
        }
        for (JsonNode patch : kust.path("patches")) {
            Path p = dir.resolve(patch.path("path").asText());
            ObjectNode body = parseAll(p).get(0);
            String kind = patch.path("target").path("kind").asText();
            String name = patch.path("target").path("name").asText();
            ObjectNode target = out.stream().filter(o -> kind.equals(o.path("kind").asText())
                    && name.equals(o.path("metadata").path("name").asText())).findFirst()
                    .orElseThrow(() -> new IOException(k + ": patch " + p.getFileName() + " targets " + kind + "/" + name
                            + ", which is not among the resources"));
            merge(target, body);
        }
        if (kust.has("namespace")) {
            for (ObjectNode o : out) {
                if (!"Namespace".equals(o.path("kind").asText())) {
                    ((ObjectNode) o.path("metadata")).put("namespace", kust.path("namespace").asText());
                }
            }
        }
        if (kust.has("commonLabels")) {
            for (ObjectNode o : out) {
                for (Map.Entry<String, JsonNode> e : iterable(kust.path("commonLabels").fields())) {
                    labels((ObjectNode) o.path("metadata")).set(e.getKey(), e.getValue());
                    if ("Deployment".equals(o.path("kind").asText())) {
                        ObjectNode spec = (ObjectNode) o.path("spec");
                        ((ObjectNode) spec.path("selector").path("matchLabels")).set(e.getKey(), e.getValue());
                        labels((ObjectNode) spec.path("template").path("metadata")).set(e.getKey(), e.getValue());
                    }
                }
            }
        }
        return out;
    }

    private static <T> Iterable<T> iterable(Iterator<T> it) {
        return () -> it;
    }

    private static ObjectNode labels(ObjectNode meta) {
        if (!meta.has("labels")) {
            meta.putObject("labels");
        }
        return (ObjectNode) meta.get("labels");
    }

    static void merge(ObjectNode target, ObjectNode patch) {
        for (Map.Entry<String, JsonNode> e : iterable(patch.fields())) {
            JsonNode t = target.get(e.getKey());
            JsonNode v = e.getValue();
            if (t instanceof ObjectNode to && v instanceof ObjectNode vo) {
                merge(to, vo);
            } else if (t instanceof ArrayNode ta && v instanceof ArrayNode va && isNamedList(va)) {
                for (JsonNode item : va) {
                    ObjectNode match = null;
                    for (JsonNode existing : ta) {
                        if (existing.path("name").asText().equals(item.path("name").asText())) {
                            match = (ObjectNode) existing;
                        }
                    }
                    if (match != null) {
                        merge(match, (ObjectNode) item);
                    } else {
                        ta.add(item.deepCopy());
                    }
                }
            } else {
                target.set(e.getKey(), v.deepCopy());
            }
        }
    }

    private static boolean isNamedList(ArrayNode a) {
        for (JsonNode n : a) {
            if (!n.isObject() || !n.has("name")) {
                return false;
            }
        }
        return a.size() > 0;
    }
}
