/* ctl_check_config.c - pipelinectl check-config: the same check as
 * "pipelined -n", on the file named with -c (or the default). */
#include "config_load.h"
#include "ctl.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int print_json(const char *path, int ok, const struct buf *errors)
{
	json_t *list = json_array(), *doc;
	const char *p = errors->data ? errors->data : "";
	int rc;

	while (list && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		json_array_append_new(list, json_stringn(p, n));
		p += n + (nl != NULL);
	}
	doc = json_pack("{s:s, s:b, s:o*}", "file", path, "ok", ok, "errors", list);
	if (!doc)
		return 2;
	rc = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 ? 0 : 2;
	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

int cmd_check_config(int argc, char **argv, const struct ctl_opts *opts)
{
	struct buf errors = BUF_INIT;
	struct config *cfg = NULL;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: pipelinectl [-c FILE] [--json] check-config\n");
		return 2;
	}
	rc = config_load(&cfg, opts->config, &errors);
	config_free(cfg);
	if (rc == ERR_NOMEM) {
		fprintf(stderr, "pipelinectl: out of memory reading '%s'\n", opts->config);
		buf_release(&errors);
		return 2;
	}
	if (opts->json)
		rc = print_json(opts->config, rc == 0, &errors) ? 2 : (rc == 0 ? 0 : 1);
	else if (rc == 0)
		printf("configuration OK\n"), rc = 0;
	else
		fputs(errors.data ? errors.data : "", stderr), rc = 1;
	buf_release(&errors);
	return rc;
}
