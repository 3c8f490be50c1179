/* fuzz_initconf - libFuzzer target for initconf.c (pipelinectl init's
 * inference).  The input is a values file, given as beta's and live's:
 * initconf_render must not crash, must not leak, and must produce a
 * configuration whose every line is a comment, a section header, a
 * tab-indented key or empty, without NUL bytes or control characters: a
 * hostile values file cannot inject a section or a key into the file it
 * writes.  Seeds: fuzz/corpus/initconf/ (the project's values files and
 * the check golden data). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initconf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_initconf: %s: '%s'\n", what, line);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct initconf_file f[STAGE_COUNT];
	struct initconf_opts o = { .url = "/srv/gitops.git", .branch = "main", .source = "fuzz" };
	struct buf out = BUF_INIT;
	char *doc;

	if (size > INITCONF_MAX_FILE_BYTES)
		return 0;
	doc = malloc(size + 1);
	if (!doc)
		return 0;
	memcpy(doc, data, size);
	doc[size] = '\0';
	memset(f, 0, sizeof f);
	f[STAGE_BETA] = (struct initconf_file){ "values/values-beta.yaml", doc, size, NULL };
	f[STAGE_LIVE] = (struct initconf_file){ "values/values-live.yaml", doc, size, NULL };
	if (initconf_render(&out, f, &o) == 0) {
		check(strlen(out.data) == out.len, "NUL in the output", "");
		for (char *line = out.data; line && *line;) {
			char *nl = strchr(line, '\n');

			if (nl)
				*nl = '\0';
			check(line[0] == '\0' || line[0] == '#' || line[0] == '[' || line[0] == '\t',
			      "a line that is neither comment, header, key nor empty", line);
			for (const char *c = line; *c; c++)
				check((unsigned char)*c >= 0x20 || *c == '\t', "control character",
				      line);
			line = nl ? nl + 1 : NULL;
		}
	}
	buf_release(&out);
	free(doc);
	return 0;
}
