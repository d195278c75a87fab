// Checks rendered Kubernetes manifests and Grafana dashboards against published schemas, two ways:
//  1. each manifest through its kubernetes-models class's validate() (the JSON schema: types, enums,
//     required fields);
//  2. each manifest and dashboard as a typed object literal compiled by tsc --strict, whose
//     excess-property check also rejects unknown (misspelt) fields, which the JSON schemas allow.
// Kinds without a schema package are reported as "unchecked", never passed silently.
//   node check.mjs [--manifests FILE.yaml]... [--dashboard FILE.json]...
// Prints one JSON line per document: {file, index, kind, name, status: valid|invalid|unchecked, errors}.
// Exit status: 0 when nothing is invalid, 1 otherwise, 2 on a usage or read error.
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));

// apiVersion/kind -> [module, interface]: the module's class validates, the interface types the literal
const kinds = {
  "v1/Namespace": ["kubernetes-models/v1/Namespace", "INamespace"],
  "v1/ConfigMap": ["kubernetes-models/v1/ConfigMap", "IConfigMap"],
  "v1/Service": ["kubernetes-models/v1/Service", "IService"],
  "apps/v1/Deployment": ["kubernetes-models/apps/v1/Deployment", "IDeployment"],
  "policy/v1/PodDisruptionBudget": ["kubernetes-models/policy/v1/PodDisruptionBudget", "IPodDisruptionBudget"],
  "keda.sh/v1alpha1/ScaledObject": ["@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject", "IScaledObject"],
  "monitoring.coreos.com/v1/PrometheusRule":
    ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule", "IPrometheusRule"],
  "monitoring.coreos.com/v1/PodMonitor":
    ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor", "IPodMonitor"],
  "monitoring.coreos.com/v1/ServiceMonitor":
    ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor", "IServiceMonitor"],
};

const manifests = [];
const dashboards = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  if (args[i + 1] === undefined || (args[i] !== "--manifests" && args[i] !== "--dashboard")) {
    console.error("usage: node check.mjs [--manifests FILE.yaml]... [--dashboard FILE.json]...");
    process.exit(2);
  }
  (args[i] === "--manifests" ? manifests : dashboards).push(args[i + 1]);
}

const docs = []; // {file, index, kind, name, object, module, iface, status, errors}
for (const file of manifests) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  parseAllDocuments(text).forEach((d, index) => {
    if (d.errors.length > 0) {
      docs.push({ file, index, kind: "?", name: "?", status: "invalid", errors: d.errors.map(e => e.message) });
      return;
    }
    const object = d.toJS();
    if (object === null || object === undefined) {
      return; // an empty document between separators
    }
    const key = `${object.apiVersion}/${object.kind}`;
    const entry = { file, index, kind: key, name: object.metadata?.name ?? "?", object, errors: [] };
    if (kinds[key] === undefined) {
      entry.status = "unchecked";
    } else {
      [entry.module, entry.iface] = kinds[key];
    }
    docs.push(entry);
  });
}
for (const file of dashboards) {
  let object;
  try {
    object = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  docs.push({ file, index: 0, kind: "grafana/Dashboard", name: object.title ?? "?", object, module: "@grafana/schema",
              iface: "Dashboard", errors: [] });
}

// 1. the JSON schemas, through the models' validate()
for (const d of docs.filter(d => d.module !== undefined && d.module !== "@grafana/schema")) {
  const mod = await import(d.module);
  const Model = mod[d.iface.slice(1)];
  try {
    new Model(d.object).validate();
  } catch (e) {
    d.errors.push(`schema: ${e.message}`);
  }
}

// 2. tsc --strict on typed literals, one source file per document
const dir = mkdtempSync(join(here, ".check-"));
try {
  const sources = new Map();
  docs.filter(d => d.module !== undefined).forEach((d, n) => {
    const path = join(dir, `doc${n}.ts`);
    writeFileSync(path, `import type { ${d.iface} } from "${d.module}";\n`
      + `export const doc: ${d.iface} = ${JSON.stringify(d.object, null, 1)};\n`);
    sources.set(path, d);
  });
  const program = ts.createProgram([...sources.keys()], {
    strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  for (const diag of ts.getPreEmitDiagnostics(program)) {
    const d = diag.file ? sources.get(diag.file.fileName) : undefined;
    const text = ts.flattenDiagnosticMessageText(diag.messageText, "\n");
    if (d === undefined) {
      console.error(`tsc: ${text}`);
      process.exit(2);
    }
    const line = diag.start === undefined ? "" : ` (line ${diag.file.getLineAndCharacterOfPosition(diag.start).line})`;
    d.errors.push(`types${line}: ${text}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let invalid = 0;
for (const d of docs) {
  if (d.status === undefined) {
    d.status = d.errors.length > 0 ? "invalid" : "valid";
  }
  invalid += d.status === "invalid" ? 1 : 0;
  console.log(JSON.stringify({ file: d.file, index: d.index, kind: d.kind, name: d.name, status: d.status, errors: d.errors }));
}
process.exit(invalid > 0 ? 1 : 0);
