#!/usr/bin/env bash
# Issue 10, layout 3: tags at unrelated paths with mixed quoting:
# backend.<svc>.image.tag for the twelve services (double-quoted,
# single-quoted and plain in turn), dashboard.image.tag plain with a
# comment after it, superset.image.tag single-quoted; the two front ends
# mapped by [image "dashboard"] and [image "superset"] sections.  The live
# file lists the services in another order.  Quotes and comments survive
# byte for byte.
. "$SRCDIR/tests/fixtures/layout-lib.sh"
layout_start mixed
stack_map_stages 'backend.{image}.image.tag'
stack_map_image dashboard dashboard.image.tag
stack_map_image superset superset.image.tag
layout_prove 14
sha=$(stack_tag beta)
stack_values beta | grep -x "    tag: $sha   # plain scalar" >/dev/null || stack_fail "dashboard's plain tag and its comment"
stack_values beta | grep -x "    tag: '$sha'" >/dev/null || stack_fail "superset's single-quoted tag"
stack_ok "dashboard stays plain with its comment, superset stays single-quoted"
echo "layout_mixed: all checks passed"
