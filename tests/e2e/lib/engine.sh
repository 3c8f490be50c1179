# shellcheck shell=bash
# Sourced by tests/e2e/engine_*.sh: a real sshd + bare GitOps repo with the
# 14-image values files, a real docker-registry, and pipelined itself run
# under libfaketime (the market window must not depend on the real time).
: "${PIPELINED:?}" "${PIPELINECTL:?}"
# shellcheck source=../../fixtures/gitops-lib.sh
. "$SRCDIR/tests/fixtures/gitops-lib.sh"
# shellcheck source=../../fixtures/lib.sh
. "$SRCDIR/tests/fixtures/lib.sh"
ok() { echo "ok - $*"; }

IMAGES=(scheduler symbol-registry ingestion parser extractor aggregation recommendation
	risk broker-adapter lake-publisher query-api trading-engine dashboard superset)
NS=celesrenata/stonks-oracle
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
PD_PID=
stop_daemon() {
	[ -z "$PD_PID" ] || { kill "$PD_PID" 2>/dev/null; wait "$PD_PID" 2>/dev/null || true; }
	PD_PID=
}
engine_cleanup() {
	stop_daemon
	bash "$SRCDIR/tests/fixtures/registry.sh" stop "$T/reg" 2>/dev/null || true
	cleanup
}
trap engine_cleanup EXIT
[ -z "${KEEP_LOG:-}" ] || trap 'cp "$T/pipelined.log" "$KEEP_LOG"; engine_cleanup' EXIT

values_file() {	# STAGE TAG
	printf '# %s values\nglobal:\n  stage: %s\n\nservices:\n' "$1" "$1"
	for i in "${IMAGES[@]}"; do
		printf '  %s:\n    image:\n      repository: ghcr.io/%s/%s\n      tag: "%s"\n' \
			"$i" "$NS" "$i" "$2"
	done
}

# start the servers, seed the repo, write $T/pipelines.conf
stack_up() {
	start_sshd
	bash "$SRCDIR/tests/fixtures/sshd.sh" repo "$T" gitops
	W=$T/work
	git init -q "$W"
	mkdir -p "$W/values" "$W/src"
	for s in beta paper live; do values_file "$s" 0000000000000000000000000000000000000000 \
		>"$W/values/values-$s.yaml"; done
	echo "app v0" >"$W/src/app.txt"
	git -C "$W" add -A
	git -C "$W" commit -q -m "initial layout"
	git -C "$W" remote add origin "$SSH_URL_BASE/gitops.git"
	git -C "$W" push -q origin HEAD:refs/heads/main
	mkdir -p "$T/reg"
	bash "$SRCDIR/tests/fixtures/registry.sh" start "$T/reg" none
	REG=$(cat "$T/reg/base")
	HTTP_PORT=$(free_port)
	write_config "$T/pipelines.conf"
}

write_config() {	# FILE [extra lines appended]
	{
		printf '[repository]\n\turl = %s/gitops.git\n\tbranch = main\n' "$SSH_URL_BASE"
		printf '\tsshKey = %s\n\tknownHosts = %s\n\tvaluesDir = values\n\tdeadline = 20s\n' \
			"$KEY_ED25519" "$KNOWN_HOSTS"
		printf '[registry]\n\turl = %s\n\tnamespace = %s\n\tpollInterval = %s\n' "$REG" "$NS" "${POLL:-1s}"
		for i in "${IMAGES[@]}"; do printf '\timage = %s\n' "$i"; done
		printf '[stage "beta"]\n\tvalues = values-beta.yaml\n\ttagPath = services.*.image.tag\n\tauto = true\n'
		printf '[stage "paper"]\n\tvalues = values-paper.yaml\n\ttagPath = services.*.image.tag\n\tmarketGated = true\n'
		printf '[stage "live"]\n\tvalues = values-live.yaml\n\ttagPath = services.*.image.tag\n\tmarketGated = true\n\trequireNotes = true\n'
		printf '[http]\n\tlisten = 127.0.0.1:%s\n' "$HTTP_PORT"
		printf '[daemon]\n\tstateDir = %s/state\n\tidentity = pipelined <pipelined@test>\n' "$T"
		shift
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$1"
}

# app_commit MSG: a commit of the application on main; prints its id
app_commit() {
	git -C "$W" fetch -q origin
	git -C "$W" checkout -q -B main origin/main
	echo "$1" >>"$W/src/app.txt"
	git -C "$W" commit -q -am "$1"
	git -C "$W" push -q origin HEAD:refs/heads/main
	git -C "$W" rev-parse HEAD
}

push_images() {	# SHA [COUNT]
	local n=${2:-14} i=0
	for img in "${IMAGES[@]}"; do
		[ $i -lt "$n" ] || break
		bash "$SRCDIR/tests/fixtures/push-image.sh" "$REG" "$NS/$img" "$1" >/dev/null
		i=$((i + 1))
	done
}

push_evidence() {	# SHA [failed]
	local f=$T/ev.json
	printf '{"exit_code":0,"passed":%d,"failed":%d,"total":%d}' 12 "${2:-0}" $((12 + ${2:-0})) >"$f"
	[ "${2:-0}" = 0 ] || printf '{"exit_code":1,"passed":11,"failed":%d,"total":12}' "$2" >"$f"
	bash "$SRCDIR/tests/fixtures/push-image.sh" -a "$f" "$REG" "$NS/inttest" "$1" >/dev/null
}

# start_daemon "2026-03-09 12:00:00" (UTC): pipelined under a pinned clock
start_daemon() {
	: >"$T/pipelined.log"
	TZ=UTC FAKETIME="@$1" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD=$FAKETIME_LIB \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
		"$PIPELINED" -c "${2:-$T/pipelines.conf}" >>"$T/pipelined.log" 2>&1 &
	PD_PID=$!
	wait_log "listening on" 20 || { cat "$T/pipelined.log" >&2; fail "daemon did not start"; }
}

wait_log() {	# PATTERN SECONDS
	local i
	for i in $(seq $(($2 * 10))); do
		grep -q -- "$1" "$T/pipelined.log" && return 0
		sleep 0.1
	done
	return 1
}

wait_for() {	# SECONDS CMD...: until CMD succeeds
	local s=$1 i
	shift
	for i in $(seq $((s * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

status_json() { curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v1/status"; }
remote_main() { git --git-dir="$T/srv/gitops.git" rev-parse refs/heads/main; }
rgit() { git --git-dir="$T/srv/gitops.git" "$@"; }
