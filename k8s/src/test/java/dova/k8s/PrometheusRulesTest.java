package dova.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PrometheusRule's alert rules checked by Prometheus's own tool: {@code promtool check rules}
 * on the rules as the operator loads them, and {@code promtool test rules} with a test that
 * fires each alert and one that must not (k8s/src/test/resources/prometheus/alerts-test.yaml).
 * promtool comes from Debian's {@code prometheus} package ({@code .ci/run} installs it).
 */
class PrometheusRulesTest {
    private static String promtool(Path dir, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "promtool";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is needed (Debian package prometheus; .ci/run installs it): " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool finished");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }

    @Test
    void rulesPassPromtoolAndEveryAlertHasAFiringAndAQuietTest(@TempDir Path dir) throws Exception {
        JsonNode rule = ManifestsTest.one(Kustomize.render(ManifestsTest.K8S.resolve("base")), "PrometheusRule", "dova-serve");
        Path rules = dir.resolve("rules.yaml");
        Kustomize.YAML.writeValue(rules.toFile(), rule.path("spec"));
        promtool(dir, "check", "rules", "rules.yaml");
        try (InputStream in = getClass().getResourceAsStream("/prometheus/alerts-test.yaml")) {
            Files.copy(in, dir.resolve("alerts-test.yaml"));
        }
        String out = promtool(dir, "test", "rules", "alerts-test.yaml");
        assertTrue(out.contains("SUCCESS"), out);

        Set<String> alerts = new TreeSet<>();
        for (JsonNode g : rule.path("spec").path("groups")) {
            for (JsonNode r : g.path("rules")) {
                if (r.has("alert")) {
                    alerts.add(r.path("alert").asText());
                }
            }
        }
        Set<String> fired = new TreeSet<>();
        Set<String> quiet = new TreeSet<>();
        JsonNode tests = Kustomize.YAML.readTree(dir.resolve("alerts-test.yaml").toFile());
        for (JsonNode t : tests.path("tests")) {
            for (JsonNode a : t.path("alert_rule_test")) {
                (a.path("exp_alerts").isEmpty() ? quiet : fired).add(a.path("alertname").asText());
            }
        }
        assertTrue(alerts.size() >= 6, "alerts found: " + alerts);
        assertEquals(alerts, fired, "every alert has a test that fires it");
        assertEquals(alerts, quiet, "every alert has a test where it must stay quiet");
    }
}
