#!/usr/bin/env bash
# shellcheck disable=SC2016  # literal $ and ${{ }} inside the mutation expressions
# Validates templates/ and values/ offline against the real schemas:
# Kubernetes core and Argo CD CRD schemas (kubernetes-models,
# @kubernetes-models/argo-cd, plus an unknown-field check), the GitHub
# Actions workflow schema (@action-validator/cli), the pinned charts' value
# keys, and the cross-file rules (tests/templates/validate.mjs). Then shows
# that each kind of mistake an operator could make is caught, by validating
# mutated copies (all built by one python3 and validated by one node, each
# judged on its own section of the output). The npm packages come from the committed lock file,
# installed with `npm ci` into the build directory (once per lock change).
set -euo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR/build-test}
PKG=$SRCDIR/tests/templates
NPMDIR=$BUILDDIR/templates-npm
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

lock_hash=$(cat "$PKG/package.json" "$PKG/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$NPMDIR/.lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
	rm -rf "$NPMDIR"
	mkdir -p "$NPMDIR"
	cp "$PKG/package.json" "$PKG/package-lock.json" "$NPMDIR/"
	(cd "$NPMDIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
	echo "$lock_hash" >"$NPMDIR/.lock-hash"
fi
# ES modules resolve packages next to the script, so it runs from there.
cp "$PKG/validate.mjs" "$NPMDIR/validate.mjs"
VALIDATE=("node" "$NPMDIR/validate.mjs")
ACTION_VALIDATOR=("node" "$NPMDIR/node_modules/@action-validator/cli/cli.mjs")

# ---- the committed files ------------------------------------------------------
if "${VALIDATE[@]}" "$SRCDIR" >"$W/out" 2>&1; then
	ok "templates/ and values/: $(tail -1 "$W/out")"
else
	grep -v '^ok' "$W/out" | sed 's/^/    /'
	bad "templates/ and values/ validate"
fi
if "${ACTION_VALIDATOR[@]}" "$SRCDIR/templates/github/ci.yml" >"$W/av" 2>&1; then
	ok "templates/github/ci.yml is a valid GitHub Actions workflow (action-validator)"
else
	sed 's/^/    /' "$W/av"
	bad "templates/github/ci.yml is a valid GitHub Actions workflow"
fi

# ---- mutations: each must be caught with a message naming it ----------------
# mutate NAME FILE PYTHON-EXPR-ON-s EXPECTED-OUTPUT-REGEX [validator]
# records one case; all cases are built, then validated together, below.
names=()
files=()
wants=()
tools=()
mutate() {
	local i=${#names[@]}
	names+=("$1")
	files+=("$2")
	wants+=("$4")
	tools+=("${5:-validate}")
	printf '%s\0' "$W/m$i" "$2" "$3" "$1" >>"$W/mutations"
}

mutate "PV reclaim policy Delete" templates/k8s/nfs-pv.yaml \
	's.replace("persistentVolumeReclaimPolicy: Retain", "persistentVolumeReclaimPolicy: Delete", 1)' "FAIL PV pipelines-argocd: reclaim policy Retain"
mutate "misspelt PV field (nfs.sever)" templates/k8s/nfs-pv.yaml \
	's.replace("server: 192.168.42.8", "sever: 192.168.42.8", 1)' "FAIL .*PersistentVolume pipelines-argocd: valid against the schema.*server"
mutate "unknown Application field (automated.selfheal)" templates/argocd/applications.yaml \
	's.replace("selfHeal: true", "selfheal: true", 1)' "FAIL .*Application argocd/stonks-oracle-beta: no field unknown to the schema: /spec/syncPolicy/automated/selfheal"
mutate "wrongly typed Ingress port" templates/k8s/dashboard.yaml \
	's.replace("port: 80\n", "port: eighty\n", 1)' "FAIL .*Service pipelined/pipelined-dashboard: valid against the schema"
mutate "sync window turned into an allow window" templates/argocd/project.yaml \
	's.replace("kind: deny", "kind: allow")' "FAIL one deny sync window"
mutate "sync window in UTC" templates/argocd/project.yaml \
	's.replace("timeZone: America/New_York", "timeZone: UTC")' "FAIL deny window in America/New_York"
mutate "beta blocked by the market window" templates/argocd/project.yaml \
	's.replace("        - stonks-oracle-paper\n", "        - stonks-oracle-paper\n        - stonks-oracle-beta\n", 1)' "FAIL deny window covers paper and live, not beta"
mutate "project opened to a fourth namespace" templates/argocd/project.yaml \
	's.replace("      namespace: stonks-oracle\n", "      namespace: stonks-oracle\n    - server: https://kubernetes.default.svc\n      namespace: default\n", 1)' "FAIL project destinations are exactly"
mutate "the daemon's account may sync" templates/argocd/values-argocd.yaml \
	's.replace("applications, get, stonks-oracle/stonks-oracle-live", "applications, sync, stonks-oracle/stonks-oracle-live", 1)' "FAIL pipelined may only get the three Applications"
mutate "cascading finalizer on an Application" templates/argocd/applications.yaml \
	's.replace("  name: stonks-oracle-live\n", "  name: stonks-oracle-live\n  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n", 1)' "FAIL stonks-oracle-live: no resources finalizer"
mutate "stage file missing from valueFiles" templates/argocd/applications.yaml \
	's.replace("          - $values/values/values-paper.yaml\n", "", 1)' "FAIL stonks-oracle-paper: valueFiles"
mutate "single-quoted tag" values/values-paper.yaml \
	's.replace("tag: \"0000000000000000000000000000000000000000\"", "tag: '"'"'0000000000000000000000000000000000000000'"'"'", 1)' "FAIL values/values-paper.yaml: services.scheduler.image.tag is double-quoted"
mutate "short tag" values/values-live.yaml \
	's.replace("tag: \"0000000000000000000000000000000000000000\"", "tag: \"0000000\"", 1)' "FAIL values/values-live.yaml: services.scheduler.image.tag is one line"
mutate "an image missing" values/values-beta.yaml \
	's.replace("  superset:\n    image:\n      repository: ghcr.io/celesrenata/stonks-oracle/superset\n      tag: \"0000000000000000000000000000000000000000\"\n", "")' "FAIL values/values-beta.yaml: exactly 14 services.\*.image.tag scalars"
mutate "a literal broker secret" values/values-paper.yaml \
	's.replace("        valueFrom:\n          secretKeyRef:\n            name: alpaca-paper-credentials\n            key: api-secret-key\n", "        value: hunter2\n")' "FAIL values/values-paper.yaml: ALPACA_API_SECRET_KEY comes from a Secret"
mutate "paper on the live broker" values/values-paper.yaml \
	's.replace("value: paper", "value: live", 1)' "FAIL values/values-paper.yaml: broker adapter BROKER_MODE=paper"
mutate "misspelt chart key in ARC values" templates/arc/values-runner-set.yaml \
	's.replace("runnerScaleSetName:", "runnerScaleSetNmae:")' "FAIL templates/arc/values-runner-set.yaml: only keys the chart defines: unknown runnerScaleSetNmae"
mutate "inline GitHub token in ARC values" templates/arc/values-runner-set.yaml \
	's.replace("githubConfigSecret: arc-github-auth", "githubConfigSecret:\n  github_token: ghp_x")' "FAIL runner credentials from a pre-created Secret"
mutate "bad runner pod spec" templates/arc/values-runner-set.yaml \
	's.replace("restartPolicy: Always", "restartPolicy: 7")' "FAIL values-runner-set.yaml template \(PodTemplateSpec\): valid against the schema"
mutate "Argo CD ingress not on Traefik" templates/argocd/values-argocd.yaml \
	's.replace("ingressClassName: traefik", "ingressClassName: nginx")' "FAIL Argo CD ingress class traefik"
mutate "dashboard Ingress from another issuer" templates/k8s/dashboard.yaml \
	's.replace("cluster-issuer: ca-issuer", "cluster-issuer: letsencrypt")' "FAIL dashboard Ingress TLS from ClusterIssuer ca-issuer"
mutate "build not waiting for the tests" templates/github/ci.yml \
	's.replace("    needs: [lint, test, frontend]\n", "")' "FAIL build needs lint, test and frontend"
mutate "evidence only published on success" templates/github/ci.yml \
	's.replace("      - name: Publish the evidence artifact\n        if: ${{ always() }}\n", "      - name: Publish the evidence artifact\n")' "FAIL every step after the test runs if: always\(\)"
mutate "values paths trigger builds" templates/github/ci.yml \
	's.replace("      - \"values/**\"\n", "      - \"docs/**\"\n")' "FAIL values files do not trigger builds"
mutate "job on a GitHub-hosted runner" templates/github/ci.yml \
	's.replace("runs-on: self-hosted-gremlin", "runs-on: ubuntu-latest", 1)' "FAIL job lint runs on self-hosted-gremlin"
mutate "invalid workflow key (action-validator)" templates/github/ci.yml \
	's.replace("    runs-on: self-hosted-gremlin\n", "    run-on: self-hosted-gremlin\n", 1)' "Additional property 'run-on' is not allowed" action-validator
mutate "duplicate YAML key" templates/k8s/namespaces.yaml \
	's.replace("  name: argocd\n", "  name: argocd\n  name: argo\n", 1)' "FAIL templates/k8s/namespaces.yaml: parses as YAML"

# One python3 builds every case: a fresh copy of templates/ and values/ in its
# own directory, with the case's one file mutated. A mutation that leaves its
# file unchanged stops the test (its case would prove nothing).
python3 - "$SRCDIR" "$W/mutations" <<'EOF'
import shutil, sys
src, spec = sys.argv[1], sys.argv[2]
fields = open(spec, encoding="utf-8").read().split("\0")[:-1]
unchanged = []
for root, file, expr, name in zip(*[iter(fields)] * 4):
    for sub in ("templates", "values"):
        shutil.copytree(src + "/" + sub, root + "/" + sub)
    path = root + "/" + file
    s = open(path).read()
    n = eval(expr, {"s": s})
    if n == s:
        unchanged.append(f"{path} ({name})")
        continue
    open(path, "w").write(n)
if unchanged:
    sys.exit("mutation did not change " + ", ".join(unchanged))
EOF

# One node validates every validate.mjs case (the schema packages load once,
# not once per case), then the committed tree again: it must still pass after
# the mutated copies, so no state is carried from one root to the next. Each
# case is judged on its own root's section only: its verdict must be FAIL and
# its expected message must be in that section, not merely somewhere.
roots=()
for i in "${!names[@]}"; do
	[ "${tools[$i]}" = validate ] && roots+=("$W/m$i")
done
roots+=("$SRCDIR")
batch_rc=0
"${VALIDATE[@]}" "${roots[@]}" >"$W/batch" 2>&1 || batch_rc=$?
# section N ROOT OUT: writes root N's lines to OUT and prints its verdict
# (ok or FAIL; nothing when the section is missing or unterminated)
section() {
	awk -v b="==== begin root $1: $2" -v e="==== end root $1: $2: " -v out="$3" '
		$0 == b { on = 1; printf "" > out; next }
		on && index($0, e) == 1 { print substr($0, length(e) + 1); exit }
		on { print > out }' "$W/batch"
}

n=0
for i in "${!names[@]}"; do
	name=${names[$i]} want=${wants[$i]}
	: >"$W/mout"
	if [ "${tools[$i]}" = action-validator ]; then
		rc=0
		"${ACTION_VALIDATOR[@]}" "$W/m$i/${files[$i]}" >"$W/mout" 2>&1 || rc=$?
		verdict="exit $rc"
		caught=$([ "$rc" -ne 0 ] && echo 1 || echo 0)
	else
		n=$((n + 1))
		verdict=$(section "$n" "$W/m$i" "$W/mout")
		caught=$([ "$verdict" = FAIL ] && echo 1 || echo 0)
		verdict="verdict ${verdict:-missing}"
	fi
	if [ "$caught" -eq 1 ] && grep -qE -- "$want" "$W/mout"; then
		ok "caught: $name"
	else
		sed 's/^/    /' "$W/mout" | grep -v '^    ok' | head -20
		bad "not caught: $name ($verdict, wanted /$want/)"
	fi
done
: >"$W/clean"
verdict=$(section "$((n + 1))" "$SRCDIR" "$W/clean")
if [ "$verdict" = ok ] && [ "$batch_rc" -eq 1 ]; then
	ok "templates/ and values/ still pass after the $n mutated copies in the same process: $(tail -1 "$W/clean")"
else
	grep -v '^ok' "$W/clean" | sed 's/^/    /'
	tail -5 "$W/batch" | sed 's/^/    /'
	bad "templates/ and values/ pass after the mutated copies (verdict ${verdict:-missing}, exit $batch_rc, wanted ok and 1)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
