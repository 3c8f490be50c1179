/* fuzz_trailer - libFuzzer target for trailer.c.
 *
 * The input is read twice:
 *   1. as a request commit message: trailer_parse must not crash, and what
 *      it returns must be well-formed (git-style keys, single-line values);
 *   2. split at the first NUL into notes and a justification for a
 *      promotion message: the message must parse back to exactly the
 *      daemon's trailers with the sanitised values, whatever the notes
 *      say (no injected, hidden or altered trailer).
 *   3. as an Approved-By: value (issue 14): a parsed one names a principal
 *      without spaces or commas and a 40-hex approval, and formatting those
 *      back parses to the same.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trailer.h"
#include "util.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define REQ "89abcdef0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_trailer: %s\n", what);
		abort();
	}
}

static void check_parsed(const struct trailer_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const char *k = l->items[i].key, *v = l->items[i].value;
		size_t vl = strlen(v);

		check(k[0] != '\0', "empty key");
		check(strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "0123456789-") == strlen(k), "key with a bad character");
		check(!strchr(v, '\n') && !strchr(v, '\r'), "multi-line value");
		check(vl == 0 || (v[0] != ' ' && v[vl - 1] != ' '), "untrimmed value");
	}
}

static void parse_as_request(const uint8_t *data, size_t size)
{
	struct trailer_list l;

	if (trailer_parse(&l, (const char *)data, size, NULL) == 0) {
		check_parsed(&l);
		trailer_list_release(&l);
	}
}

static void expect(const struct trailer_list *l, size_t *i, const char *key, const char *value)
{
	check(*i < l->count, "trailer missing");
	check(strcmp(l->items[*i].key, key) == 0, "unexpected key");
	check(strcmp(l->items[*i].value, value) == 0, "value changed");
	(*i)++;
}

static void expect_optional(const struct trailer_list *l, size_t *i, const char *key,
			    const char *raw, size_t max)
{
	struct buf v = BUF_INIT;

	if (trailer_text_blank(raw))
		return;
	check(trailer_sanitize_value(&v, raw, max) == 0, "sanitize failed");
	expect(l, i, key, v.data);
	buf_release(&v);
}

static void format_and_reread(const char *notes, const char *justification)
{
	struct trailer_promotion p = {
		.stage = STAGE_LIVE, .source = STAGE_PAPER, .image_tag = SHA,
		.requested_by = justification, .request = REQ, .notes = notes,
		.break_glass = justification, .market = "closed (weekend)",
		.integration_test = "passed 312/312",
	};
	struct buf out = BUF_INIT;
	struct trailer_list l;
	size_t i = 0;
	int rc = trailer_format_promotion(&out, &p, NULL);

	if (strlen(notes) > TRAILER_NOTES_MAX || strlen(justification) > TRAILER_VALUE_MAX) {
		check(rc < 0, "oversized input accepted");
		return;
	}
	if (trailer_text_blank(justification)) {
		check(rc == ERR_INVALID, "blank Requested-By accepted");
		return;
	}
	check(rc == 0, "format failed");
	check(trailer_parse(&l, out.data, out.len, NULL) == 0, "own message unreadable");
	expect(&l, &i, "Stage", "live");
	expect(&l, &i, "Source-Stage", "paper");
	expect(&l, &i, "Image-Tag", SHA);
	expect_optional(&l, &i, "Requested-By", justification, TRAILER_VALUE_MAX);
	expect(&l, &i, "Request", REQ);
	expect_optional(&l, &i, "Notes", notes, TRAILER_NOTES_MAX);
	expect_optional(&l, &i, "Break-Glass", justification, TRAILER_JUSTIFICATION_MAX);
	expect(&l, &i, "Market", "closed (weekend)");
	expect(&l, &i, "Integration-Test", "passed 312/312");
	check(i == l.count, "extra trailer");
	trailer_list_release(&l);
	buf_release(&out);
}

static void approved_by(const char *value)
{
	char principal[256], id[41], p2[256], id2[41];
	struct buf v = BUF_INIT;

	if (trailer_parse_approved_by(principal, sizeof principal, id, value))
		return;
	check(strlen(id) == 40 && principal[0] && !strpbrk(principal, " ,\t\n"),
	      "bad Approved-By parse");
	buf_init(&v, TRAILER_VALUE_MAX);
	check(trailer_format_approved_by(&v, "A", "a@x", principal, id) == 0,
	      "parsed Approved-By cannot be formatted");
	check(trailer_parse_approved_by(p2, sizeof p2, id2, v.data) == 0 &&
	      strcmp(p2, principal) == 0 && strcmp(id2, id) == 0, "Approved-By round trip");
	buf_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	char *copy;
	size_t split;

	if (!initialised) {
		git_libgit2_init();
		initialised = 1;
	}
	parse_as_request(data, size);
	copy = malloc(size + 2);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = '\0';
	split = strlen(copy);
	format_and_reread(copy, copy + split + (split < size));
	approved_by(copy);
	free(copy);
	return 0;
}
