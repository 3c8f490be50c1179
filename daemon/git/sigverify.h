/* sigverify.h - SSH signatures on promotion-request commits.
 *
 * A stage with requireSignature = true accepts only request commits signed
 * (git's gpgsig header, "-----BEGIN SSH SIGNATURE-----") by a principal in
 * its allowed-signers file.  Verification runs `ssh-keygen -Y find-principals`
 * and `ssh-keygen -Y verify -n git` spawned with an argument vector (never a
 * shell), the signed payload on stdin, under a deadline (killed past it).
 * The commit's author e-mail is not authenticated by the signature: only the
 * principal ssh-keygen reports counts (becomes the Signed-By trailer).
 */
#ifndef PIPELINED_SIGVERIFY_H
#define PIPELINED_SIGVERIFY_H

#include <stdint.h>
#include <uv.h>

#include "gitops.h"
#include "policy.h"

struct sigverify_result {
	enum policy_sig verdict;	/* GOOD, BAD, UNSIGNED, or UNCHECKED on failure */
	char principal[256];		/* when GOOD */
	/* issue 14 item 3: who signed, for "is the approver the author?" */
	char principals[512];		/* when GOOD: every principal the signers
					 * file gives the key, comma-separated */
	char key[60];			/* the signing key's fingerprint, or "" */
	char error[512];		/* why, when not GOOD (no secrets) */
};

/* The signature and the signed payload of commit rev in g's mirror
 * (git_commit_extract_signature); ERR_NOTFOUND when unsigned. */
int gitops_commit_signature(struct buf *sig, struct buf *payload, struct gitops *g,
			    const char *rev);

typedef void sigverify_done_cb(const struct sigverify_result *res, void *data);

/* Verifies on loop; done is called exactly once on the loop thread unless
 * this returns non-zero.  sig/payload are copied.  deadline_ms 0 = 10s. */
int sigverify_start(uv_loop_t *loop, const char *allowed_signers,
		    const char *sig, size_t siglen, const char *payload, size_t paylen,
		    uint64_t deadline_ms, sigverify_done_cb *done, void *data);

/* Synchronous form (pipelinectl audit): runs a private loop. */
int sigverify_sync(struct sigverify_result *out, const char *allowed_signers,
		   const char *sig, size_t siglen, const char *payload, size_t paylen,
		   uint64_t deadline_ms);

/* Issue 14 item 3: sign payload as git commit -S does (`ssh-keygen -Y sign
 * -n git -f key`, the payload on stdin, no shell, under a deadline) and
 * append the armored signature to sig.  key is a private key file, or a
 * public one whose private half ssh-agent holds.  ERR_FAIL with
 * ssh-keygen's first line in err (a passphrase it cannot ask for, a missing
 * key). */
int sigverify_sign_sync(struct buf *sig, char *err, size_t errsz, const char *key,
			const char *payload, size_t len, uint64_t deadline_ms);

#endif
