/* tag.c - see tag.h */
#include "tag.h"

#include <string.h>

static bool tag_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
		return true;
	return !first && (c == '.' || c == '-');
}

bool tag_valid(const char *s, size_t len)
{
	if (!s || len == 0 || len > TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!tag_char(s[i], i == 0))
			return false;
	return true;
}

bool tag_is_sha1(const char *s, size_t len)
{
	if (!s || len != 40)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool component_valid(const char *s, size_t n)
{
	return n > 0 && s[0] != '.' && !(n >= 5 && memcmp(s + n - 5, ".lock", 5) == 0);
}

bool tag_branch_valid(const char *s)
{
	size_t start = 0, i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
			return false;
		if ((c == '.' && s[i + 1] == '.') || (c == '@' && s[i + 1] == '{'))
			return false;
		if (c == '/') {
			if (!component_valid(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return component_valid(s + start, i - start) && s[i - 1] != '.';
}
