package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The module graph the poms declare is the one docs/architecture.md draws, and training sees neither Akka nor Kafka. */
class ArchitectureTest {
    private static final Path ROOT = Path.of("..");
    private static final List<String> MODULES = List.of("accelerator-sim", "calibrate", "compress", "ingest", "serve", "k8s");

    /** artifactId -> scope of each direct dependency of a module's pom. */
    static Map<String, String> dependencies(String module) throws Exception {
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(ROOT.resolve(module).resolve("pom.xml").toFile());
        Map<String, String> out = new TreeMap<>();
        Element project = doc.getDocumentElement();
        NodeList deps = project.getElementsByTagName("dependencies");
        for (int d = 0; d < deps.getLength(); d++) {
            Element list = (Element) deps.item(d);
            if (!list.getParentNode().getNodeName().equals("project")) {
                continue; // dependencyManagement, plugins
            }
            NodeList items = list.getElementsByTagName("dependency");
            for (int i = 0; i < items.getLength(); i++) {
                Element e = (Element) items.item(i);
                String artifact = e.getElementsByTagName("artifactId").item(0).getTextContent().trim();
                NodeList scope = e.getElementsByTagName("scope");
                String s = scope.getLength() == 0 ? "compile" : scope.item(0).getTextContent().trim();
                out.merge(artifact, s, (a, b) -> a.equals("compile") || b.equals("compile") ? "compile" : a);
            }
        }
        return out;
    }

    static Set<String> dovaModules(Map<String, String> deps) {
        Set<String> out = new TreeSet<>();
        deps.forEach((a, s) -> {
            if (a.startsWith("dova-") && !s.equals("test")) {
                out.add(a.substring("dova-".length()));
            }
        });
        return out;
    }

    /** The table "| module | depends on | ..." of docs/architecture.md. */
    static Map<String, Set<String>> documented() throws Exception {
        Map<String, Set<String>> out = new TreeMap<>();
        Pattern row = Pattern.compile("^\\| ([a-z0-9-]+) \\| ([^|]+) \\|");
        boolean inTable = false;
        for (String line : Files.readAllLines(ROOT.resolve("docs").resolve("architecture.md"))) {
            if (line.startsWith("| module | depends on |")) {
                inTable = true;
                continue;
            }
            if (inTable && !line.startsWith("|")) {
                break;
            }
            Matcher m = row.matcher(line);
            if (inTable && m.find() && !line.startsWith("|---")) {
                Set<String> deps = new TreeSet<>();
                for (String d : m.group(2).split(",")) {
                    String t = d.trim();
                    if (!t.equals("(none)")) {
                        deps.add(t);
                    }
                }
                out.put(m.group(1), deps);
            }
        }
        return out;
    }

    @Test
    void modulesDependAsDocumented() throws Exception {
        Map<String, Set<String>> declared = new TreeMap<>();
        for (String m : MODULES) {
            declared.put(m, dovaModules(dependencies(m)));
        }
        assertEquals(documented(), declared, "docs/architecture.md's dependency table against the poms");
    }

    @Test
    void trainingSeesNeitherAkkaNorKafkaAndTheSimulatorDependsOnNothingOfOurs() throws Exception {
        // the compile-scope closure of compress over dova's modules, and every third-party artifact it names
        Deque<String> todo = new ArrayDeque<>(List.of("compress"));
        Set<String> seen = new TreeSet<>();
        Set<String> thirdParty = new TreeSet<>();
        while (!todo.isEmpty()) {
            String m = todo.pop();
            if (!seen.add(m)) {
                continue;
            }
            dependencies(m).forEach((a, s) -> {
                if (s.equals("test")) {
                    return;
                }
                if (a.startsWith("dova-")) {
                    todo.push(a.substring("dova-".length()));
                } else {
                    thirdParty.add(a);
                }
            });
        }
        assertEquals(Set.of("compress", "accelerator-sim"), seen);
        for (String a : thirdParty) {
            assertTrue(!a.contains("akka") && !a.contains("kafka"), "compress's classpath names " + a);
        }
        assertTrue(dovaModules(dependencies("accelerator-sim")).isEmpty());
    }
}
