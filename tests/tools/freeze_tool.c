/* freeze_tool - drives freeze.c for tests/golden/freeze.sh:
 *   freeze_tool parse FILE            the entries, one line each, or the errors
 *   freeze_tool add FILE ID STAGES START END BREAKGLASS REASON
 *                                     (STAGES "all" or "paper,live"; START/END
 *                                     an RFC 3339 time or "-"; BREAKGLASS allow
 *                                     or deny): the spliced file on stdout
 *   freeze_tool lift FILE ID          the file without that entry
 * Errors go to stderr, exit status 2. */
#include "clock.h"
#include "freeze.h"

#include <stdio.h>
#include <string.h>

static int slurp(struct buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(b, chunk, n))
			break;
	fclose(f);
	return 0;
}

static void print_entry(const struct freeze_entry *e)
{
	char st[64], a[40] = "-", z[40] = "-";

	freeze_stages_text(st, sizeof st, e);
	if (e->has_start)
		clock_format_rfc3339(a, sizeof a, (time_t)e->start, 0, true);
	if (e->has_end)
		clock_format_rfc3339(z, sizeof z, (time_t)e->end, 0, true);
	printf("%u %s [%s] %s %s %s \"%s\"\n", e->line, e->id, st, a, z,
	       e->break_glass ? "allow" : "deny", e->reason);
}

static int time_arg(bool *has, int64_t *t, const char *s)
{
	time_t v;

	*has = strcmp(s, "-") != 0;
	if (!*has)
		return 0;
	if (clock_parse_rfc3339(&v, s, NULL))
		return -1;
	*t = (int64_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static struct freeze_set s;
	struct buf doc = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	const char *name;
	int rc;

	if (argc < 3 || slurp(&doc, argv[2])) {
		fprintf(stderr, "usage: freeze_tool parse|add|lift FILE ...\n");
		return 2;
	}
	name = strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2];
	buf_init(&err, FREEZE_ERR_MAX);
	if (strcmp(argv[1], "parse") == 0) {
		rc = freeze_parse(&s, doc.data, doc.len, name, &err);
		for (size_t i = 0; rc == 0 && i < s.n; i++)
			print_entry(&s.e[i]);
	} else if (strcmp(argv[1], "add") == 0 && argc == 10) {
		struct freeze_new n = { .id = argv[3], .reason = argv[9] };
		enum stage st;
		char *save = NULL, list[64];

		n.all = strcmp(argv[4], "all") == 0;
		strlcpy_(list, argv[4], sizeof list);
		for (char *t = strtok_r(list, ",", &save); !n.all && t; t = strtok_r(NULL, ",", &save))
			if (stage_parse(&st, t) == 0)
				n.stages |= 1u << st;
		if (n.all)
			n.stages = (1u << STAGE_BETA) | (1u << STAGE_PAPER) | (1u << STAGE_LIVE);
		n.break_glass = strcmp(argv[8], "allow") == 0;
		n.offset = -5 * 3600;
		if (time_arg(&n.has_start, &n.start, argv[5]) || time_arg(&n.has_end, &n.end, argv[6]))
			return fprintf(stderr, "bad time\n"), 2;
		(void)argv[7];
		rc = freeze_add(&out, doc.data, doc.len, name, &n, &err);
		if (rc == 0)
			fwrite(out.data ? out.data : "", 1, out.len, stdout);
	} else if (strcmp(argv[1], "lift") == 0 && argc == 4) {
		rc = freeze_lift(&out, doc.data, doc.len, name, argv[3], &err);
		if (rc == 0)
			fwrite(out.data ? out.data : "", 1, out.len, stdout);
	} else {
		fprintf(stderr, "usage: freeze_tool parse|add|lift FILE ...\n");
		return 2;
	}
	if (rc) {
		fputs(err.data ? err.data : "error\n", stderr);
		if (err.len && err.data[err.len - 1] != '\n')
			fputc('\n', stderr);
	}
	buf_release(&doc);
	buf_release(&out);
	buf_release(&err);
	return rc ? 2 : 0;
}
