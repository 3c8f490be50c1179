#!/usr/bin/env bash
# The Argo CD client (daemon/registry/argocd.c) against the Argo CD double: a commit
# on the GitOps branch reaches the client over the watch stream as
# OutOfSync -> Running -> synced to that revision -> Healthy; a dropped
# stream is reopened; an expired token, a missing Application and a refused
# stream (polling) are reported with what to fix; a hung server costs a
# deadline, never the loop.  Every document the double sent validated
# against Argo CD's swagger.json.
set -euo pipefail
. "$SRCDIR/tests/fixtures/lib.sh"
. "$SRCDIR/tests/fixtures/poll.sh"
W=$(mktemp -d)
trap 'stop_pids "$W"; rm -rf "$W"' EXIT
WATCH=$TOOLDIR/argocd_watch
REPO_URL=https://github.com/celesrenata/stonks-oracle.git

git init -q --bare "$W/repo.git"
git clone -q "$W/repo.git" "$W/w" 2>/dev/null
mkdir -p "$W/w/values"
cp "$SRCDIR/values/values-beta.yaml" "$W/w/values/"
gitc() { git -C "$W/w" -c user.name=dev -c user.email=dev@example.com "$@"; }
gitc add -A && gitc commit -qm init && gitc push -q origin HEAD:main
bump() {	# TAG: set every tag of values-beta.yaml and push
  sed -i -E "s/tag: \"[0-9a-f]{40}\"/tag: \"$1\"/" "$W/w/values/values-beta.yaml"
  gitc commit -qam "promote beta: $1" && gitc push -q origin HEAD:main
  git -C "$W/w" rev-parse HEAD
}
echo "tok-$RANDOM$RANDOM" > "$W/token"
: > "$W/violations"

/usr/bin/python3 "$SRCDIR/tests/fixtures/argocd-double.py" --port-file "$W/port" \
  --repo "$W/repo.git" --repo-url "$REPO_URL" --swagger "$SRCDIR/tests/data/argocd/swagger.json" \
  --token-file "$W/token" --app stonks-oracle-beta=values/values-beta.yaml \
  --image scheduler --image risk --delay 0.3 --violations "$W/violations" --log "$W/double.log" &
echo $! > "$W/double.pid"
wait_file "$W/port"
URL=http://127.0.0.1:$(cat "$W/port")
ctl() { curl -fsS -X POST -d "$1" "$URL/control" >/dev/null; }
# The client reacts to events (a stream message, a stale flag): these waits
# ask that the reaction happens, not how fast, so the bound is loose; a
# few seconds failed beside a loaded suite.
wait_line() {	# FILE REGEX SECONDS
  poll_until $(($3 * 4)) grep -Eq -- "$2" "$1" && return 0
  echo "--- $1:"; cat "$1"; fail "no line matching '$2' within $(($3 * 4)) s"
}

# 1. the stream: a promotion is followed to deployed
T1=1111111111111111111111111111111111111111
"$WATCH" "$URL" "$W/token" git@github.com:celesrenata/stonks-oracle.git 14 "$T1" stonks-oracle-beta > "$W/out1" &
echo $! > "$W/watch1.pid"
wait_line "$W/out1" '^stonks-oracle-beta facts sync=Synced health=Healthy' 5
grep -q 'verdict=out-of-sync why=image scheduler runs 0000000000000000000000000000000000000000' "$W/out1" \
  || fail "the placeholder tag must not count as deployed"
R1=$(bump "$T1")
wait_line "$W/out1" "op=Running" 5
wait_line "$W/out1" "health=Progressing op=Succeeded rev=$R1 .*verdict=progressing" 5
wait_line "$W/out1" "health=Healthy op=Succeeded rev=$R1 stale=0 verdict=deployed" 5
ok "a pushed commit is followed over the stream to deployed"

# 2. a dropped stream is reopened and keeps delivering
ctl '{"do":"drop-stream"}'
T2=2222222222222222222222222222222222222222
sleep 0.5
R2=$(bump "$T2")
wait_line "$W/out1" "health=Healthy op=Succeeded rev=$R2 " 8
[ "$(curl -fsS "$URL/control/stats" | jq .streams_opened)" -ge 2 ] || fail "stream not reopened"
ok "a dropped stream is reopened"

# 3. a failed sync and a degraded rollout, with Argo CD's message
ctl '{"app":"stonks-oracle-beta","do":"fail-sync","message":"one or more objects failed to apply: quota exceeded"}'
wait_line "$W/out1" "verdict=sync-failed why=sync failed: one or more objects failed to apply: quota exceeded" 5
ctl '{"app":"stonks-oracle-beta","do":"heal"}'
ctl '{"app":"stonks-oracle-beta","do":"degrade","message":"Deployment risk exceeded its progress deadline"}'
wait_line "$W/out1" "verdict=degraded why=health Degraded: Deployment risk exceeded its progress deadline" 5
ctl '{"app":"stonks-oracle-beta","do":"heal"}'
ok "sync failure and degraded health reported with Argo CD's message"

# 4. stale health: unknown first, then the refresh the client asks for
ctl '{"app":"stonks-oracle-beta","do":"stale"}'
wait_line "$W/out1" "stale=1 verdict=unknown why=health not known yet" 5
before=$(grep -c 'refresh=normal' "$W/double.log" || true)
wait_line "$W/double.log" "GET /api/v1/applications/stonks-oracle-beta\\?refresh=normal" 4
ok "stale health is unknown and triggers one refresh"

# 5. an expired token: said once, with what to do
ctl '{"do":"unauthorized"}'
ctl '{"do":"drop-stream"}'
wait_line "$W/out1" "error Argo CD refused the token \\(401\\): it expired or was revoked" 6
sleep 3
[ "$(grep -c 'refused the token' "$W/out1")" = 1 ] || fail "the same 401 reported more than once"
ctl '{"do":"authorized"}'
wait "$(cat "$W/watch1.pid")"; rm -f "$W/watch1.pid"
grep -q '^stats streams=' "$W/out1" || fail "watcher did not stop on time"
ok "401 reported once with the fix; the client ran to its end"

# 6. a wrong Application name
"$WATCH" "$URL" "$W/token" "$REPO_URL" 3 "$T2" stonks-oracle-bta > "$W/out2" || true
grep -q "error Argo CD has no Application 'stonks-oracle-bta' (404): check the stage's Application name" "$W/out2" \
  || { cat "$W/out2"; fail "404 not explained"; }
ok "a missing Application is named"

# 7. the stream refused: polling takes over
ctl '{"do":"refuse-stream"}'
ARGOCD_POLL_MS=300 "$WATCH" "$URL" "$W/token" "$REPO_URL" 3 "$T2" stonks-oracle-beta > "$W/out3"
grep -q "rev=$R2 stale=0 verdict=deployed" "$W/out3" || { cat "$W/out3"; fail "polling gave no facts"; }
polls=$(sed -n 's/^stats .*polls=\([0-9]*\).*/\1/p' "$W/out3")
[ "$polls" -ge 3 ] || fail "expected polling every 300 ms, saw $polls polls in 3 s"
ok "refused stream: polled $polls times in 3 s"

# 8. a hung server: each request abandoned at its deadline, the loop keeps going
ctl '{"do":"hang"}'
start=$(date +%s)
ARGOCD_POLL_MS=300 ARGOCD_DEADLINE_MS=1000 "$WATCH" "$URL" "$W/token" "$REPO_URL" 4 "$T2" stonks-oracle-beta > "$W/out4"
took=$(( $(date +%s) - start ))
ctl '{"do":"unhang"}' || true
grep -q "error cannot reach Argo CD: Timeout" "$W/out4" || { cat "$W/out4"; fail "no deadline error"; }
[ "$took" -le 8 ] || fail "a hung Argo CD held the client for $took s"
ok "hung server: deadline error, client done in $took s"

[ ! -s "$W/violations" ] || { cat "$W/violations"; fail "the double sent a document outside Argo CD's schema"; }
ok "every document validated against swagger.json"
