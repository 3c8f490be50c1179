/* tag.h - what counts as an image tag, a release id and a branch name. */
#ifndef PIPELINED_TAG_H
#define PIPELINED_TAG_H

#include <stdbool.h>
#include <stddef.h>

#define TAG_MAX 128

/* The OCI distribution tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
 * Such a tag never needs quoting or escaping inside a YAML quoted scalar. */
bool tag_valid(const char *s, size_t len);
/* A full 40-hex-digit lowercase git commit id (the release id). */
bool tag_is_sha1(const char *s, size_t len);
/* A branch name git accepts after refs/heads/ (git check-ref-format's
 * rules): no empty component or one starting with '.' or ending in
 * ".lock", no "..", "@{", control characters, space or any of ~^:?*[\,
 * not ending in '/' or '.'. */
bool tag_branch_valid(const char *s);

#endif
