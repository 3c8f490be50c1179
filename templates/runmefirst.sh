#!/usr/bin/env bash
# runmefirst.sh: installs (or re-installs, or upgrades) the Stonks Oracle
# pipeline on the gremlin cluster: Argo CD with the stonks-oracle project and
# its beta/paper/live Applications, the Actions Runner Controller with the
# self-hosted-gremlin runner scale set, the NFS volumes for pipeline state and
# the ingress for the pipelined dashboard. Safe to run again at any time:
# every step is `kubectl apply` or `helm upgrade --install`, and volumes left
# Released by runmelast.sh are bound again so their data comes back.
# It never deletes anything and never touches the application namespaces.
set -euo pipefail

PROG=runmefirst.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/pipelines-lib.sh
. "$HERE/pipelines-lib.sh"

# Address where pipelined's dashboard listens on gremlin-1 (dashboard.yaml).
DEFAULT_PIPELINED_ADDR=192.168.42.254
PIPELINED_ADDR=${PIPELINED_ADDR:-$DEFAULT_PIPELINED_ADDR}
# Files holding the ARC GitHub credentials, used only if the Secret is absent.
PIPELINES_SECRETS_DIR=${PIPELINES_SECRETS_DIR:-$HERE/secrets}
ARC_SECRET=arc-github-auth

usage() {
	usage_common
	cat <<EOF

environment:
  PIPELINED_ADDR         gremlin-1 address of the pipelined dashboard
                         (default $DEFAULT_PIPELINED_ADDR)
  PIPELINES_SECRETS_DIR  directory with the ARC credentials, read only when the
                         Secret $ARC_SECRET does not exist yet (default
                         \$HERE/secrets): files github_app_id,
                         github_app_installation_id, github_app_private_key,
                         or a single file github_token
EOF
}

# The --from-file arguments for the ARC Secret, or nothing if no files exist.
arc_secret_sources() {
	local d=$PIPELINES_SECRETS_DIR k
	if [ -f "$d/github_app_id" ] && [ -f "$d/github_app_installation_id" ] &&
		[ -f "$d/github_app_private_key" ]; then
		for k in github_app_id github_app_installation_id github_app_private_key; do
			printf -- '--from-file=%s=%s\n' "$k" "$d/$k"
		done
	elif [ -f "$d/github_token" ]; then
		printf -- '--from-file=github_token=%s\n' "$d/github_token"
	fi
}

check_arc_auth() {
	if exists namespace arc-runners && exists secret "$ARC_SECRET" arc-runners; then
		return 0
	fi
	[ -n "$(arc_secret_sources)" ] ||
		die "no GitHub credentials for ARC: the Secret arc-runners/$ARC_SECRET does not exist and $PIPELINES_SECRETS_DIR has neither github_app_{id,installation_id,private_key} nor github_token (templates/README.md); nothing was changed"
}

check_addr() {
	[[ $PIPELINED_ADDR =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] ||
		die "PIPELINED_ADDR '$PIPELINED_ADDR' is not an IPv4 address; nothing was changed"
}

# Released volumes keep the uid of the claim that was deleted with its
# namespace; with that uid cleared the volume is Available again, still
# pre-bound by claimRef to the claim name, and the new claim binds it.
rebind_released_volumes() {
	local name phase list
	list=$(kubectl get pv -l "$PART_OF_LABEL" \
		-o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.phase}{"\n"}{end}') ||
		die "kubectl get pv failed"
	while read -r name phase; do
		[ -n "$name" ] || continue
		if [ "$phase" = Released ]; then
			note "volume $name is Released from an earlier install: binding it again"
			run kubectl patch pv "$name" --type=merge \
				-p '{"spec":{"claimRef":{"uid":null,"resourceVersion":null}}}'
		fi
	done <<<"$list"
}

create_arc_secret() {
	local -a src
	if exists namespace arc-runners && exists secret "$ARC_SECRET" arc-runners; then
		return 0
	fi
	mapfile -t src < <(arc_secret_sources)
	run kubectl create secret generic "$ARC_SECRET" -n arc-runners "${src[@]}"
}

apply_dashboard() {
	if [ "$PIPELINED_ADDR" = "$DEFAULT_PIPELINED_ADDR" ]; then
		run kubectl apply -f "$HERE/k8s/dashboard.yaml"
		return
	fi
	printf '+ kubectl apply -f - < %s  # %s replaced by %s\n' \
		"$HERE/k8s/dashboard.yaml" "$DEFAULT_PIPELINED_ADDR" "$PIPELINED_ADDR"
	if [ "$DRY_RUN" -eq 0 ]; then
		sed "s/${DEFAULT_PIPELINED_ADDR//./\\.}/$PIPELINED_ADDR/g" \
			"$HERE/k8s/dashboard.yaml" | kubectl apply -f -
	fi
}

main() {
	parse_args "$@"
	preflight
	check_addr
	check_arc_auth

	run kubectl apply -f "$HERE/k8s/namespaces.yaml"
	run kubectl apply -f "$HERE/k8s/nfs-pv.yaml"
	rebind_released_volumes
	run kubectl apply -f "$HERE/k8s/nfs-pvc.yaml"

	run helm upgrade --install argocd argo-cd --repo "$ARGOCD_CHART_REPO" \
		--version "$ARGOCD_CHART_VERSION" -n argocd \
		-f "$HERE/argocd/values-argocd.yaml" --wait --timeout 10m
	run kubectl apply -f "$HERE/argocd/project.yaml"
	run kubectl apply -f "$HERE/argocd/applications.yaml"

	create_arc_secret
	run helm upgrade --install arc "$ARC_CHART_PREFIX/gha-runner-scale-set-controller" \
		--version "$ARC_CHART_VERSION" -n arc-systems \
		-f "$HERE/arc/values-controller.yaml" --wait --timeout 10m
	run helm upgrade --install self-hosted-gremlin "$ARC_CHART_PREFIX/gha-runner-scale-set" \
		--version "$ARC_CHART_VERSION" -n arc-runners \
		-f "$HERE/arc/values-runner-set.yaml" --wait --timeout 10m

	apply_dashboard
	if [ "$DRY_RUN" -eq 1 ]; then
		note "dry run: nothing was changed"
	else
		note "done: Argo CD at https://argocd.celestium.life, dashboard at https://pipelines.celestium.life"
	fi
}

main "$@"
