/* tag.c - see tag.h */
#include "tag.h"

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
