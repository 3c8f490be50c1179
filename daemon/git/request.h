/* request.h - the one builder of a promotion request's commit, used by
 * `pipelinectl promote`/`rollback` (ctl_promote.c) and by the dashboard's
 * Promote and Roll back buttons (engine_promote.c), so the two cannot make
 * different requests: on the tracked branch's tip as fetched, the stage's
 * values file with every image tag set to the release (layout_apply, the
 * same edit the daemon re-applies when it merges), and the message the
 * caller formatted with trailer_format_request().  It moves no ref and
 * pushes nothing: the caller pushes the branch, which must be new. */
#ifndef PIPELINED_REQUEST_H
#define PIPELINED_REQUEST_H

#include "gitops.h"
#include "layout.h"
#include "util.h"

struct request_spec {
	const char *branch;			/* "promote/<stage>/<name>" */
	const char *base;			/* rev of the tracked branch's tip */
	const char *values_path;		/* the stage's values file */
	const struct layout_rules *rules;	/* the stage's mapping */
	const char *tag;			/* the release, 40-hex */
	const char *message;			/* trailer_format_request()'s */
	const struct gitops_person *author;	/* NULL: g's identity */
};

/* The commit, written to g's object database: its id in out (and the tip
 * it sits on in tip).  ERR_REJECTED: the branch is already on the remote
 * (as last fetched); ERR_INVALID: the edit is refused (the values file,
 * named, does not satisfy the mapping) or changes nothing (the release is
 * already every tag); another error: git failed.
 * err gets one line saying why, naming the file or the branch. */
int request_commit_build(char out[GITOPS_HEXSZ + 1], char tip[GITOPS_HEXSZ + 1],
			 struct gitops *g, const struct request_spec *rs, struct buf *err);

#endif
