#!/usr/bin/env bash
# The engine end to end, automatic beta (SPEC 4.1, 5): a release with 13 of
# 14 images is not promoted; once the 14th image is pushed a promotion
# commit lands on the remote's main that changes only values-beta.yaml's
# tag lines, with the SPEC 6 subject and trailers; status JSON; SIGHUP with
# a broken configuration keeps the daemon on the old one; SIGTERM exits 0.
set -euo pipefail
. "$SRCDIR/tests/fixtures/engine-lib.sh"

stack_up
# fatal only at startup, with one clear line: an unusable state directory
: >"$T/not-a-dir"
sed "s|stateDir = .*|stateDir = $T/not-a-dir|" "$T/pipelines.conf" >"$T/bad-state.conf"
rc=0
out=$("$PIPELINED" -c "$T/bad-state.conf" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "unusable state directory: exit $rc"
expect_in "state directory '$T/not-a-dir' is not a directory" "$out" "state dir error"
ok "unusable state directory: exit 1 with one clear line"

start_daemon "2026-03-09 12:00:00"	# Monday 08:00 EDT: market closed
rc=0
out=$(timeout 20 "$PIPELINED" -c "$T/pipelines.conf" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "second daemon on the same port: exit $rc"
expect_in "cannot listen on '127.0.0.1:$HTTP_PORT'" "$out" "port in use"
kill -0 "$PD_PID" || fail "the first daemon died"
ok "port in use: exit 1 with one clear line, the running daemon unharmed"
base=$(remote_main)

X=$(app_commit "feature one")
push_images "$X" 13
push_evidence "$X"
wait_cycles 3
[ "$(remote_main)" = "$X" ] || fail "13 of 14 images: something was pushed"
status_json >"$T/s1.json"
python3 - "$T/s1.json" "$X" <<'PY' || fail "13/14: status does not show the incomplete release"
import json, sys
s = json.load(open(sys.argv[1]))
r = [r for r in s["releases"] if r["sha"] == sys.argv[2]]
assert r and r[0]["complete"] is False and r[0]["images_present"] == 13, r
PY
ok "13 of 14 images: nothing promoted, status shows 13/14"

t0=$(date +%s%N)
push_images "$X" 14
promoted() { [ "$(rgit log -1 --format=%s main)" = "promote beta: ${X:0:7} from integration-test" ]; }
wait_for 30 promoted || { tail -30 "$T/pipelined.log" >&2; fail "no promotion commit"; }
t1=$(date +%s%N)
echo "latency from the 14th image to the commit on the remote: $(((t1 - t0) / 1000000)) ms"
P=$(remote_main)
[ "$(rgit log -1 --format='%(trailers:key=Image-Tag,valueonly)' "$P" | sed '/^$/d')" = "$X" ] ||
	fail "Image-Tag trailer"
[ "$(rgit log -1 --format='%(trailers:key=Stage,valueonly)' "$P" | sed '/^$/d')" = beta ] || fail "Stage"
[ "$(rgit log -1 --format='%(trailers:key=Requested-By,valueonly)' "$P" | sed '/^$/d')" = \
	"pipelined (automatic)" ] || fail "Requested-By"
[ "$(rgit log -1 --format='%(trailers:key=Integration-Test,valueonly)' "$P" | sed '/^$/d')" = \
	"passed 12/12" ] || fail "Integration-Test"
expect_in "closed" "$(rgit log -1 --format='%(trailers:key=Market,valueonly)' "$P")" "Market"
[ "$(rgit log -1 --format=%cn "$P")" = pipelined ] || fail "committer"
[ "$(rgit diff --name-only "$X" "$P")" = values/values-beta.yaml ] || fail "files changed"
changed=$(rgit diff -U0 "$X" "$P" | grep -c '^+ *tag: "'"$X"'"$')
[ "$changed" = 14 ] || fail "expected 14 tag lines, got $changed"
[ "$(rgit diff -U0 "$X" "$P" | grep -c '^[-+] ')" = 28 ] || fail "only tag lines change"
ok "promotion commit: subject, trailers, only the 14 tag lines of values-beta.yaml"

wait_cycles 2	# the status below is the one of a cycle that saw the promotion
[ "$(remote_main)" = "$P" ] || fail "promoted twice"
status_json >"$T/s2.json"
python3 - "$T/s2.json" "$X" <<'PY' || fail "status JSON"
import json, sys
s = json.load(open(sys.argv[1]))
for k in ("version", "started", "uptime_s", "cycles", "last_cycle", "stages", "requests",
          "releases", "market", "errors", "tip"):
    assert k in s, k
beta = [x for x in s["stages"] if x["name"] == "beta"][0]
assert beta["current_tag"] == sys.argv[2], beta
assert beta["promoted"]["requested_by"] == "pipelined (automatic)", beta
assert beta["source_stage"] == "integration-test", beta
assert beta["auto"] is True and beta["market_gated"] is False
paper = [x for x in s["stages"] if x["name"] == "paper"][0]
assert paper["market_gated"] is True and paper["source_stage"] == "beta"
m = s["market"]
assert m["open"] is False and m["reason"] == "before-open", m
assert isinstance(m["countdown_s"], int) and m["next_change"].startswith("2026-03-09T13:30:00")
for sub in ("git", "registry", "policy", "signature"):
    assert s["errors"][sub]["message"] is None, s["errors"]
PY
curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v1/history?stage=beta" >"$T/h.json"
python3 - "$T/h.json" "$X" <<'PY' || fail "history JSON"
import json, sys
h = json.load(open(sys.argv[1]))
e = h["entries"][0]
assert e["tag"] == sys.argv[2] and e["stage"] == "beta" and e["source_stage"] == "integration-test"
for k in ("commit", "request", "requested_by", "notes", "break_glass", "market",
          "integration_test", "signed_by", "committer", "time", "subject"):
    assert k in e, k
PY
curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" | grep '^pipelined_promotions_total{stage="beta"} 1$' >/dev/null ||
	fail "metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/healthz")" = 200 ] ||
	fail "healthz"
ok "no second promotion; status, history, metrics and healthz answer as documented"

Z=$(app_commit "feature two")
push_images "$Z"
push_evidence "$Z" 2
failed_shown() {
	status_json | python3 -c '
import json, sys
s = json.load(sys.stdin)
r = [r for r in s["releases"] if r["sha"] == sys.argv[1]][0]
assert r["complete"] and r["evidence"] == "failed" and r["evidence_summary"] == "failed 2/12", r' "$Z"
}
wait_for 15 failed_shown || fail "failing evidence not shown in status"
wait_cycles 1
promos() { rgit log --first-parent --format='%(trailers:key=Image-Tag,valueonly)' main | grep -c "^$1$" || true; }
[ "$(promos "$Z")" = 0 ] || fail "a release with failing integration tests was promoted"
grep -q "integration tests of ${Z:0:7} failed (failed 2/12)" "$T/pipelined.log" || fail "failure not logged"
ok "failing integration tests block beta; status and the journal show the failure"

echo "daemon RSS: $(ps -o rss= -p "$PD_PID") KiB"
out=$("$PIPELINECTL" -c "$T/pipelines.conf" status)
expect_in "${X:0:7}" "$out" "pipelinectl status"
"$PIPELINECTL" -c "$T/pipelines.conf" status --json | python3 -c 'import json,sys; json.load(sys.stdin)'
ok "pipelinectl status (table and --json)"

cp "$T/pipelines.conf" "$T/good.conf"
printf '[registry]\n\tpollInterval = soon\n' >>"$T/pipelines.conf"
kill -HUP "$PD_PID"
wait_log "keeping the running configuration" 10 || fail "bad reload not reported"
grep -q "pipelines.conf:[0-9]*: " "$T/pipelined.log" || fail "reload error has no file:line"
kill -0 "$PD_PID" || fail "daemon died on a bad reload"
status_json >/dev/null || fail "no status after a bad reload"
cp "$T/good.conf" "$T/pipelines.conf"
"$PIPELINECTL" -c "$T/pipelines.conf" reload
wait_log "configuration '.*' reloaded" 10 || fail "pipelinectl reload"
ok "SIGHUP with a broken config keeps the old one; pipelinectl reload applies a good one"

kill -TERM "$PD_PID"
rc=0
wait "$PD_PID" || rc=$?
PD_PID=
[ "$rc" = 0 ] || { tail "$T/pipelined.log" >&2; fail "SIGTERM: exit $rc"; }
[ ! -e "$T/state/pipelined.pid" ] || fail "pid file left behind"
[ -z "$(ls "$T/state/mirror/refs/pipelined/out" 2>/dev/null | grep -v '^heads$\|^notes$' || true)" ]
[ "$(promos "$X")" = 1 ] && [ "$(promos "$Z")" = 0 ] || fail "remote changed during shutdown"
ok "SIGTERM: exit 0, pid file removed"
