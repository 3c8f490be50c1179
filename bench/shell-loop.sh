#!/usr/bin/env bash
# The shell pipeline an operator would write instead of pipelined, as the
# baseline of bench/shell-baseline.sh: every INTERVAL seconds pull the
# GitOps checkout, list the tags of the 14 images with skopeo, take the
# newest commit of main that every image has a tag for, and if beta does
# not run it yet, sed the tags in values-beta.yaml, commit and push.
# Nothing more: no evidence or market check, no request branches, no
# exactly-once under crashes, no audit trail.
#
# usage: shell-loop.sh REGISTRY-HOST:PORT NAMESPACE CHECKOUT INTERVAL [CYCLE-LOG]
# CYCLE-LOG gets one line per cycle: "idle|promoted MILLISECONDS".
set -u
reg=$1 ns=$2 repo=$3 interval=$4 log=${5:-/dev/null}
images=(scheduler symbol-registry ingestion parser extractor aggregation recommendation
	risk broker-adapter lake-publisher query-api trading-engine dashboard superset)
values=$repo/values/values-beta.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while :; do
	start=$(date +%s%N) what=idle
	if git -C "$repo" pull -q --ff-only origin main; then
		for img in "${images[@]}"; do
			skopeo list-tags --tls-verify=false "docker://$reg/$ns/$img" | jq -r '.Tags[]' | sort -u
		done | sort | uniq -c | awk -v n=${#images[@]} '$1 == n {print $2}' >"$tmp/common"
		tag=
		for c in $(git -C "$repo" log --format=%H -n 100 main); do
			if grep -qx "$c" "$tmp/common"; then tag=$c; break; fi
		done
		cur=$(sed -n 's/^ *tag: *"\([^"]*\)".*/\1/p' "$values" | head -n1)
		if [ -n "$tag" ] && [ "$tag" != "$cur" ]; then
			sed -i "s/^\( *tag: *\)\"[^\"]*\"/\1\"$tag\"/" "$values"
			git -C "$repo" commit -q -am "promote beta: ${tag:0:12}"
			git -C "$repo" push -q origin HEAD:main || git -C "$repo" reset -q --hard origin/main
			what=promoted
		fi
	fi
	echo "$what $((($(date +%s%N) - start) / 1000000))" >>"$log"
	sleep "$interval"
done
