#!/usr/bin/env bash
# Issue 10, layout 1: a monorepo chart whose 14 images share one tag scalar
# (global.image.tag; [stage] tagPath = global.image.tag).  The daemon once
# retried this chart forever ("the tag paths match 1 tag(s) but 14 images
# are configured"); now a release goes to beta as a one-line change, paper
# and live requests merge, audit is clean and pipelinectl edit agrees.
. "$SRCDIR/tests/fixtures/layout-lib.sh"
layout_start shared
stack_map_stages 'global.image.tag'
layout_prove 1
echo "layout_shared: all checks passed"
