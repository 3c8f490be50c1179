#!/usr/bin/env bash
# Issue 10, layout 2: one tag per image under one map
# (services.<image>.image.tag; [stage] tagPath = services.{image}.image.tag),
# with a third-party entry (services.redis) the template also matches: it
# is not a configured image, so every promotion leaves its tag alone (the
# byte-exact comparison would show it).
. "$SRCDIR/tests/fixtures/layout-lib.sh"
layout_start services
stack_map_stages 'services.{image}.image.tag'
layout_prove 14
for st in beta paper live; do
	stack_values "$st" | grep '^      tag: "7.2.5-alpine"$' >/dev/null || stack_fail "$st: services.redis's tag was changed"
done
stack_ok "services.redis (not a configured image) kept its tag in every stage"
echo "layout_services: all checks passed"
