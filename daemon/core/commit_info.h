/* commit_info.h - what the pure modules know of a commit: ids, parents,
 * people, times and the raw message, as the git layer (gitops.h) reads
 * them from the mirror.  A struct of facts, so that history and audit can
 * be tested without a repository. */
#ifndef PIPELINED_COMMIT_INFO_H
#define PIPELINED_COMMIT_INFO_H

#include <stdint.h>

#define GITOPS_HEXSZ 40

struct gitops_commit_info {
	char id[GITOPS_HEXSZ + 1];
	char tree[GITOPS_HEXSZ + 1];
	char parents[2][GITOPS_HEXSZ + 1];
	unsigned nparents;	/* all parents counted; the first two copied */
	char *author_name, *author_email;
	int64_t author_time;
	int author_offset_min;
	char *committer_name, *committer_email;
	int64_t committer_time;
	char *message;		/* raw, as stored */
	int committer_offset_min;
};

#endif
