/* tag.h - what counts as an image tag and a release id. */
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

#endif
