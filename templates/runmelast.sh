#!/usr/bin/env bash
# runmelast.sh: removes the Stonks Oracle pipeline (ARC and Argo CD) from the
# gremlin cluster so it can be rebuilt, and keeps everything that matters:
#   - no PersistentVolume is deleted and no NFS data is touched (the claims
#     go with their namespaces; the Retain volumes stay Released until
#     runmefirst.sh binds them again);
#   - the application keeps running: stonks-oracle, stonks-oracle-beta and
#     stonks-oracle-paper and everything in them are never deleted, and
#     Argo CD is disarmed first so that removing it cannot cascade into them.
# Only the namespaces argocd, arc-systems, arc-runners and pipelined are
# deleted. Running it again when everything is gone changes nothing.
set -euo pipefail

PROG=runmelast.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/pipelines-lib.sh
. "$HERE/pipelines-lib.sh"

ARGOCD_CRDS=(applications.argoproj.io applicationsets.argoproj.io appprojects.argoproj.io)
ARC_CRDS=(autoscalingrunnersets.actions.github.com autoscalinglisteners.actions.github.com
	ephemeralrunnersets.actions.github.com ephemeralrunners.actions.github.com)
EMPTY_FINALIZERS='{"metadata":{"finalizers":[]}}'

usage() {
	usage_common
}

# "namespace name finalizers" for every object of a kind, finalizers printed
# by jsonpath as a JSON list or nothing.
list_with_finalizers() {
	kubectl get "$1" -A \
		-o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.finalizers}{"\n"}{end}' ||
		die "kubectl get $1 failed"
}

strip_finalizers() { # kind
	local ns name fin list
	list=$(list_with_finalizers "$1")
	while read -r ns name fin; do
		[ -n "$name" ] || continue
		if [ -n "$fin" ] && [ "$fin" != "[]" ]; then
			run kubectl patch "$1" "$name" -n "$ns" --type=merge -p "$EMPTY_FINALIZERS"
		fi
	done <<<"$list"
}

# Step 1: Argo CD must not act on anything while it is taken apart. With the
# controllers stopped nobody re-adds a finalizer or reacts to a deletion;
# with every finalizer gone, deleting an Application (directly, through its
# ApplicationSet, through its CRD or through its namespace) only removes the
# Application object and never the workloads it deployed.
disarm_argocd() {
	exists crd applications.argoproj.io || return 0
	if exists deployment argocd-server argocd; then
		# A copy of Argo CD's own objects on its NFS volume, for comparison
		# or `argocd admin import` after a rebuild. Losing it loses nothing
		# that the templates do not recreate, so a failure only warns.
		plan kubectl exec -n argocd deploy/argocd-server -- \
			argocd admin export -n argocd -o /home/argocd/backup/argocd-export.yaml
		if [ "$DRY_RUN" -eq 0 ] && ! kubectl exec -n argocd deploy/argocd-server -- \
			argocd admin export -n argocd -o /home/argocd/backup/argocd-export.yaml; then
			note "warning: Argo CD export failed; continuing (templates recreate the project and Applications)"
		fi
	fi
	if exists deployment argocd-applicationset-controller argocd; then
		run kubectl scale deployment argocd-applicationset-controller -n argocd --replicas=0
	fi
	if exists statefulset argocd-application-controller argocd; then
		run kubectl scale statefulset argocd-application-controller -n argocd --replicas=0
	fi
	if exists crd applicationsets.argoproj.io; then
		strip_finalizers applicationsets.argoproj.io
	fi
	strip_finalizers applications.argoproj.io
}

uninstall() { # release namespace
	if exists namespace "$2" && helm_release_exists "$1" "$2"; then
		run helm uninstall "$1" -n "$2" --wait --timeout 10m
	fi
}

delete_crds() {
	local c
	for c in "$@"; do
		if exists crd "$c"; then
			run kubectl delete crd "$c"
		fi
	done
}

delete_own_namespaces() {
	local n
	for n in pipelined arc-runners arc-systems argocd; do
		is_own_namespace "$n" || die "internal error: refusing to delete namespace '$n'"
		if exists namespace "$n"; then
			run kubectl delete namespace "$n"
		fi
	done
}

main() {
	parse_args "$@"
	preflight

	disarm_argocd
	# The runner scale set goes before its controller, which deregisters it
	# from GitHub and removes the runner pods' finalizers.
	uninstall self-hosted-gremlin arc-runners
	uninstall arc arc-systems
	uninstall argocd argocd
	delete_crds "${ARGOCD_CRDS[@]}" "${ARC_CRDS[@]}"
	delete_own_namespaces

	if [ "$DRY_RUN" -eq 1 ]; then
		note "dry run: nothing was changed"
	else
		note "done: pipeline removed; NFS volumes kept (Released) for runmefirst.sh"
	fi
}

main "$@"
