#!/usr/bin/env bash
# Issue 10, layout 5 (digests): [stage] digest = true.  Twelve services
# carry services.<image>.image.tag with a sibling digest, the two front
# ends are pinned references REPOSITORY:TAG@sha256:... ([image] tagPath).
# The daemon writes the digest it verified in the registry: each one is
# compared with the registry's Docker-Content-Digest for IMAGE:TAG (and
# with the sha256 of the manifest bytes CI pushed), so what Argo CD deploys
# is immutable.
. "$SRCDIR/tests/fixtures/layout-lib.sh"
layout_start digest
stack_map_stages 'services.{image}.image.tag'
stack_map_image dashboard dashboard.image
stack_map_image superset superset.image
for st in beta paper live; do stack_conf_set "stage.$st.digest" true; done
layout_prove 26
sha=$(stack_tag beta)
stack_digests "$sha" >"$STACK_DIR/registry-digests"
stack_expect_eq "$(sort -u -k2 "$STACK_DIR/registry-digests" | wc -l)" "${#STACK_IMAGES[@]}" "distinct digests in the registry"
for st in beta paper live; do
	while read -r img path _ _ dig; do
		want=$(awk -v i="$img" '$1 == i {print $2}' "$STACK_DIR/registry-digests")
		stack_expect_eq "$dig" "$want" "$st: $img's digest ($path)"
		stack_expect_eq "sha256:$(sha256sum <"$STACK_DIR/manifests/$img-$sha.json" | cut -d' ' -f1)" "$want" \
			"$img:$sha's manifest digest"
	done < <(stack_image_tags "$st")
done
stack_ok "every stage holds, per image, the registry's digest of IMAGE:$sha"
echo "layout_digest: all checks passed"
