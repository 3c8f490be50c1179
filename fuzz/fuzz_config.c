/* fuzz_config.c - libFuzzer target for the configuration loader and a
 * differential check of its parser.
 *
 * config_scan.c is the parser of record for pipelines.conf; git config's
 * meaning is libgit2's.  Each input is parsed by both (libgit2 reads
 * configuration from disk, so the input is written to a temp file first)
 * and any disagreement aborts: on whether the file parses, on the names and
 * values of its variables in order, or on the line and wording of the first
 * syntax error.  Then the whole loader runs on it, which must never report
 * success with errors. */
#include "config_load.h"
#include "config_scan.h"

#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The input's file lives alone in a private directory, so the files its
 * relative paths name are the same (absent) on every machine, on a tmpfs
 * when there is one: on a disk mounted with "discard", rewriting a file
 * frees its blocks and waits for the device (a millisecond per input). */
static char dir[PATH_MAX], path[PATH_MAX];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cleanup(void)
{
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");
	struct stat st;

	(void)argc;
	(void)argv;
	if (!base || !*base)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
				       access("/dev/shm", W_OK | X_OK) == 0
			       ? "/dev/shm"
			       : "/tmp";
	snprintf(dir, sizeof(dir), "%s/fuzz_config.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/pipelines.conf", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	atexit(cleanup);
	git_libgit2_init();
	return 0;
}

/* "include" in any case: libgit2 opens what an include names. */
static bool mentions_include(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 7 <= n; i++)
		if ((d[i] | 0x20) == 'i' && strncasecmp((const char *)d + i, "include", 7) == 0)
			return true;
	return false;
}

static void disagree(const char *what, const char *ours, const char *theirs)
{
	fprintf(stderr, "config_scan and libgit2 disagree on %s: '%s' vs '%s'\n", what,
		ours ? ours : "(null)", theirs ? theirs : "(null)");
	abort();
}

/* libgit2: "failed to parse config file: WHAT (in FILE:LINE[, column N])",
 * or "invalid escape at ..." without a place. */
static void compare_error(const struct config_scan *s)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "";
	const char *prefix = "failed to parse config file: ", *in, *colon;
	char what[128], line[16];

	if (!s->error_line)
		disagree("whether the file parses", "parses", msg);
	if (strncmp(msg, "invalid escape at ", 18) == 0) {
		if (strncmp(s->error, "invalid escape sequence", 23) != 0)
			disagree("the error", s->error, msg);
		return;
	}
	if (strncmp(msg, prefix, strlen(prefix)) != 0 || !(in = strstr(msg, " (in ")) ||
	    !(colon = strrchr(in, ':')))
		return;	/* not a parse error (e.g. out of memory) */
	msg += strlen(prefix);
	snprintf(what, sizeof(what), "%.*s", (int)(in - msg), msg);
	if (strcmp(what, s->error) != 0)
		disagree("the error", s->error, what);
	snprintf(line, sizeof(line), "%d", s->error_line);
	if (strncmp(colon + 1, line, strlen(line)) != 0 || (colon[1 + strlen(line)] != ')' &&
							     colon[1 + strlen(line)] != ','))
		disagree("the error's line", line, colon + 1);
}

static void compare(const uint8_t *data, size_t size)
{
	struct config_scan s;
	git_config *gc = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	size_t i = 0;
	int rc;

	if (config_scan_run(&s, (const char *)data, size))
		abort();
	/* NUL bytes (refused before parsing) and includes (libgit2 opens other
	 * files) are outside the comparison. */
	if (s.nul_line || mentions_include(data, size))
		goto out;
	if (git_config_new(&gc) < 0)
		abort();
	if (git_config_add_file_ondisk(gc, path, GIT_CONFIG_LEVEL_APP, NULL, 0) < 0) {
		compare_error(&s);
		goto out;
	}
	if (s.error_line)
		disagree("whether the file parses", s.error, "parses");
	if (git_config_iterator_new(&it, gc) < 0)
		abort();
	while ((rc = git_config_next(&e, it)) == 0) {
		const struct config_scan_var *v = i < s.nvars ? &s.vars[i++] : NULL;

		if (!v)
			disagree("a variable", NULL, e->name);
		if (strcmp(v->name, e->name) != 0)
			disagree("a name", v->name, e->name);
		if ((v->value == NULL) != (e->value == NULL) ||
		    (v->value && strcmp(v->value, e->value) != 0))
			disagree("a value", v->value, e->value);
	}
	if (rc != GIT_ITEROVER)
		abort();
	if (i != s.nvars)
		disagree("a variable", s.vars[i].name, NULL);
out:
	git_config_iterator_free(it);
	git_config_free(gc);
	config_scan_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct buf errors = BUF_INIT;

	/* Write, then cut to size: truncating to zero first would make ext4
	 * flush the file on the next close (its auto_da_alloc rule). */
	if (pwrite(fd, data, size, 0) != (ssize_t)size || ftruncate(fd, (off_t)size))
		abort();
	compare(data, size);
	if (config_load(&cfg, path, &errors) == 0 && errors.len)
		abort();	/* success never comes with errors */
	config_free(cfg);
	buf_release(&errors);
	return 0;
}
