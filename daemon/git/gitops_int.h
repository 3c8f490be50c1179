/* gitops_int.h - shared between gitops.c (handle, local objects),
 * gitops_run.c (helper processes, transactions) and the pipelined-git
 * worker (gitops_net.c).  Not for other modules. */
#ifndef PIPELINED_GITOPS_INT_H
#define PIPELINED_GITOPS_INT_H

#include "gitops.h"
#include "sysio.h"

#include <git2.h>

#define GITOPS_DEFAULT_DEADLINE_MS 60000u
#define GITOPS_DEFAULT_ATTEMPTS 5u
#define GITOPS_DEFAULT_BACKOFF_MS 250u
#define GITOPS_MAX_BACKOFF_MS 30000u
#define GITOPS_ERR_PREFIX "pipelined-git: "

/* A leak-check pause for the helper's calls into libgit2, which leaks a
 * few objects per operation (gitworker_main.c): LeakSanitizer does not
 * report what this thread allocates between PAUSE and RESUME.  Nothing
 * outside sanitizer builds. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define GITOPS_LSAN_PAUSE() __lsan_disable()
#define GITOPS_LSAN_RESUME() __lsan_enable()
#else
#define GITOPS_LSAN_PAUSE() ((void)0)
#define GITOPS_LSAN_RESUME() ((void)0)
#endif

struct gitops_txn;

struct gitops {
	char *url, *branch, *ssh_key, *known_hosts, *mirror, *worker, *home;
	char *ident_name, *ident_email;
	uint64_t deadline_ms, backoff_ms;
	unsigned push_attempts;
	char tracking[320];	/* refs/pipelined/remote/heads/<branch> */
	git_repository *repo;	/* one thread at a time (libgit2 rule) */
	char err[1024];
	bool busy;		/* one asynchronous operation at a time */
	unsigned seed;		/* backoff jitter */
	struct gitops_sess *sess;	/* the ls-remote session helper, or NULL */
};

/* Set g->err from fmt and return rc (a pipelined code). */
int gitops_fail(struct gitops *g, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same for rc returned by libgit2: appends libgit2's message and returns
 * the pipelined code for it. */
int gitops_gitfail(struct gitops *g, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int gitops_map_git_error(int rc);

/* Worker side (pipelined-git).  argv after the program name; returns the
 * exit status. */
int gitops_worker_main(int argc, char **argv);

#endif
