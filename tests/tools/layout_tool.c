/* layout_tool - drive layout.c from a shell: tests/golden/layout.sh and any
 * e2e test that wants the edit a configuration means for a values file.
 *
 *   layout_tool CONFIG STAGE VALUES resolve
 *       one line per location, document order:
 *       "LINE:COL PATH = 'VALUE' tag=TAG [digest=D at PATH] form serves IMAGE,..."
 *       then "untouched PATH" lines
 *   layout_tool CONFIG STAGE VALUES apply TAG
 *       the edited document on stdout, "N matched, N changed, N lines" on
 *       stderr; with digest = true, image i gets the digest "sha256:" followed
 *       by 64 copies of the hex digit i % 16 (deterministic golden output)
 *   layout_tool CONFIG STAGE VALUES mask
 *       the masked document on stdout
 * A refusal prints the error line on stderr and exits 2; usage errors exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "layout.h"
#include "stage.h"
#include "util.h"
#include "sysio.h"

static void print_locs(const struct layout *l, const struct layout_rules *r)
{
	for (size_t k = 0; k < l->n; k++) {
		const struct layout_loc *c = &l->locs[k];

		printf("%zu:%zu %s = '%s' tag=%s", c->line, c->column, c->path, c->value, c->tag);
		if (c->digest || c->digest_path)
			printf(" [digest=%s%s%s]", c->digest ? c->digest : "(empty)",
			       c->digest_path ? " at " : "", c->digest_path ? c->digest_path : "");
		printf(" %s%s serves", c->form == LAYOUT_REF ? "ref" : "tag",
		       c->quote == '"' ? " double-quoted" : c->quote == '\'' ? " single-quoted" : "");
		for (size_t i = 0; i < c->nimages; i++)
			printf("%s%s", i ? "," : " ", r->images[c->images[i]]);
		printf(" (rule %s)\n", c->rule);
	}
	for (size_t u = 0; u < l->nuntouched; u++)
		printf("untouched %s\n", l->untouched[u]);
}

static int run(const struct layout_rules *r, const struct buf *doc, const char *cmd,
	       const char *tag, struct buf *err)
{
	static const char hex[] = "0123456789abcdef";
	char dig[CONFIG_MAX_IMAGES][LAYOUT_DIGEST_MAX];
	const char *digests[CONFIG_MAX_IMAGES];
	struct yamledit_stats st;
	struct buf out = BUF_INIT;
	struct layout l;
	int rc;

	if (strcmp(cmd, "resolve") == 0) {
		if ((rc = layout_resolve(&l, r, doc->data, doc->len, err)))
			return rc;
		print_locs(&l, r);
		if (layout_current(&out, &l, err) == 0)
			printf("current %s\n", out.data);
		else
			printf("current: %s\n", err->data), buf_reset(err);
		buf_release(&out);
		layout_release(&l);
		return 0;
	}
	if (strcmp(cmd, "mask") == 0)
		rc = layout_mask(&out, r, doc->data, doc->len, err);
	else {
		for (size_t i = 0; i < r->nimages && i < CONFIG_MAX_IMAGES; i++) {
			memcpy(dig[i], "sha256:", 7);
			memset(dig[i] + 7, hex[i % 16], 64);
			dig[i][71] = '\0';
			digests[i] = dig[i];
		}
		rc = layout_apply(&out, &st, r, doc->data, doc->len, tag, digests, err);
		if (!rc)
			fprintf(stderr, "%zu matched, %zu changed, %zu lines\n", st.matched, st.changed,
				st.lines);
	}
	if (!rc)
		fwrite(out.data, 1, out.len, stdout);
	buf_release(&out);
	return rc;
}

int main(int argc, char **argv)
{
	struct buf errors = BUF_INIT, doc = BUF_INIT, err = BUF_INIT;
	struct layout_rules r;
	struct config *cfg;
	enum stage s;
	int rc;

	if (argc < 5 || (strcmp(argv[4], "apply") == 0) != (argc == 6) ||
	    (strcmp(argv[4], "apply") && strcmp(argv[4], "resolve") && strcmp(argv[4], "mask"))) {
		fprintf(stderr, "usage: layout_tool CONFIG STAGE VALUES resolve|mask|apply TAG\n");
		return 1;
	}
	if (config_load(&cfg, argv[1], &errors)) {
		fprintf(stderr, "%s", errors.data ? errors.data : "cannot load the configuration\n");
		buf_release(&errors);
		return 1;
	}
	if (stage_parse(&s, argv[2]) || file_read(&doc, argv[3], YAMLEDIT_MAX_INPUT)) {
		fprintf(stderr, "layout_tool: bad stage or unreadable %s\n", argv[3]);
		config_free(cfg);
		return 1;
	}
	layout_rules_from_config(&r, cfg, s);
	rc = run(&r, &doc, argv[4], argc == 6 ? argv[5] : NULL, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.data ? err.data : "(no message)");
	buf_release(&doc);
	buf_release(&err);
	buf_release(&errors);
	config_free(cfg);
	return rc ? 2 : 0;
}
