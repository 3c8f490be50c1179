/* fuzz_trailer_block - differential libFuzzer target: the pure core's
 * trailer-block reader (trailer_block.c) against the libgit2 reader it
 * replaces (git_message_trailers).  The input, up to its first NUL, is read
 * by both; any difference in the number of trailers, a key or a value
 * aborts, with both readings on stderr.  Seeds: fuzz/corpus/trailer. */
#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trailer_block.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	git_libgit2_init();
	return 0;
}

static void dump(const char *msg, const git_message_trailer_array *arr,
		 const struct trailer_block *b)
{
	fprintf(stderr, "trailer_block and libgit2 disagree on:\n%s\n", msg);
	for (size_t i = 0; i < arr->count; i++)
		fprintf(stderr, "  libgit2 [%s] [%s]\n", arr->trailers[i].key,
			arr->trailers[i].value);
	for (size_t i = 0; i < b->count; i++)
		fprintf(stderr, "  ours    [%s] [%s]\n", b->items[i].key, b->items[i].value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	git_message_trailer_array arr = { 0 };
	struct trailer_block b;
	char *msg = xstrndup((const char *)data, size);
	int same;

	if (!msg)
		return 0;
	if (git_message_trailers(&arr, msg) < 0 || trailer_block_read(&b, msg)) {
		git_message_trailer_array_free(&arr);
		free(msg);
		return 0;
	}
	same = arr.count == b.count;
	for (size_t i = 0; same && i < arr.count; i++)
		same = strcmp(arr.trailers[i].key, b.items[i].key) == 0 &&
		       strcmp(arr.trailers[i].value, b.items[i].value) == 0;
	if (!same) {
		dump(msg, &arr, &b);
		abort();
	}
	git_message_trailer_array_free(&arr);
	trailer_block_release(&b);
	free(msg);
	return 0;
}
