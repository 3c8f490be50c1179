/* config_scan.h - the parser of record for pipelines.conf's syntax.
 *
 * Pure: bytes in, variables out.  It applies git config's rules exactly as
 * libgit2 1.5's config parser does (comments, quoting, escapes, backslash
 * continuation, "[section "sub"]" and the old "[section.sub]" headers, a
 * variable on the header's line) and records, in file order, each
 * variable's normalised name ("section[.sub].key", section and key
 * lowercased, subsection as written) with its value, its line and its
 * section header's line.  The first syntax error stops the scan, with its
 * line and libgit2's wording.  The file is read once, by the caller; the
 * fuzz target holds this scanner to libgit2's parser on every input. */
#ifndef PIPELINED_CONFIG_SCAN_H
#define PIPELINED_CONFIG_SCAN_H

#include <stdbool.h>
#include <stddef.h>

struct config_scan_var {
	char *name;
	int line;
	int header_line;	/* 0 before any header */
	char *value;		/* unescaped; NULL for a bare "key" (git's boolean true) */
};

struct config_scan_header {
	char *name;		/* "registry", "stage.beta" */
	int line;
};

struct config_scan {
	struct config_scan_var *vars;
	size_t nvars, capvars;
	struct config_scan_header *hdrs;
	size_t nhdrs, caphdrs;
	int last_line;		/* the file's last line (1 for an empty file) */
	int error_line;		/* first line the scanner found unreadable, or 0 */
	char error[96];		/* what is wrong there, e.g. "missing ']' in section header" */
	int nul_line;		/* first line holding a NUL byte, or 0 */
};

/* Scan len bytes.  Stops at the first syntax error (error_line), as libgit2
 * does.  0, or ERR_NOMEM. */
int config_scan_run(struct config_scan *s, const char *data, size_t len);
/* The next variable named name at or after *cursor, advancing *cursor past
 * it; NULL when there is none. */
const struct config_scan_var *config_scan_match(const struct config_scan *s, size_t *cursor,
						const char *name);
/* The first header of section (with subsection sub, or none when NULL). */
const struct config_scan_header *config_scan_find_header(const struct config_scan *s,
							 const char *section, const char *sub);
/* True for include.path and includeif.<anything>.path (normalised names). */
bool config_scan_is_include(const char *name);
void config_scan_release(struct config_scan *s);

#endif
