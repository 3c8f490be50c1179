# Shared by tests/e2e/http_*.sh: start tests/tools/http_testd on a free
# loopback port with its state in a temp dir, sign and post deliveries.
# shellcheck shell=bash
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
T=$(mktemp -d)
SECRET='It'"'"'s a Secret to Everybody'
printf '%s\n' "$SECRET" > "$T/secret"
: > "$T/triggers"
TESTD_PID=
EXTRA_PIDS=()
cleanup() {
	for p in "${EXTRA_PIDS[@]}" $TESTD_PID; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log:"; cat "$T/testd.log" 2>/dev/null; exit 1; }
ok() { echo "ok: $*"; }

# start_testd [http_testd options...]: sets PORT and URL.
start_testd() {
	rm -f "$T/port"
	"$TOOLDIR/http_testd" --port-file "$T/port" --secret-file "$T/secret" \
		--trigger-log "$T/triggers" "$@" 2>"$T/testd.log" &
	TESTD_PID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || fail "http_testd did not start"
	PORT=$(cat "$T/port")
	URL=${URL_HOST:-http://127.0.0.1}:$PORT
}

# stop_testd: SIGTERM, and the server must exit 0 (every handle closed,
# no leak under ASan).
stop_testd() {
	kill -TERM "$TESTD_PID"
	local rc=0
	wait "$TESTD_PID" || rc=$?
	TESTD_PID=
	[ "$rc" -eq 0 ] || fail "http_testd exited $rc after SIGTERM"
}

# sign FILE [SECRET]: the X-Hub-Signature-256 value GitHub would send,
# computed independently of the daemon with the openssl CLI.
sign() {
	local hex
	hex=$(openssl dgst -sha256 -hmac "${2:-$SECRET}" < "$1" | sed 's/^.*= //')
	printf 'sha256=%s' "$hex"
}

# post_hook EVENT FILE [DELIVERY] [SIGNATURE|-]: prints the status code.
post_hook() {
	local sig=${4-$(sign "$2")} args=()
	[ "$sig" = - ] || args+=(-H "X-Hub-Signature-256: $sig")
	curl -s -o "$T/reply" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: ${3:-$RANDOM-$RANDOM}" \
		"${args[@]}" --data-binary @"$2" "$URL/hooks/github"
}

triggers() { wc -l < "$T/triggers" | tr -d ' '; }

# status METHOD PATH: prints the status code.
status() { curl -s -o /dev/null -w '%{http_code}' -X "$1" "$URL$2"; }
