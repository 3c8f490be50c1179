// Offline validation of the cluster-side files (templates/, values/).
//
//   node validate.mjs ROOT [ROOT...]
//
// Each ROOT holds templates/ and values/. Every Kubernetes object is checked
// against the real OpenAPI schemas (kubernetes-models, @kubernetes-models/
// argo-cd) *and* for unknown fields, as `kubectl apply` with strict field
// validation would; the Helm values are checked for the keys the pinned
// charts know and their embedded pod specs against the core schemas; then
// the cross-file rules that make the pipeline work (namespaces, names,
// sync window, tag paths, claim bindings) are checked. Prints one line per
// check; exits 1 listing every failure. Several ROOTs are validated in one
// process, each in its own delimited section (see the end of this file).
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import * as core from "kubernetes-models/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as argo from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1";

const IMAGES = [
  "scheduler", "symbol-registry", "ingestion", "parser", "extractor",
  "aggregation", "recommendation", "risk", "broker-adapter", "lake-publisher",
  "query-api", "trading-engine", "dashboard", "superset",
];
const IMAGE_NS = "ghcr.io/celesrenata/stonks-oracle";
const APP_REPO = "https://github.com/celesrenata/stonks-oracle.git";
const STAGES = {
  beta: "stonks-oracle-beta",
  paper: "stonks-oracle-paper",
  live: "stonks-oracle",
};
const APP_NAMESPACES = Object.values(STAGES);
const RUNNER_LABEL = "self-hosted-gremlin";
const NFS_SERVER = "192.168.42.8";
const NFS_BASE = "/volume1/Kubernetes/pipelines/";

const MODELS = {
  "v1/Namespace": core.Namespace,
  "v1/PersistentVolume": core.PersistentVolume,
  "v1/PersistentVolumeClaim": core.PersistentVolumeClaim,
  "v1/Service": core.Service,
  "v1/Endpoints": core.Endpoints,
  "networking.k8s.io/v1/Ingress": networking.Ingress,
  "argoproj.io/v1alpha1/AppProject": argo.AppProject,
  "argoproj.io/v1alpha1/Application": argo.Application,
};

function schemaErrors(Model, obj) {
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return e.errors ? e.errors.map((x) => `${x.instancePath} ${x.message}`) : [String(e.message)];
  }
}

// The generated schemas allow unknown properties, which the API server
// rejects (or, worse, silently drops). A key is known to the schema iff
// replacing its value with something no schema type accepts (a function)
// makes validation fail; an unknown key is ignored by the validator.
// The schema generator drops properties named "description" together with
// the description annotations (AppProjectSpec.d.ts and SyncWindow.d.ts still
// declare the field), so that one name cannot be probed and is trusted.
const UNPROBEABLE = new Set(["description"]);
function unknownFields(Model, obj) {
  const unknown = [];
  const walk = (node, ptr) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, [...ptr, i]));
      return;
    }
    if (!node || typeof node !== "object") return;
    for (const key of Object.keys(node)) {
      if (UNPROBEABLE.has(key) && typeof node[key] === "string") continue;
      const saved = node[key];
      node[key] = () => 0;
      const known = schemaErrors(Model, obj).length > 0;
      node[key] = saved;
      if (!known) unknown.push("/" + [...ptr, key].join("/"));
      else walk(saved, [...ptr, key]);
    }
  };
  walk(obj, []);
  return unknown;
}

const get = (o, dotted) => dotted.split(".").reduce((a, k) => (a == null ? a : a[k]), o);

// Validates the tree under ROOT, printing one line per check and the count;
// returns the number of failed checks. Every piece of state (the count, the
// failure list, ROOT itself) lives in this call, so roots validated one
// after another in one process cannot affect each other's verdict.
function validateRoot(ROOT) {
  const failures = [];
  let checks = 0;
  function check(cond, what) {
    checks++;
    if (cond) console.log(`ok   ${what}`);
    else {
      console.log(`FAIL ${what}`);
      failures.push(what);
    }
    return cond;
  }
  function rel(p) { return path.join(ROOT, p); }

  // Parses every document of a file; duplicate keys and syntax errors fail.
  function loadDocs(file) {
    const src = fs.readFileSync(rel(file), "utf8");
    const docs = YAML.parseAllDocuments(src, { uniqueKeys: true, prettyErrors: true });
    const errs = docs.flatMap((d) => d.errors.map((e) => e.message));
    check(errs.length === 0, `${file}: parses as YAML${errs.length ? ": " + errs.join("; ") : ""}`);
    return { src, docs, objs: docs.map((d) => d.toJS()).filter((o) => o != null) };
  }

  function validateObject(Model, obj, label) {
    const errs = schemaErrors(Model, obj);
    check(errs.length === 0, `${label}: valid against the schema${errs.length ? ": " + errs.join(", ") : ""}`);
    if (errs.length) return;
    const unk = unknownFields(Model, structuredClone(obj));
    check(unk.length === 0, `${label}: no field unknown to the schema${unk.length ? ": " + unk.join(", ") : ""}`);
  }

  function validateManifests(file) {
    const { objs } = loadDocs(file);
    for (const o of objs) {
      const key = `${o.apiVersion}/${o.kind}`;
      const label = `${file}: ${o.kind} ${o.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o.metadata?.name}`;
      const Model = MODELS[key];
      if (!check(Model !== undefined, `${label}: known kind ${key}`)) continue;
      validateObject(Model, o, label);
    }
    return objs;
  }

  // ---- Kubernetes manifests -------------------------------------------------
  const nsObjs = validateManifests("templates/k8s/namespaces.yaml");
  const pvs = validateManifests("templates/k8s/nfs-pv.yaml");
  const pvcs = validateManifests("templates/k8s/nfs-pvc.yaml");
  const dash = validateManifests("templates/k8s/dashboard.yaml");
  const project = validateManifests("templates/argocd/project.yaml");
  const apps = validateManifests("templates/argocd/applications.yaml");

  const ownNs = nsObjs.map((n) => n.metadata.name);
  check(ownNs.every((n) => !APP_NAMESPACES.includes(n)),
    `namespaces.yaml creates only pipeline namespaces (${ownNs.join(", ")})`);
  for (const o of [...pvcs, ...dash]) {
    check(!APP_NAMESPACES.includes(o.metadata.namespace),
      `${o.kind} ${o.metadata.name} lives outside the application namespaces`);
  }

  // NFS volumes: Retain, own directory each, pre-bound both ways.
  const components = new Set();
  for (const pv of pvs) {
    const n = pv.metadata.name;
    check(pv.spec.persistentVolumeReclaimPolicy === "Retain", `PV ${n}: reclaim policy Retain`);
    check(pv.spec.nfs?.server === NFS_SERVER, `PV ${n}: NFS server ${NFS_SERVER}`);
    const p = pv.spec.nfs?.path ?? "";
    const comp = p.startsWith(NFS_BASE) ? p.slice(NFS_BASE.length) : "";
    check(/^[a-z0-9-]+$/.test(comp), `PV ${n}: path ${p} is one directory under ${NFS_BASE}`);
    check(!components.has(comp), `PV ${n}: directory ${comp} not shared with another volume`);
    components.add(comp);
    check(pv.metadata.labels?.["app.kubernetes.io/part-of"] === "stonks-pipelines",
      `PV ${n}: labelled part-of=stonks-pipelines (runmefirst.sh finds it by that label)`);
    const claim = pvcs.find((c) => c.metadata.name === pv.spec.claimRef?.name &&
      c.metadata.namespace === pv.spec.claimRef?.namespace);
    check(claim !== undefined, `PV ${n}: claimRef names a claim of nfs-pvc.yaml`);
    if (claim) {
      check(claim.spec.volumeName === n, `PVC ${claim.metadata.name}: volumeName ${n}`);
      check(claim.spec.storageClassName === "" && pv.spec.storageClassName === "",
        `PV/PVC ${n}: storageClassName "" (no dynamic provisioning)`);
      check(JSON.stringify(claim.spec.accessModes) === JSON.stringify(pv.spec.accessModes),
        `PV/PVC ${n}: same access modes`);
      check(claim.spec.resources.requests.storage === pv.spec.capacity.storage,
        `PV/PVC ${n}: request equals capacity`);
    }
  }
  check(components.has("argocd") && components.has("arc"), "NFS directories for argocd and arc");
  check(pvcs.length === pvs.length, "one claim per volume");

  // Dashboard: selector-less Service + Endpoints + Ingress.
  const svc = dash.find((o) => o.kind === "Service");
  const ep = dash.find((o) => o.kind === "Endpoints");
  const ing = dash.find((o) => o.kind === "Ingress");
  check(svc && !svc.spec.selector, "dashboard Service has no selector (its Endpoints are written by hand)");
  check(ep && ep.metadata.name === svc?.metadata.name && ep.metadata.namespace === svc?.metadata.namespace,
    "dashboard Endpoints has the Service's name and namespace");
  const epPort = ep?.subsets?.[0]?.ports?.[0];
  const svcPort = svc?.spec?.ports?.[0];
  check(epPort && svcPort && epPort.name === svcPort.name && epPort.port === svcPort.targetPort,
    "dashboard Endpoints port matches the Service's targetPort by name");
  check(/^\d+\.\d+\.\d+\.\d+$/.test(ep?.subsets?.[0]?.addresses?.[0]?.ip ?? ""), "dashboard Endpoints address is an IPv4 address");
  check(ing?.spec?.ingressClassName === "traefik", "dashboard Ingress class traefik");
  check(ing?.metadata?.annotations?.["cert-manager.io/cluster-issuer"] === "ca-issuer", "dashboard Ingress TLS from ClusterIssuer ca-issuer");
  check(ing?.spec?.tls?.[0]?.hosts?.includes("pipelines.celestium.life") &&
    ing?.spec?.rules?.[0]?.host === "pipelines.celestium.life", "dashboard Ingress host pipelines.celestium.life with TLS");
  check(ing?.spec?.rules?.[0]?.http?.paths?.[0]?.backend?.service?.name === svc?.metadata.name,
    "dashboard Ingress routes to the Service");

  // ---- Argo CD --------------------------------------------------------------
  const proj = project[0];
  check(project.length === 1 && proj.kind === "AppProject", "one AppProject");
  check(JSON.stringify(proj.spec.sourceRepos) === JSON.stringify([APP_REPO]), `project source repository is only ${APP_REPO}`);
  const dests = (proj.spec.destinations ?? []).map((d) => d.namespace).sort();
  check(JSON.stringify(dests) === JSON.stringify([...APP_NAMESPACES].sort()),
    `project destinations are exactly ${APP_NAMESPACES.join(", ")}`);
  check((proj.spec.destinations ?? []).every((d) => d.server === "https://kubernetes.default.svc"), "project deploys only in-cluster");
  const cw = proj.spec.clusterResourceWhitelist ?? [];
  check(cw.every((c) => c.kind === "Namespace" && c.group === "" && APP_NAMESPACES.includes(c.name)),
    "project allows no cluster-scoped object except the stage namespaces");
  const windows = proj.spec.syncWindows ?? [];
  const deny = windows.filter((w) => w.kind === "deny");
  check(deny.length === 1, "one deny sync window");
  const w = deny[0] ?? {};
  check(w.schedule === "30 9 * * 1-5", "deny window starts 09:30 Monday-Friday");
  check(w.duration === "6h30m", "deny window lasts 6h30m (until 16:00)");
  check(w.timeZone === "America/New_York", "deny window in America/New_York");
  check(w.manualSync === true, "deny window allows manual sync (break-glass)");
  check(JSON.stringify([...(w.applications ?? [])].sort()) === JSON.stringify(["stonks-oracle-live", "stonks-oracle-paper"]),
    "deny window covers paper and live, not beta");
  check(!w.namespaces && !w.clusters, "deny window matches by application only");

  check(apps.length === 3, "three Applications");
  for (const [stage, ns] of Object.entries(STAGES)) {
    const app = apps.find((a) => a.metadata.name === `stonks-oracle-${stage}`);
    if (!check(app !== undefined, `Application stonks-oracle-${stage} exists`)) continue;
    const n = app.metadata.name;
    check(app.metadata.namespace === "argocd", `${n}: in namespace argocd`);
    check(app.spec.project === proj.metadata.name, `${n}: in project ${proj.metadata.name}`);
    check(app.spec.destination.namespace === ns && dests.includes(ns), `${n}: deploys to ${ns}, allowed by the project`);
    check(!(app.metadata.finalizers ?? []).includes("resources-finalizer.argocd.argoproj.io"),
      `${n}: no resources finalizer (deleting it never cascades into workloads)`);
    const srcs = app.spec.sources ?? [];
    check(srcs.every((s) => s.repoURL === APP_REPO && s.targetRevision === "main"), `${n}: every source is ${APP_REPO} at main`);
    const chart = srcs.find((s) => s.path === "infra/helm/stonks-oracle");
    const ref = srcs.find((s) => s.ref);
    check(chart !== undefined, `${n}: renders the chart infra/helm/stonks-oracle`);
    check(ref !== undefined && !ref.path, `${n}: has a ref source for the values files`);
    const vf = chart?.helm?.valueFiles ?? [];
    check(JSON.stringify(vf) === JSON.stringify(["values.yaml", `$${ref?.ref}/values/values-${stage}.yaml`]),
      `${n}: valueFiles are the chart's values.yaml then values/values-${stage}.yaml`);
    check(fs.existsSync(rel(`values/values-${stage}.yaml`)), `${n}: values/values-${stage}.yaml exists`);
    const auto = app.spec.syncPolicy?.automated;
    check(auto !== undefined, `${n}: automated sync`);
    if (stage !== "live") check(auto?.selfHeal === true, `${n}: self-heal`);
    if (stage !== "live") check((app.spec.syncPolicy?.syncOptions ?? []).includes("CreateNamespace=true"), `${n}: creates its namespace`);
    if (stage === "live") check(!(app.spec.syncPolicy?.syncOptions ?? []).includes("CreateNamespace=true"), `${n}: never creates the production namespace`);
  }

  // ---- Helm values of the pinned charts ---------------------------------------
  // Key paths each chart's values.yaml defines (argo-helm charts/argo-cd and
  // actions-runner-controller charts/gha-runner-scale-set{,-controller}); a
  // misspelt key is silently ignored by Helm, so only these may be set.
  const CHART_KEYS = {
    "templates/argocd/values-argocd.yaml": [
      "global.domain", "configs.params", "configs.cm", "configs.rbac", "crds.keep",
      "server.ingress.enabled", "server.ingress.ingressClassName", "server.ingress.annotations",
      "server.ingress.tls", "server.volumes", "server.volumeMounts",
    ],
    "templates/arc/values-controller.yaml": ["replicaCount", "flags.logLevel", "resources"],
    "templates/arc/values-runner-set.yaml": [
      "githubConfigUrl", "githubConfigSecret", "runnerScaleSetName", "minRunners", "maxRunners",
      "controllerServiceAccount.namespace", "controllerServiceAccount.name", "template",
    ],
  };
  function leafPaths(o, prefix, known) {
    const out = [];
    for (const [k, v] of Object.entries(o)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (known.includes(p)) continue;
      if (v && typeof v === "object" && !Array.isArray(v) && known.some((x) => x.startsWith(p + "."))) out.push(...leafPaths(v, p, known));
      else out.push(p);
    }
    return out;
  }
  const helmValues = {};
  for (const [file, known] of Object.entries(CHART_KEYS)) {
    const { objs } = loadDocs(file);
    const v = objs[0] ?? {};
    helmValues[file] = v;
    const bad = leafPaths(v, "", known);
    check(bad.length === 0, `${file}: only keys the chart defines${bad.length ? ": unknown " + bad.join(", ") : ""}`);
  }
  const argoV = helmValues["templates/argocd/values-argocd.yaml"];
  check(/\.celestium\.life$/.test(argoV.global?.domain ?? ""), "Argo CD UI at a *.celestium.life host");
  check(argoV.server?.ingress?.ingressClassName === "traefik", "Argo CD ingress class traefik");
  check(argoV.server?.ingress?.annotations?.["cert-manager.io/cluster-issuer"] === "ca-issuer", "Argo CD TLS from ca-issuer");
  check(argoV.server?.ingress?.tls === true, "Argo CD ingress TLS enabled");
  check(String(argoV.configs?.params?.["server.insecure"]) === "true", "argocd-server plain HTTP behind Traefik");
  check(argoV.configs?.cm?.["accounts.pipelined"] === "apiKey", "Argo CD account pipelined: API key only, no login");
  {
    const lines = String(argoV.configs?.rbac?.["policy.csv"] ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
    const mine = lines.filter((l) => /^p,\s*pipelined,/.test(l));
    const apps = ["beta", "paper", "live"].map((s) => `stonks-oracle/stonks-oracle-${s}`);
    check(mine.length === 3 && mine.every((l) => /^p,\s*pipelined,\s*applications,\s*get,\s*\S+,\s*allow$/.test(l)) &&
      apps.every((a) => mine.some((l) => l.includes(`, ${a},`))),
      "pipelined may only get the three Applications (read-only RBAC)");
    check(!lines.some((l) => /^g,\s*pipelined,/.test(l)), "pipelined is in no role group");
  }
  (argoV.server?.volumes ?? []).forEach((v, i) => validateObject(core.Volume, v, `values-argocd.yaml server.volumes[${i}]`));
  (argoV.server?.volumeMounts ?? []).forEach((v, i) => validateObject(core.VolumeMount, v, `values-argocd.yaml server.volumeMounts[${i}]`));
  const argoClaim = (argoV.server?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).find(Boolean);
  check(pvcs.some((c) => c.metadata.name === argoClaim && c.metadata.namespace === "argocd"), "Argo CD mounts its NFS claim from namespace argocd");

  const rs = helmValues["templates/arc/values-runner-set.yaml"];
  check(rs.githubConfigUrl === "https://github.com/celesrenata/stonks-oracle", "runners registered for celesrenata/stonks-oracle");
  check(typeof rs.githubConfigSecret === "string" && rs.githubConfigSecret.length > 0,
    "runner credentials from a pre-created Secret (no inline token or key)");
  check(rs.runnerScaleSetName === RUNNER_LABEL, `runner scale set named ${RUNNER_LABEL}`);
  check(rs.controllerServiceAccount?.namespace === "arc-systems", "scale set bound to the controller in arc-systems");
  validateObject(core.PodTemplateSpec, rs.template, "values-runner-set.yaml template (PodTemplateSpec)");
  const runner = rs.template?.spec?.containers?.find((c) => c.name === "runner");
  check(runner?.env?.some((e) => e.name === "DOCKER_HOST"), "runner container reaches the dind daemon (DOCKER_HOST)");
  const arcClaim = (rs.template?.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).find(Boolean);
  check(pvcs.some((c) => c.metadata.name === arcClaim && c.metadata.namespace === "arc-runners"), "runners mount their NFS claim from namespace arc-runners");

  // ---- Stage values files ------------------------------------------------------
  const TAG_LINE = /^ {6}tag: "[0-9a-f]{40}"$/;
  for (const stage of Object.keys(STAGES)) {
    const file = `values/values-${stage}.yaml`;
    const { src, docs, objs } = loadDocs(file);
    check(docs.length === 1, `${file}: one YAML document`);
    check(!/(^|\s)[&*][A-Za-z0-9_-]+/m.test(src.replace(/#.*$/gm, "")), `${file}: no anchors or aliases`);
    const v = objs[0] ?? {};
    const services = v.services ?? {};
    check(JSON.stringify(Object.keys(services).sort()) === JSON.stringify([...IMAGES].sort()),
      `${file}: services are exactly the 14 images`);
    let tags = 0;
    const values = new Set();
    YAML.visit(docs[0], {
      Pair(_, pair, ancestors) {
        const keys = ancestors.filter((a) => YAML.isPair(a)).map((p) => String(p.key?.value));
        const full = [...keys, String(pair.key?.value)];
        if (full.length === 4 && full[0] === "services" && full[2] === "image" && full[3] === "tag") {
          tags++;
          const s = pair.value;
          check(YAML.isScalar(s) && s.type === "QUOTE_DOUBLE", `${file}: services.${full[1]}.image.tag is double-quoted`);
          const line = src.slice(0, s.range[0]).split("\n").length;
          check(TAG_LINE.test(src.split("\n")[line - 1]), `${file}: services.${full[1]}.image.tag is one line tag: "<40 hex>"`);
          values.add(s.value);
        }
      },
    });
    check(tags === 14, `${file}: exactly 14 services.*.image.tag scalars (found ${tags})`);
    check(values.size === 1, `${file}: all 14 tags name the same release`);
    for (const img of IMAGES) {
      check(services[img]?.image?.repository === `${IMAGE_NS}/${img}`, `${file}: ${img} from ${IMAGE_NS}/${img}`);
    }
    for (const [img, s] of Object.entries(services)) {
      for (const [i, e] of (s.env ?? []).entries()) {
        validateObject(core.EnvVar, e, `${file}: services.${img}.env[${i}]`);
        if (/KEY|SECRET|TOKEN|PASSWORD/.test(e.name)) {
          check(e.value === undefined && e.valueFrom?.secretKeyRef, `${file}: ${e.name} comes from a Secret, not a literal`);
        }
      }
    }
    const env = Object.fromEntries((services["broker-adapter"]?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    if (stage === "paper") {
      check(env.BROKER_MODE === "paper" && env.BROKER_PROVIDER === "alpaca", `${file}: broker adapter BROKER_MODE=paper BROKER_PROVIDER=alpaca`);
      const secretEnv = (services["broker-adapter"]?.env ?? []).filter((e) => e.valueFrom?.secretKeyRef);
      check(secretEnv.length >= 2 && secretEnv.every((e) => e.valueFrom.secretKeyRef.name === "alpaca-paper-credentials"),
        `${file}: Alpaca paper credentials from Secret alpaca-paper-credentials`);
    }
    if (stage !== "live") check(env.BROKER_MODE !== "live", `${file}: never the live broker outside live`);
    check(v.global?.namespace === STAGES[stage], `${file}: namespace ${STAGES[stage]}`);
  }

  // ---- GitHub Actions workflow (semantics; the schema is checked by action-validator)
  {
    const { objs } = loadDocs("templates/github/ci.yml");
    const wf = objs[0] ?? {};
    const jobs = wf.jobs ?? {};
    check(JSON.stringify(wf.on?.push?.branches) === JSON.stringify(["main"]), "workflow runs on push to main");
    check(wf.on && "pull_request" in wf.on, "workflow runs on pull requests");
    check((wf.on?.push?.["paths-ignore"] ?? []).includes("values/**"), "values files do not trigger builds");
    for (const [id, j] of Object.entries(jobs)) {
      check(j["runs-on"] === RUNNER_LABEL, `job ${id} runs on ${RUNNER_LABEL}`);
    }
    const runs = (id) => (jobs[id]?.steps ?? []).map((s) => s.run ?? "").join("\n");
    check(/ruff check services\//.test(runs("lint")), "lint runs ruff check services/");
    check(/pytest tests\//.test(runs("test")), "test runs pytest tests/");
    check(/npm ci/.test(runs("frontend")) && /vitest/.test(runs("frontend")) &&
      jobs.frontend?.defaults?.run?.["working-directory"] === "frontend", "frontend installs and runs vitest in frontend/");
    for (const id of ["lint", "test", "frontend"]) {
      check(/vars\.STAGE_CI_ENABLED != 'false'/.test(jobs[id]?.if ?? ""), `${id} gated by vars.STAGE_CI_ENABLED`);
    }
    const b = jobs.build ?? {};
    check(JSON.stringify([...(b.needs ?? [])].sort()) === JSON.stringify(["frontend", "lint", "test"]), "build needs lint, test and frontend");
    check(/!failure\(\)/.test(b.if ?? "") && /refs\/heads\/main/.test(b.if ?? "") && /'push'/.test(b.if ?? ""),
      "build only on push to main and never after a failure");
    const inc = b.strategy?.matrix?.include ?? [];
    check(JSON.stringify(inc.map((m) => m.image).sort()) === JSON.stringify([...IMAGES].sort()), "build matrix has the 14 images");
    check(inc.find((m) => m.image === "dashboard")?.dockerfile === "frontend/Dockerfile", "dashboard from frontend/Dockerfile");
    check(inc.find((m) => m.image === "superset")?.dockerfile === "docker/Dockerfile.superset", "superset from docker/Dockerfile.superset");
    const push = (b.steps ?? []).find((s) => String(s.uses ?? "").startsWith("docker/build-push-action"));
    const tagsTxt = push?.with?.tags ?? "";
    check(tagsTxt.includes("${{ github.sha }}") && tagsTxt.includes(":latest") && tagsTxt.includes("${{ env.IMAGE_NAMESPACE }}/${{ matrix.image }}"),
      "images pushed as <namespace>/<image>:<sha> and :latest");
    check(wf.env?.IMAGE_NAMESPACE === IMAGE_NS, `image namespace ${IMAGE_NS}`);
    const it = jobs["integration-test"] ?? {};
    check(JSON.stringify(it.needs) === JSON.stringify(["build"]) && /needs\.build\.result == 'success'/.test(it.if ?? ""),
      "integration-test runs after a successful build");
    check(/vars\.STAGE_INTTEST_ENABLED != 'false'/.test(it.if ?? ""), "integration-test gated by vars.STAGE_INTTEST_ENABLED");
    const steps = it.steps ?? [];
    const ti = steps.findIndex((s) => /bash infra\/inttest\/run_pipeline\.sh --image-tag "\$GITHUB_SHA"/.test(s.run ?? ""));
    check(ti >= 0 && !steps[ti].if && !steps[ti]["continue-on-error"], "integration test step runs run_pipeline.sh --image-tag <sha> and fails the job");
    const after = steps.slice(ti + 1);
    check(after.length > 0 && after.every((s) => /always\(\)/.test(s.if ?? "")), "every step after the test runs if: always()");
    check(after.some((s) => String(s.uses ?? "").startsWith("actions/upload-artifact") && s.with?.path === "inttest-results.json"),
      "inttest-results.json archived with actions/upload-artifact");
    check(after.some((s) => /oras push "\$IMAGE_NAMESPACE\/inttest:\$GITHUB_SHA"/.test(s.run ?? "") && /inttest-results\.json:application\/json/.test(s.run ?? "")),
      "evidence pushed as <namespace>/inttest:<sha>, one application/json layer");
    const au = jobs.audit ?? {};
    check(/pull_request/.test(au.if ?? "") && /pipelinectl -c \S+ audit --repo \. "\$BASE_SHA\.\.\$HEAD_SHA"/.test(runs("audit")),
      "pull requests run pipelinectl audit over base..head of the checked-out pull request (--repo .)");
  }

  console.log(`${checks - failures.length} passed, ${failures.length} failed`);
  return failures.length;
}

// One ROOT: its checks and count, exit 1 on any failure (as always). Several
// ROOTs (the mutation test validates its mutated copies in one process
// instead of loading the schema packages once per copy): each root's output
// is enclosed in "==== begin root N: ROOT" and "==== end root N: ROOT: ok" (or
// FAIL), an exception stops only its own root and is reported as a failure
// inside that root's section, and the exit status is 1 if any root failed.
const roots = process.argv.slice(2);
if (roots.length === 0) {
  console.error("usage: node validate.mjs ROOT [ROOT...]");
  process.exit(2);
}
if (roots.length === 1) process.exit(validateRoot(roots[0]) ? 1 : 0);
let failedRoots = 0;
roots.forEach((root, i) => {
  const tag = `root ${i + 1}: ${root}`;
  console.log(`==== begin ${tag}`);
  let failed;
  try {
    failed = validateRoot(root);
  } catch (e) {
    console.log(`FAIL validation stopped by an exception: ${e?.stack ?? e}`);
    failed = 1;
  }
  console.log(`==== end ${tag}: ${failed ? "FAIL" : "ok"}`);
  if (failed) failedRoots++;
});
console.log(`==== ${roots.length} roots: ${roots.length - failedRoots} passed, ${failedRoots} failed`);
process.exit(failedRoots ? 1 : 0);
