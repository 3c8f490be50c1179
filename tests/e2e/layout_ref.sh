#!/usr/bin/env bash
# Issue 10, layout 4: each image as one string REPOSITORY:TAG
# (apps.<image>.image; [stage] tagPath = apps.{image}.image), quoted and
# plain in turn: only the part after the last ':' changes, the repository
# (with its own ':'-free host and path) is kept byte for byte.
. "$SRCDIR/tests/fixtures/layout-lib.sh"
layout_start ref
stack_map_stages 'apps.{image}.image'
layout_prove 14
sha=$(stack_tag beta)
for img in "${STACK_IMAGES[@]}"; do
	stack_values beta | grep -E "^    image: \"?ghcr.io/$STACK_NS/$img:$sha\"?\$" >/dev/null ||
		stack_fail "beta: apps.$img.image is not ghcr.io/$STACK_NS/$img:$sha"
done
stack_ok "every reference keeps its repository and carries the new tag"
echo "layout_ref: all checks passed"
