#!/usr/bin/env bash
# ctest: quick
# runmefirst.sh / runmelast.sh against a toy cluster: fake kubectl and helm
# (tests/templates/fakebin) that answer the scripts' read-only queries from
# files and apply their changes to those files, so the scripts run unmodified.
# Proves: shellcheck clean; clear failure and nothing run without kubectl,
# helm, cluster access or ARC credentials; --dry-run changes nothing and
# prints the plan; teardown never deletes a volume, an application namespace
# or workload, and strips Application finalizers before anything of Argo CD
# is deleted; re-install re-binds the Released volumes; second runs plan no
# destructive change.
set -euo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$SRCDIR/templates
FAKEBIN=$SRCDIR/tests/templates/fakebin
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0

ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
expect() { # description, command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

export FAKE_STATE=$W/state
mkdir -p "$FAKE_STATE" "$W/secrets"
printf 'github_pat_for_tests\n' >"$W/secrets/github_token"
export PIPELINES_SECRETS_DIR=$W/secrets
FPATH=$FAKEBIN:$PATH

runs() { # script args... ; stdout -> $W/out, stderr -> $W/err, rc -> $rc
	rc=0
	PATH=$FPATH bash "$T/$1" "${@:2}" >"$W/out" 2>"$W/err" || rc=$?
}
mutations() { [ -s "$FAKE_STATE/mutations" ] && cat "$FAKE_STATE/mutations"; true; }
no_mutations() { [ ! -s "$FAKE_STATE/mutations" ]; }
plan_has() { grep -qE -- "$1" "$W/out"; }
plan_lacks() { ! grep -qE -- "$1" "$W/out"; }
line_of() { grep -nE -- "$1" "$W/out" | head -1 | cut -d: -f1; }
all_lines_are_plan() { ! grep -qv '^+ ' "$W/out"; }
no_violations() {
	if [ -s "$FAKE_STATE/violations" ]; then
		sed 's/^/    /' "$FAKE_STATE/violations"
		return 1
	fi
}

# ---- static checks ----------------------------------------------------------
expect "shellcheck: runmefirst.sh, runmelast.sh, pipelines-lib.sh clean" \
	shellcheck -x "$T/runmefirst.sh" "$T/runmelast.sh" "$T/pipelines-lib.sh"
expect "shellcheck: the fake kubectl/helm clean" shellcheck "$FAKEBIN/kubectl" "$FAKEBIN/helm"
for s in runmefirst.sh runmelast.sh; do
	expect "$s: set -euo pipefail" grep -qx 'set -euo pipefail' "$T/$s"
	expect "$s: never names an application namespace" \
		bash -c "! grep -v '^[[:space:]]*#' '$T/$s' | grep -qE 'stonks-oracle(-beta|-paper)?([^-]|\$)'"
done
expect "runmelast.sh: never deletes a PersistentVolume" bash -c "! grep -qE 'delete[^#]*\\b(pv|persistentvolume)' '$T/runmelast.sh'"
expect "runmefirst.sh: never deletes anything" bash -c "! grep -v '^[[:space:]]*#' '$T/runmefirst.sh' | grep -qE '(delete|uninstall)'"

# ---- preconditions: clear error, non-zero, nothing run ---------------------
# An isolated PATH with only the tools the scripts use besides kubectl/helm.
mkdir -p "$W/bin-nokubectl" "$W/bin-nohelm"
for t in bash dirname grep sed cat; do
	ln -s "$(command -v "$t")" "$W/bin-nokubectl/$t"
	ln -s "$(command -v "$t")" "$W/bin-nohelm/$t"
done
ln -s "$FAKEBIN/helm" "$W/bin-nokubectl/helm"
ln -s "$FAKEBIN/kubectl" "$W/bin-nohelm/kubectl"
for s in runmefirst.sh runmelast.sh; do
	for missing in kubectl helm; do
		rc=0
		PATH=$W/bin-no$missing bash "$T/$s" >"$W/out" 2>"$W/err" || rc=$?
		expect "$s without $missing: exit 2" [ "$rc" -eq 2 ]
		expect "$s without $missing: says so" grep -q "'$missing' is not installed" "$W/err"
		expect "$s without $missing: nothing run" no_mutations
		expect "$s without $missing: no plan printed" [ ! -s "$W/out" ]
	done
	touch "$FAKE_STATE/unreachable"
	runs "$s" --dry-run
	expect "$s, cluster unreachable: exit 2" [ "$rc" -eq 2 ]
	expect "$s, cluster unreachable: says so" grep -q "cannot reach the Kubernetes cluster" "$W/err"
	expect "$s, cluster unreachable: nothing run, no plan" bash -c "[ ! -s '$W/out' ] && [ ! -s '$FAKE_STATE/mutations' ]"
	rm -f "$FAKE_STATE/unreachable"
	runs "$s" --bogus
	expect "$s --bogus: usage error, exit 2" bash -c "[ $rc -eq 2 ] && grep -q \"unknown argument '--bogus'\" '$W/err'"
done
PIPELINES_SECRETS_DIR=$W/empty runs runmefirst.sh
expect "runmefirst.sh without ARC credentials: exit 2" [ "$rc" -eq 2 ]
expect "runmefirst.sh without ARC credentials: says where to put them" grep -q "no GitHub credentials for ARC" "$W/err"
expect "runmefirst.sh without ARC credentials: nothing run" no_mutations
PIPELINED_ADDR=gremlin-1 runs runmefirst.sh --dry-run
expect "runmefirst.sh with a bad PIPELINED_ADDR: exit 2, nothing run" bash -c "[ $rc -eq 2 ] && [ ! -s '$FAKE_STATE/mutations' ]"

# ---- the application is already running in the cluster ----------------------
mkdir -p "$FAKE_STATE/obj/namespace/_" "$FAKE_STATE/obj/deployment/stonks-oracle" "$FAKE_STATE/obj/service/stonks-oracle"
touch "$FAKE_STATE/obj/namespace/_/stonks-oracle" "$FAKE_STATE/obj/deployment/stonks-oracle/query-api" \
	"$FAKE_STATE/obj/service/stonks-oracle/query-api"
app_intact() {
	[ -e "$FAKE_STATE/obj/namespace/_/stonks-oracle" ] &&
		[ -e "$FAKE_STATE/obj/deployment/stonks-oracle/query-api" ] &&
		[ -e "$FAKE_STATE/obj/service/stonks-oracle/query-api" ]
}

# ---- first install -----------------------------------------------------------
runs runmefirst.sh --dry-run
expect "install --dry-run: exit 0" [ "$rc" -eq 0 ]
expect "install --dry-run: changes nothing" no_mutations
expect "install --dry-run: prints only '+ ' command lines" all_lines_are_plan
for step in "kubectl apply -f $T/k8s/namespaces.yaml" "kubectl apply -f $T/k8s/nfs-pv.yaml" \
	"kubectl apply -f $T/k8s/nfs-pvc.yaml" "helm upgrade --install argocd argo-cd .*--version [0-9]" \
	"kubectl apply -f $T/argocd/project.yaml" "kubectl apply -f $T/argocd/applications.yaml" \
	"kubectl create secret generic arc-github-auth -n arc-runners --from-file=github_token=" \
	"helm upgrade --install arc .*/gha-runner-scale-set-controller --version [0-9]" \
	"helm upgrade --install self-hosted-gremlin .*/gha-runner-scale-set --version [0-9]" \
	"kubectl apply -f $T/k8s/dashboard.yaml"; do
	expect "install plan: + $step" plan_has "^\+ $step"
done
expect "install plan: Argo CD before its project and Applications" \
	[ "$(line_of 'helm upgrade --install argocd')" -lt "$(line_of 'argocd/project.yaml')" ]
expect "install plan: volumes before claims" \
	[ "$(line_of 'nfs-pv.yaml')" -lt "$(line_of 'nfs-pvc.yaml')" ]
expect "install plan: no secret material printed" plan_lacks "github_pat_for_tests"
cp "$W/out" "$W/plan-first"

runs runmefirst.sh
expect "install: exit 0" [ "$rc" -eq 0 ]
expect "install: ran exactly the commands its dry run printed" diff -q "$W/out" "$W/plan-first"
expect "install: both volumes Bound" bash -c "grep -qx 'Bound argocd' '$FAKE_STATE/pv/pipelines-argocd' && grep -qx 'Bound arc-runners' '$FAKE_STATE/pv/pipelines-arc'"
expect "install: application untouched" app_intact
expect "install: no violation" no_violations

: >"$FAKE_STATE/mutations"
runs runmefirst.sh --dry-run
expect "second install --dry-run: only apply / upgrade --install (idempotent), no patch, create or delete" \
	bash -c "! grep -qvE '^\+ (kubectl apply -f|helm upgrade --install) ' '$W/out'"

# ---- teardown ---------------------------------------------------------------
# Someone added the cascading finalizer by hand and an ApplicationSet exists:
# the worst case for a teardown.
printf '["resources-finalizer.argocd.argoproj.io"]\n' >"$FAKE_STATE/obj/applications.argoproj.io/argocd/stonks-oracle-live"
printf '["resources-finalizer.argocd.argoproj.io"]\n' >"$FAKE_STATE/obj/applications.argoproj.io/argocd/stonks-oracle-paper"
mkdir -p "$FAKE_STATE/obj/applicationsets.argoproj.io/argocd"
printf '["resources-finalizer.argocd.argoproj.io"]\n' >"$FAKE_STATE/obj/applicationsets.argoproj.io/argocd/stages"
: >"$FAKE_STATE/mutations"

runs runmelast.sh --dry-run
expect "teardown --dry-run: exit 0" [ "$rc" -eq 0 ]
expect "teardown --dry-run: changes nothing" no_mutations
expect "teardown --dry-run: prints only '+ ' command lines" all_lines_are_plan
expect "teardown plan: never deletes a PersistentVolume" plan_lacks "delete (pv|persistentvolume)"
expect "teardown plan: never deletes an application namespace" plan_lacks "delete (namespace|ns) stonks-oracle"
expect "teardown plan: never touches an application namespace's objects" plan_lacks "-n stonks-oracle"
expect "teardown plan: deletes only the pipeline's namespaces" \
	bash -c "grep 'delete namespace' '$W/out' | awk '{print \$5}' | sort | tr '\n' ' ' | grep -qx 'arc-runners arc-systems argocd pipelined '"
for a in stonks-oracle-live stonks-oracle-paper; do
	expect "teardown plan: strips $a's finalizers" plan_has "^\+ kubectl patch applications.argoproj.io $a -n argocd --type=merge -p '\{\"metadata\":\{\"finalizers\":\[\]\}\}'"
done
expect "teardown plan: strips the ApplicationSet's finalizers" plan_has "^\+ kubectl patch applicationsets.argoproj.io stages -n argocd"
expect "teardown plan: leaves Applications without finalizers alone" plan_lacks "patch applications.argoproj.io stonks-oracle-beta"
last_patch=$(grep -n 'finalizers' "$W/out" | tail -1 | cut -d: -f1)
first_destroy=$(grep -nE 'uninstall argocd|delete crd|delete namespace' "$W/out" | head -1 | cut -d: -f1)
expect "teardown plan: every finalizer removed before any Argo CD uninstall / CRD / namespace delete" \
	[ "$last_patch" -lt "$first_destroy" ]
expect "teardown plan: Argo CD controllers stopped before the finalizers are stripped" \
	[ "$(line_of 'scale statefulset argocd-application-controller')" -lt "$(line_of 'kubectl patch')" ]
expect "teardown plan: runner scale set removed before its controller" \
	[ "$(line_of 'uninstall self-hosted-gremlin')" -lt "$(line_of 'uninstall arc ')" ]

runs runmelast.sh
expect "teardown: exit 0" [ "$rc" -eq 0 ]
expect "teardown: no cascade, no volume or application deletion" no_violations
expect "teardown: application untouched" app_intact
expect "teardown: volumes kept, Released" bash -c "grep -qx Released '$FAKE_STATE/pv/pipelines-argocd' && grep -qx Released '$FAKE_STATE/pv/pipelines-arc'"
expect "teardown: Argo CD and ARC gone" bash -c "[ ! -e '$FAKE_STATE/obj/crd/_/applications.argoproj.io' ] && [ -z \"\$(find '$FAKE_STATE/helm' -type f)\" ]"

: >"$FAKE_STATE/mutations"
runs runmelast.sh --dry-run
expect "second teardown --dry-run: plans nothing" [ ! -s "$W/out" ]
runs runmelast.sh
expect "second teardown: runs nothing" bash -c "[ $rc -eq 0 ] && [ ! -s '$FAKE_STATE/mutations' ]"

# The harness itself catches a cascade: deleting the Application CRD while an
# Application still has its finalizer is reported.
mkdir -p "$W/probe/obj/crd/_" "$W/probe/obj/applications.argoproj.io/argocd"
touch "$W/probe/obj/crd/_/applications.argoproj.io"
printf '["resources-finalizer.argocd.argoproj.io"]\n' >"$W/probe/obj/applications.argoproj.io/argocd/x"
FAKE_STATE=$W/probe PATH=$FPATH kubectl delete crd applications.argoproj.io
expect "fake cluster reports a cascading delete (harness self-check)" grep -q "cascade: Application argocd/x" "$W/probe/violations"

# ---- re-install after teardown: the old volumes come back --------------------
runs runmefirst.sh --dry-run
for pv in pipelines-argocd pipelines-arc; do
	expect "re-install plan: re-binds Released $pv" \
		plan_has "^\+ kubectl patch pv $pv --type=merge -p '\{\"spec\":\{\"claimRef\":\{\"uid\":null,\"resourceVersion\":null\}\}\}'"
	expect "re-install plan: $pv re-bound after the volumes are applied and before the claims" \
		bash -c "[ $(line_of "nfs-pv.yaml") -lt $(line_of "patch pv $pv") ] && [ $(line_of "patch pv $pv") -lt $(line_of "nfs-pvc.yaml") ]"
done
expect "re-install --dry-run: changes nothing" no_mutations
runs runmefirst.sh
expect "re-install: exit 0" [ "$rc" -eq 0 ]
expect "re-install: both volumes Bound again to their claims" bash -c "grep -qx 'Bound argocd' '$FAKE_STATE/pv/pipelines-argocd' && grep -qx 'Bound arc-runners' '$FAKE_STATE/pv/pipelines-arc'"
expect "re-install: application untouched, no violation" bash -c "[ ! -s '$FAKE_STATE/violations' ]" 
expect "re-install: application untouched" app_intact
runs runmefirst.sh --dry-run
expect "install after re-install --dry-run: no re-bind, no create, no delete" \
	bash -c "! grep -qvE '^\+ (kubectl apply -f|helm upgrade --install) ' '$W/out'"

# PIPELINED_ADDR is substituted into the Endpoints.
: >"$FAKE_STATE/mutations"
PIPELINED_ADDR=192.168.42.11 runs runmefirst.sh --dry-run
expect "PIPELINED_ADDR: plan applies the dashboard with the address replaced" \
	plan_has "^\+ kubectl apply -f - < $T/k8s/dashboard.yaml  # 192.168.42.254 replaced by 192.168.42.11"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
