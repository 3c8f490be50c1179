#!/usr/bin/env bash
# Engine figures against the real local servers (sshd + bare repo,
# docker-registry): idle RSS of pipelined, registry requests per idle
# cycle, and the latency from "release complete" (the 14th image pushed)
# to the promotion commit on the remote, by polling (1 s) and by webhook.
#
# usage: SRCDIR=. TOOLDIR=build/tests/tools PIPELINED=build/pipelined \
#        PIPELINECTL=build/pipelinectl PIPELINED_GIT=build/pipelined-git bash bench/engine.sh
# (use a build without sanitizers for the RSS figure)
set -euo pipefail
. "$SRCDIR/tests/fixtures/engine-lib.sh"

stack_up
printf 'bench-secret\n' >"$T/hook.secret"
write_config "$T/pipelines.conf" "[http]" "	webhookSecret = $T/hook.secret"
start_daemon "2026-03-09 12:00:00"
metric() { curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" '$1 == m {s += $2} END {print s + 0}'; }
sleep 5
c0=$(metric pipelined_cycles_total)
r0=$(curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^pipelined_registry_requests_total/ {s += $2} END {print s + 0}')
sleep 10
c1=$(metric pipelined_cycles_total)
r1=$(curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^pipelined_registry_requests_total/ {s += $2} END {print s + 0}')
echo "idle: $((c1 - c0)) cycles in 10 s, $((r1 - r0)) registry answers"
echo "idle RSS: $(ps -o rss= -p "$PD_PID") KiB"

latency() {	# MODE
	local X t0 t1
	X=$(app_commit "release $1")
	push_evidence "$X"
	push_images "$X" 13
	sleep 3
	push_images "$X" 14	# only the 14th is new
	t0=$(date +%s%N)	# the release is complete from here on
	if [ "$1" = webhook ]; then
		body='{"action":"published","registry_package":{"name":"superset"}}'
		sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac bench-secret | awk '{print $NF}')
		curl -fsS -o /dev/null -H "X-GitHub-Event: registry_package" \
			-H "X-GitHub-Delivery: $X" -H "X-Hub-Signature-256: sha256=$sig" \
			--data "$body" "http://127.0.0.1:$HTTP_PORT/hooks/github"
	fi
	until [ "$(rgit log -1 --format='%(trailers:key=Image-Tag,valueonly)' main | sed '/^$/d')" = "$X" ]; do
		sleep 0.02
	done
	t1=$(date +%s%N)
	echo "latency ($1): $(((t1 - t0) / 1000000)) ms from the 14th image to the commit on the remote"
}
latency poll
latency webhook
latency webhook
echo "RSS after 3 promotions: $(ps -o rss= -p "$PD_PID") KiB"
grep 'promoted' "$T/pipelined.log"
t0=$(date +%s%N)
git -C "$W" commit -q --allow-empty -m floor
git -C "$W" push -q origin HEAD:refs/heads/floor
t1=$(date +%s%N)
echo "floor: a bare git push over the same sshd takes $(((t1 - t0) / 1000000)) ms"
