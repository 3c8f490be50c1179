#!/usr/bin/env bash
# SPEC 2 "never deploy a partial set" (seed 6.4, 7.1, 8.1): a release with
# 13 of its 14 images in the registry is not promoted, even with passing
# evidence, and a request for it is refused as unknown-release; when the
# 14th image arrives it goes to beta.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"
stack_daemon_start
sha=$(stack_app_commit "feat: risk limits per account")
stack_publish "$sha" "${STACK_IMAGES[@]:0:7}" "${STACK_IMAGES[@]:8}"	# all but "risk"
stack_evidence "$sha" pass
stack_kick >/dev/null || true
stack_wait_cycles 3
stack_expect_eq "$(stack_tag beta)" 0000000000000000000000000000000000000000 "beta with 13 of 14 images"
[ -z "$(stack_promotions beta)" ] || stack_fail "a promotion was committed for a partial release"
stack_ok "13 of 14 images (risk missing): beta unchanged after 3 cycles"

req=$(stack_request paper "$sha" --notes "try the partial one")
note=$(stack_wait_note "$req" 'unknown-release' 30)
stack_expect_in "risk" "$note" "the refusal names the missing image"
stack_has_branch "$(cat "$STACK_DIR/last-branch")" || stack_fail "refused request branch was deleted"
stack_ok "paper request for it refused: $note"

stack_publish "$sha" risk
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$sha" ]' 60
stack_expect_eq "$(stack_promotions beta "$sha" | wc -l)" 1 "promotions"
stack_ok "14th image pushed: beta promoted to $sha once"
echo "accept_partial_release: all checks passed"
