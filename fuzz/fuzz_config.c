/* fuzz_config.c - libFuzzer target for the configuration loader.
 *
 * Each input is written to a temp file (libgit2 reads configuration from
 * disk), loaded and freed.  In fuzz builds (PIPELINED_FUZZING) the line
 * scanner aborts if it ever disagrees with libgit2 about which variables a
 * file holds, so a disagreement is a crash here, not a wrong line number in
 * production. */
#include "config.h"

#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[] = "/tmp/fuzz_config.XXXXXX";
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As in the daemon, libgit2 stays initialised; config_load's own
 * init/shutdown pair then costs nothing (without this: 28 runs/s). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	git_libgit2_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct buf errors = BUF_INIT;

	if (fd < 0) {
		fd = mkstemp(path);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (config_load(&cfg, path, &errors) == 0 && errors.len)
		abort();	/* success never comes with errors */
	config_free(cfg);
	buf_release(&errors);
	return 0;
}
