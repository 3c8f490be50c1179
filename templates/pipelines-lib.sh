# shellcheck shell=bash
# shellcheck disable=SC2034  # the constants are read by the scripts that source this file
# Shared by runmefirst.sh and runmelast.sh (sourced, never run).
#
# Every command that changes the cluster goes through run(): it prints the
# command as one line "+ cmd args..." (quoted so the line can be pasted into
# a shell) and, unless --dry-run, executes it. Commands that only read the
# cluster (get, list, version) are called directly and never printed, so a
# dry run shows exactly the changes a real run would make from today's state.

# Chart versions are pinned: a rebuild must install what was reviewed.
ARGOCD_CHART_REPO=https://argoproj.github.io/argo-helm
ARGOCD_CHART_VERSION=9.1.0
ARC_CHART_PREFIX=oci://ghcr.io/actions/actions-runner-controller-charts
ARC_CHART_VERSION=0.14.2

# The pipeline's own namespaces; nothing else is ever deleted as a namespace.
OWN_NAMESPACES=(argocd arc-systems arc-runners pipelined)
PART_OF_LABEL=app.kubernetes.io/part-of=stonks-pipelines

DRY_RUN=0

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 2
}

note() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

# Prints one argument quoted only when the shell needs it, so plans stay
# readable: kubectl patch ... -p '{"spec":{...}}'.
quote_arg() {
	local a=$1
	if [[ $a =~ ^[A-Za-z0-9_./:=@,+%^-]+$ ]]; then
		printf '%s' "$a"
	else
		printf "'%s'" "${a//\'/\'\\\'\'}"
	fi
}

plan() {
	local a
	printf '+'
	for a in "$@"; do
		printf ' '
		quote_arg "$a"
	done
	printf '\n'
}

run() {
	plan "$@"
	if [ "$DRY_RUN" -eq 0 ]; then
		"$@"
	fi
}

usage_common() {
	cat <<EOF
usage: $PROG [--dry-run] [-h|--help]

  --dry-run   print the commands that would change the cluster, one per line
              prefixed with "+ ", and change nothing (the cluster is still
              read to decide, so it must be reachable)
EOF
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--dry-run | -n) DRY_RUN=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			die "unknown argument '$1'"
			;;
		esac
		shift
	done
}

# Fail before touching anything when the tools or the cluster are missing.
preflight() {
	local t out
	for t in kubectl helm; do
		command -v "$t" >/dev/null 2>&1 ||
			die "'$t' is not installed or not in PATH; install it on this host and run $PROG again (nothing was changed)"
	done
	if ! out=$(kubectl version --request-timeout=15s 2>&1 >/dev/null); then
		die "cannot reach the Kubernetes cluster with kubectl (check KUBECONFIG / the API server); nothing was changed${out:+: ${out//$'\n'/ }}"
	fi
}

# Read-only helpers: print nothing to the plan.
exists() { # kind name [namespace]
	local out
	out=$(kubectl get "$1" "$2" ${3:+-n "$3"} --ignore-not-found -o name) ||
		die "kubectl get $1 $2 failed"
	[ -n "$out" ]
}

helm_release_exists() { # release namespace
	local r
	# -a: also a release stuck in pending-install or failed
	r=$(helm list -n "$2" -q -a) || die "helm list -n $2 failed"
	grep -qxF -- "$1" <<<"$r"
}

is_own_namespace() {
	local n
	for n in "${OWN_NAMESPACES[@]}"; do
		[ "$n" = "$1" ] && return 0
	done
	return 1
}
