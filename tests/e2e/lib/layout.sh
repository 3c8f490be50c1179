# shellcheck shell=bash
# Sourced by tests/e2e/layout_*.sh: one values layout (a chart under
# tests/data/layouts/NAME/ and its image->tag mapping) proven end to end on
# the real stack (tests/fixtures/stack.sh): the automatic beta promotion of a
# published, evidence-passing release, a paper request made by
# `pipelinectl promote` and a live request made by hand, both merged,
# `pipelinectl audit` clean, `pipelinectl edit --stage` giving the bytes
# the daemon committed, and `pipelinectl check` naming, before anything is
# written, the same scalars the oracle finds; a hand edit of a tag is then
# flagged by the audit.  Every file the daemon commits is compared byte for
# byte with what the tests' own oracle (tests/fixtures/tagmap.py) computes.
#
#   layout_start NAME                servers + the chart NAME seeded
#   stack_map_stages ... ; stack_map_image ...   (the mapping, see stack.sh)
#   layout_prove LINES               LINES: how many lines of a stage's file
#                                    one promotion changes
# shellcheck source=../../fixtures/stack.sh
. "$SRCDIR/tests/fixtures/stack.sh"

layout_start() {
	LAYOUT=$1
	STACK_VALUES_DIR=$SRCDIR/tests/data/layouts/$1
	[ -f "$STACK_VALUES_DIR/values-beta.yaml" ] || stack_fail "no layout data in $STACK_VALUES_DIR"
	stack_start "${2:-$STACK_DEFAULT_TIME}"	# default: Monday 18:00, market closed
}

# layout_check_commit COMMIT STAGE TAG LINES: COMMIT changed exactly STAGE's
# values file, to the oracle's bytes (every image at TAG, LINES lines), and
# no other stage's file.
layout_check_commit() {
	local c=$1 st=$2 tag=$3 lines=$4 f s img
	f=$(stack_values_path "$st")
	stack_expect_eq "$(stack_git diff --name-only "$c^1" "$c")" "$f" "files changed by $c"
	stack_values "$st" "$c^1" >"$STACK_DIR/before.yaml"
	stack_values "$st" "$c" >"$STACK_DIR/after.yaml"
	stack_expect_values "$st" "$tag" <"$STACK_DIR/before.yaml" >"$STACK_DIR/expected.yaml" ||
		stack_fail "$st: the file before $c does not satisfy the mapping"
	if ! cmp -s "$STACK_DIR/expected.yaml" "$STACK_DIR/after.yaml"; then
		diff -u "$STACK_DIR/expected.yaml" "$STACK_DIR/after.yaml" >&2 || true
		stack_fail "$st: $f at $c is not the expected bytes (diff above: expected -> committed)"
	fi
	stack_expect_eq "$(stack_git diff --numstat "$c^1" "$c")" "$(printf '%s\t%s\t%s' "$lines" "$lines" "$f")" \
		"lines of $f changed by $c"
	stack_image_tags "$st" "$c" >"$STACK_DIR/after.tags"
	while read -r img _ _ t _; do
		stack_expect_eq "$t" "$tag" "$st: $img's tag at $c"
	done <"$STACK_DIR/after.tags"
	stack_expect_eq "$(wc -l <"$STACK_DIR/after.tags")" "${#STACK_IMAGES[@]}" "$st: images read at $c"
	for s in beta paper live; do
		[ "$s" = "$st" ] || stack_expect_eq "$(stack_values "$s" "$c" | sha256sum)" \
			"$(stack_values "$s" "$c^1" | sha256sum)" "$s's file at $c"
	done
}

# layout_check_edit COMMIT STAGE TAG: pipelinectl edit --stage on the file
# before COMMIT prints the bytes COMMIT has (stdout) and writes them (-i).
layout_check_edit() {
	local c=$1 st=$2 tag=$3 out rc=0 img d args
	stack_values "$st" "$c^1" >"$STACK_DIR/edit-in.yaml"
	stack_values "$st" "$c" >"$STACK_DIR/edit-want.yaml"
	args=(--stage "$st" --tag "$tag")
	if [ "$(git config -f "$STACK_CONF" --type=bool "stage.$st.digest" || echo false)" = true ]; then
		while read -r img d; do args+=(--digest "$img=$d"); done < <(stack_digests "$tag")
	fi
	out=$(stack_ctl edit "$STACK_DIR/edit-in.yaml" "${args[@]}" 2>&1 >"$STACK_DIR/edit-out.yaml") || rc=$?
	[ "$rc" = 0 ] || stack_fail "pipelinectl edit FILE --stage $st --tag $tag exited $rc: $out"
	if ! cmp -s "$STACK_DIR/edit-want.yaml" "$STACK_DIR/edit-out.yaml"; then
		diff -u "$STACK_DIR/edit-want.yaml" "$STACK_DIR/edit-out.yaml" >&2 || true
		stack_fail "pipelinectl edit --stage $st: not the daemon's bytes (diff above: daemon -> edit)"
	fi
	stack_ctl edit "$STACK_DIR/edit-in.yaml" "${args[@]}" -i >/dev/null 2>&1 ||
		stack_fail "pipelinectl edit --stage $st -i failed"
	cmp -s "$STACK_DIR/edit-want.yaml" "$STACK_DIR/edit-in.yaml" ||
		stack_fail "pipelinectl edit --stage $st -i: the file is not the daemon's bytes"
}

# layout_prove LINES: the whole proof for the layout set up by the caller.
layout_prove() {
	local lines=$1 out rc sha p req m lreq st how
	out=$("$PIPELINED" -n -c "$STACK_CONF" 2>&1) || stack_fail "pipelined -n: $out"
	stack_expect_eq "$out" "configuration OK" "pipelined -n"
	# pipelinectl check names every scalar the oracle resolves, at its
	# file:line:column, before anything is written
	rc=0
	out=$(stack_ctl check 2>&1) || rc=$?
	[ "$rc" = 0 ] || stack_fail "pipelinectl check exited $rc: $out"
	local img path pos
	for st in beta paper live; do
		stack_image_tags "$st" >"$STACK_DIR/oracle-$st" || stack_fail "$st: the seeded file does not satisfy the mapping"
		while read -r img path pos _; do
			grep -F "$(stack_values_path "$st"):$pos " <<<"$out" | grep -qw -- "$img" ||
				stack_fail "pipelinectl check: no line for $img at $(stack_values_path "$st"):$pos ($path): $out"
		done <"$STACK_DIR/oracle-$st"
	done
	stack_ok "$LAYOUT: pipelinectl check shows the scalar of each of the ${#STACK_IMAGES[@]} images in every stage"
	stack_daemon_start
	sha=$(stack_release "feat: $LAYOUT chart")
	stack_kick >/dev/null || true
	stack_wait_for '[ -n "$(stack_promotions beta "$sha")" ]' 60 || stack_fail "$sha never reached beta"
	p=$(stack_promotions beta "$sha")
	stack_expect_eq "$(stack_tag beta)" "$sha" "beta's tag on main"
	stack_expect_eq "$(wc -l <<<"$p")" 1 "promotion commits of $sha into beta"
	stack_expect_eq "$(stack_git rev-list --parents -n1 "$p" | wc -w)" 2 "an automatic promotion has one parent"
	layout_check_commit "$p" beta "$sha" "$lines"
	stack_wait_for '[ "$(stack_status | jq -r ".stages[] | select(.name == \"beta\") | .current_tag")" = "$sha" ]' 30 ||
		stack_fail "status does not show beta at $sha"
	stack_ok "$LAYOUT: $sha promoted into beta by itself, exactly $lines line(s) of $(stack_values_path beta), status reads it"

	if [ "$(git config -f "$STACK_CONF" --type=bool stage.paper.digest || echo false)" = true ]; then
		# pipelinectl promote does not look digests up: it must say so and
		# push nothing; the developer bumps with pipelinectl edit --stage
		rc=0
		out=$(stack_ctl promote paper "$sha" --name by-promote 2>&1) || rc=$?
		[ "$rc" != 0 ] || stack_fail "pipelinectl promote into a digest stage succeeded: $out"
		stack_expect_in "digest" "$out" "pipelinectl promote into a digest stage"
		! stack_has_branch promote/paper/by-promote || stack_fail "pipelinectl promote pushed a branch: $out"
		stack_ok "$LAYOUT: pipelinectl promote paper refuses (exit $rc): $out"
		req=$(stack_request paper "$sha" --edit-ctl)
		how="a request made with pipelinectl edit --stage paper --digest ..."
	else
		req=$(stack_request paper "$sha" --ctl)
		how="pipelinectl promote paper made a request that"
	fi
	m=$(stack_wait_merged "$req" 60)
	stack_expect_eq "$(stack_git rev-list --parents -n1 "$m" | wc -w)" 3 "a request's promotion is a merge"
	stack_expect_eq "$(stack_git rev-parse "$m^2")" "$req" "second parent of the paper promotion"
	stack_expect_eq "$(stack_trailer "$m" Image-Tag)" "$sha" "Image-Tag of the paper promotion"
	layout_check_commit "$m" paper "$sha" "$lines"
	stack_ok "$LAYOUT: $how was merged, bytes exact"

	lreq=$(stack_request live "$sha" --notes "CAB-12: $LAYOUT chart to production")
	m=$(stack_wait_merged "$lreq" 60)
	layout_check_commit "$m" live "$sha" "$lines"
	stack_ok "$LAYOUT: a live request made by hand (tags set through the mapping) was merged, bytes exact"

	rc=0
	out=$(stack_ctl audit 2>&1) || rc=$?
	[ "$rc" = 0 ] || stack_fail "pipelinectl audit exited $rc: $out"
	stack_expect_in "clean" "$out" "pipelinectl audit"
	stack_expect_in ", 3 promotions" "$out" "pipelinectl audit"
	stack_ok "$LAYOUT: pipelinectl audit: $(tail -n1 <<<"$out")"

	layout_check_edit "$p" beta "$sha"
	layout_check_edit "$m" live "$sha"
	stack_ok "$LAYOUT: pipelinectl edit --stage gives the bytes the daemon committed"

	local tip
	tip=$(stack_git rev-parse main)
	stack_wait_cycles 2
	stack_expect_eq "$(stack_git rev-parse main)" "$tip" "main after idle cycles"
	stack_ok "$LAYOUT: idle cycles commit nothing"

	# clean is not the only answer the audit gives here: a hand edit of paper's
	# tag(s) on main, outside any promotion, is flagged
	local bad=0123456789abcdef0123456789abcdef01234567 c
	c=$(stack_direct_push "$(stack_values_path paper)" "s/$sha/$bad/g" "paper: pin by hand")
	stack_expect_eq "$(stack_tag paper)" "$bad" "paper's tag after the hand edit"
	rc=0
	out=$(stack_ctl audit 2>&1) || rc=$?
	stack_expect_eq "$rc" 1 "pipelinectl audit's exit status after a hand edit of paper ($out)"
	# a violation line: "<commit> <code>: <message>" (the header names the tip too)
	grep -qE "^${c:0:12} [a-z-]+: " <<<"$out" || stack_fail "pipelinectl audit does not flag ${c:0:12}: $out"
	stack_ok "$LAYOUT: audit flags a hand edit of paper's tag: $(grep -E "^${c:0:12} " <<<"$out" | head -n1)"
}
