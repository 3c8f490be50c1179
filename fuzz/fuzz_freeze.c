/* libFuzzer target for freeze.c.  Input: a freeze file.  Checks:
 *  - a parse succeeds with at most FREEZE_MAX_ENTRIES entries, each with an
 *    id, stages, a reason, and an end after its start; or it fails with at
 *    least one "name:" error line and out untouched;
 *  - on a file that parses, lifting its first entry and adding a new one
 *    either refuse with a message or give a file that parses again (both
 *    check that the other entries are kept);
 *  - freeze_holds names an entry that holds the stage, and an end after now.
 * Seed corpus: fuzz/corpus/freeze/ (fuzz/make_corpus.sh: the golden files). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "freeze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct freeze_set set, again;

static void check_splices(const char *doc, size_t len)
{
	struct freeze_new n = { .id = "fuzz-new", .all = true, .reason = "fuzz \"quoted\"",
				.has_end = true, .end = 1800000000, .offset = -18000 };
	struct buf out = BUF_INIT, err = BUF_INIT;

	n.stages = (1u << STAGE_BETA) | (1u << STAGE_PAPER) | (1u << STAGE_LIVE);
	buf_init(&out, FREEZE_FILE_MAX + 1);
	buf_init(&err, FREEZE_ERR_MAX);
	if (freeze_add(&out, doc, len, "f", &n, &err) == 0) {
		if (freeze_parse(&again, out.data, out.len, "f", NULL) || again.n != set.n + 1)
			abort();
	} else if (!err.len) {
		abort();
	}
	buf_reset(&err);
	if (set.n && freeze_lift(&out, doc, len, "f", set.e[0].id, &err) == 0) {
		if (freeze_parse(&again, out.data ? out.data : "", out.len, "f", NULL) ||
		    again.n != set.n - 1)
			abort();
	} else if (set.n && !err.len) {
		abort();
	}
	buf_release(&out);
	buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	int rc;

	buf_init(&err, FREEZE_ERR_MAX);
	set.n = 12345;
	rc = freeze_parse(&set, (const char *)data, size, "f", &err);
	if (rc) {
		if (set.n != 12345 || !err.data || strncmp(err.data, "f:", 2) != 0)
			abort();
		buf_release(&err);
		return 0;
	}
	if (set.n > FREEZE_MAX_ENTRIES)
		abort();
	for (size_t i = 0; i < set.n; i++) {
		const struct freeze_entry *e = &set.e[i];

		if (!freeze_id_ok(e->id) || !e->stages || !e->reason[0] ||
		    (e->has_start && e->has_end && e->end <= e->start))
			abort();
	}
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		struct freeze_hold h;

		freeze_holds(&h, &set, (enum stage)st, 1790000000);
		if (h.n && (!h.first || !freeze_active(h.first, (enum stage)st, 1790000000) ||
			    (h.until && h.until <= 1790000000)))
			abort();
	}
	check_splices((const char *)data, size);
	buf_release(&err);
	return 0;
}
