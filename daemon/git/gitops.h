/* gitops.h - the git layer: a bare mirror of the GitOps remote, commits made
 * without a work tree, notes, and pushes that never clobber anyone.
 *
 * Two halves:
 *  - Local object work (read a file, build a commit, add a note, walk
 *    history) runs in the calling thread on the mirror.  Call it off the
 *    loop thread (gitops_queue) in the daemon; pipelinectl may call it
 *    directly.
 *  - Network work (fetch, ls-remote, push) always runs in a helper process,
 *    `pipelined-git` (gitworker_main.c), run through childproc and killed
 *    with its whole process group at the deadline: libgit2 1.5 has no
 *    network timeouts and a blocked recv() cannot be interrupted.  The
 *    caller's loop only ever waits on pipes and a timer.
 *
 * Remote refs live in a private namespace of the mirror: remote "refs/X" is
 * "refs/pipelined/remote/X" locally (GITOPS_TRACKING).  Commits about to be
 * pushed sit under "refs/pipelined/out/".  Nothing here depends on the
 * configuration module: the caller fills struct gitops_opts.
 *
 * Exactly-once (SPEC 5, invariants).  The only commit point is the update of
 * the tracked branch on the remote.  A transaction therefore pushes in two
 * steps: (1) the branch alone, never forced, and only if the remote still
 * has the tip we built on (client check + the server's own old-value check);
 * (2) after (1) landed: the notes ref and the request-branch deletion,
 * together.  Step 2 is idempotent and re-derivable: if it is lost (crash,
 * timeout), the next transaction finds the request tip already reachable
 * from the branch (result.already_merged) or the edit producing no change
 * (result.unchanged), makes no second commit, and only redoes step 2.  A
 * request merge whose edit changes nothing on a tip that does not contain
 * the request yet is not made at all (GITOPS_ECURRENT): a promotion of
 * nothing.  A
 * combined push of all three would not be atomic (libgit2 1.5 cannot ask
 * for an atomic push) and could delete a request whose merge was refused.
 * A request branch is only deleted while it still points at the commit we
 * merged (checked in push negotiation against the server's advertisement).
 */
#ifndef PIPELINED_GITOPS_H
#define PIPELINED_GITOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "commit_info.h"
#include "util.h"

#define GITOPS_TRACKING "refs/pipelined/remote/"
#define GITOPS_OUT "refs/pipelined/out/"
#define GITOPS_NOTES_REF "refs/notes/pipelined"
/* When a promotion became deployed in Argo CD: a notes ref of its own, so
 * that it never collides with the refusal notes. */
#define GITOPS_DEPLOY_NOTES_REF "refs/notes/pipelined-deploy"
#define GITOPS_REQUEST_PREFIX "refs/heads/promote/"
#define GITOPS_MAX_REFS 4096		/* ls-remote / result bound */
#define GITOPS_MAX_FILE (4u << 20)	/* bytes of one file read or written */
#define GITOPS_MAX_DELETES 32		/* request branches deleted by one push */

/* Expected failures beyond util.h's (negative; the worker's exit status is
 * the negated code). */
enum {
	GITOPS_EHOSTKEY = -20,	/* host key unknown, changed, or known_hosts unusable */
	GITOPS_EAUTH = -21,	/* deploy key refused or unusable */
	GITOPS_ENONFF = -22,	/* remote moved: not a fast-forward (client side) */
	GITOPS_EGATE = -23,	/* the caller's gate refused before a push */
	GITOPS_EBUSY = -24,	/* another operation runs on this handle */
	GITOPS_EMOVED = -25,	/* request branch moved; not deleted */
	GITOPS_EHOOK = -26,	/* a server-side hook declined the push (a ref's
				 * status says "hook declined"): the server's policy,
				 * not a race; the engine does not retry it hot */
	GITOPS_ECURRENT = -27,	/* a request merge whose edit, re-applied on the
				 * fresh tip, changes nothing: the branch already
				 * has that release; no no-op merge is made */
};

struct gitops_opts {
	const char *url;	/* ssh://[user@]host[:port]/path, [user@]host:path,
				 * file:///path or a local path */
	const char *branch;	/* tracked branch, e.g. "main" */
	const char *ssh_key;	/* Ed25519/ECDSA private key file (SSH only) */
	const char *known_hosts;/* pinned OpenSSH known_hosts file (SSH only) */
	const char *mirror;	/* bare mirror directory, created if absent */
	const char *worker;	/* pipelined-git; NULL = installed libexec path */
	uint64_t deadline_ms;	/* per network operation; 0 = 60s */
	const char *ident_name;	/* committer of every commit and note */
	const char *ident_email;
	unsigned push_attempts;	/* per transaction; 0 = 5 */
	uint64_t backoff_ms;	/* first retry delay, doubled, jittered; 0 = 250 */
};

struct gitops;

/* Once per process, before any thread: libgit2 init and no global, XDG or
 * system git configuration (a user's ~/.gitconfig must not leak in). */
int gitops_global_init(void);
void gitops_global_shutdown(void);

/* Copies opts; creates the mirror (bare) and its private HOME if absent.
 * On failure *out is untouched and err (may be NULL) says why. */
int gitops_open(struct gitops **out, const struct gitops_opts *opts, struct buf *err);
void gitops_free(struct gitops *g);
/* A handle on an existing local repository at path (work tree, .git or
 * bare; found like git does from a directory inside it) for local object
 * work only: no mirror is created, no network operation may be started.
 * ERR_NOTFOUND when path is not in a repository (gitops_local.c). */
int gitops_open_local(struct gitops **out, const char *path, struct buf *err);
/* The message of the last failed call on g (never NULL). */
const char *gitops_error(const struct gitops *g);

/* ---- local object work (blocking; not on the loop thread) ---- */

/* "refs/pipelined/remote/heads/<branch>" of g, i.e. our copy of the remote's
 * tracked branch as of the last fetch. */
const char *gitops_tracking_branch(const struct gitops *g);
int gitops_resolve(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *rev);
/* The bytes of path in the tree of rev (a commit id or ref name). */
int gitops_read_file(struct buf *out, struct gitops *g, const char *rev, const char *path);

/* The blob id of path in the tree of rev, without reading the blob, and
 * the id git gives a blob of these bytes: equal ids, equal bytes (the
 * audit compares a file with what it expects without inflating it). */
int gitops_blob_id(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *rev,
		   const char *path);
int gitops_blob_hash(char out[GITOPS_HEXSZ + 1], const char *data, size_t len);

struct gitops_person {
	const char *name;
	const char *email;
	int64_t time;		/* seconds since the epoch; ignored when now */
	int offset_min;		/* UTC offset in minutes */
	bool now;		/* stamp with the current time instead */
};

struct gitops_file {
	const char *path;
	const char *data;
	size_t len;
};

struct gitops_commit_spec {
	const char *parents[2];	/* revs; parents[0] also gives the base tree */
	size_t nparents;	/* 1, or 2 for the merge of SPEC 5.3 */
	const struct gitops_file *files;	/* replaced or added in the base tree */
	size_t nfiles;
	const char *message;
	const struct gitops_person *author;	/* NULL = the committer */
	/* committer is always g's identity, now */
	/* issue 14 item 3: when set, the commit is signed: sign gets the
	 * commit's bytes and appends the armored signature (git's gpgsig
	 * header) to sig; non-zero fails the commit, with the reason in g */
	int (*sign)(struct buf *sig, const char *payload, size_t len, void *data);
	void *sign_data;
};

/* Writes blobs, tree and commit; moves no ref. */
int gitops_commit_create(char out[GITOPS_HEXSZ + 1], struct gitops *g,
			 const struct gitops_commit_spec *spec);

int gitops_commit_info(struct gitops_commit_info *out, struct gitops *g, const char *rev);
void gitops_commit_info_release(struct gitops_commit_info *ci);

/* Adds (or overwrites) the note on target in a notes commit whose parent is
 * the notes commit at base_rev (NULL or missing = a new notes history).
 * Moves no ref; out is the new notes commit. */
int gitops_note_commit(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *base_rev,
		       const char *target, const char *text);
/* The note on target under notes commit notes_rev; ERR_NOTFOUND if none. */
int gitops_note_read(struct buf *out, struct gitops *g, const char *notes_rev, const char *target);

/* First-parent history of rev, newest first, stopping before stop (NULL =
 * to the root) or after max commits.  *out is an array of n ids the caller
 * frees; ERR_TOOBIG if stop was not reached within max (the n listed are
 * still returned). */
int gitops_first_parents(char (**out)[GITOPS_HEXSZ + 1], size_t *n, struct gitops *g,
			 const char *rev, const char *stop, size_t max);
/* The first-parent history of rev as gitops_first_parents walks it (down
 * to stop, at most max: ERR_TOOBIG), in one pass: fn(ci, data) on each
 * commit, newest first, until it returns non-zero (positive: stop, 0 is
 * returned; negative: that error).  ci's strings are the commit's own,
 * valid during the call only: one read per commit and nothing copied
 * (pipelinectl log over 100,000 commits; the audit walks to the root
 * and stops it itself).  The bound's message names stop, or without it
 * "more than max first-parent commits up to 'rev'". */
typedef int gitops_commit_cb(const struct gitops_commit_info *ci, void *data);
int gitops_walk_commits(struct gitops *g, const char *rev, const char *stop, size_t max,
			gitops_commit_cb *fn, void *data);
/* Whether reading an object re-hashes it to check its id (libgit2's
 * strict hash verification, on by default; process-wide).  git log does
 * not; the audit does, as an integrity check of what it judges. */
void gitops_verify_hashes(bool on);
/* Whether parsed objects are kept in libgit2's cache (on by default;
 * process-wide).  A walk that reads each commit once gains nothing from it
 * and pays for it: a third of pipelinectl log's time over 30,000 commits
 * went to filling, faulting in and freeing a cache nothing read again. */
void gitops_cache_objects(bool on);
/* The repository's git directory ("/x/.git/", or the bare repository),
 * where pipelinectl keeps its caches (the audit checkpoints). */
const char *gitops_git_dir(const struct gitops *g);
int gitops_merge_base(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *a, const char *b);
/* 1 if ancestor is reachable from descendant (or equal), 0 if not. */
int gitops_is_ancestor(struct gitops *g, const char *ancestor, const char *descendant);
/* 1 if rev is one commit whose only parent is onto or an ancestor of it
 * (the shape of a promotion request, so that merging it brings no other
 * commit into onto's history), 0 if not (a merge, a root, a stack, foreign
 * history).  Issue 14 item 3: up to TRAILER_APPROVALS_MAX commits that
 * change nothing (approvals: the tree of their parent) may sit on top of
 * that one commit; they bring no change in. */
int gitops_one_commit_on(struct gitops *g, const char *rev, const char *onto);
/* Paths whose entries differ between the trees of old_rev (NULL: the empty
 * tree) and new_rev, at most max (ERR_TOOBIG beyond); free the array with
 * gitops_paths_free (gitops_local.c). */
int gitops_changed_paths(char ***out, size_t *n, struct gitops *g, const char *old_rev,
			 const char *new_rev, size_t max);
void gitops_paths_free(char **v, size_t n);
/* The same comparison along a first-parent chain (pipelinectl audit):
 * trees named by id, oldest pair first, each call's new side kept for the
 * next one's old side, so that every tree is read once even with the
 * object cache off.  ids[k] (freed with free) is paths[k]'s blob id on the
 * new side, "" when it is no blob there (deleted, a link or submodule is
 * still a blob or not as git says).  rev names the commit in messages. */
struct gitops_trees;
int gitops_trees_open(struct gitops_trees **out, struct gitops *g);
void gitops_trees_free(struct gitops_trees *m);
int gitops_tree_changes(char ***paths, char (**ids)[GITOPS_HEXSZ + 1], size_t *n,
			struct gitops_trees *m, const char *old_tree, const char *new_tree,
			const char *rev, size_t max);

/* A path present in both trees whose file mode differs (100644 -> 100755,
 * a file become a symbolic link, ...). */
struct gitops_mode_change {
	char path[512];		/* truncated when longer */
	unsigned old_mode, new_mode;	/* git's octal modes, e.g. 0100644 */
};
/* The first mode change between the trees of old_rev and new_rev: 1 with
 * *out filled, 0 when there is none (gitops_local.c). */
int gitops_mode_change(struct gitops_mode_change *out, struct gitops *g, const char *old_rev,
		       const char *new_rev);
/* Point a local ref at rev (force); used for the out/ namespace and tests. */
int gitops_ref_set(struct gitops *g, const char *ref, const char *rev);

/* ---- network work (helper process, deadline, libuv) ---- */

struct gitops_ref {
	char name[256];
	char id[GITOPS_HEXSZ + 1];
};

struct gitops_result {
	int rc;			/* 0 or a negative ERR_* / GITOPS_E* */
	char error[1024];	/* what failed, with the host/refs involved */
	struct buf remote;	/* "remote: ..." lines the server sent */
	struct gitops_ref *refs;	/* ls-remote */
	size_t nrefs;
	char commit[GITOPS_HEXSZ + 1];	/* transaction: the commit now on the branch */
	unsigned attempts;	/* transaction: pushes tried */
	bool unchanged;		/* transaction: the edit changed nothing */
	bool already_merged;	/* transaction: the request tip was on the branch */
	uint64_t elapsed_ms;
};
void gitops_result_release(struct gitops_result *r);

typedef void gitops_done_cb(struct gitops *g, struct gitops_result *res, void *data);

/* Each *_start runs on loop and calls done on the loop thread exactly once
 * (unless it returns non-zero, e.g. GITOPS_EBUSY: one operation per handle
 * at a time).  res is valid during the callback only. */

/* Fetches the tracked branch, every request branch refs/heads/promote/...
 * (pruning deleted ones)
 * and refs/notes/pipelined (and pipelined-deploy) into GITOPS_TRACKING. */
int gitops_fetch_start(struct gitops *g, uv_loop_t *loop, gitops_done_cb *done, void *data);
/* Lists the remote's refs (name, id) without fetching; res->refs.  For an
 * SSH remote it goes through a long-lived session helper kept on loop
 * (`pipelined-git session`: one SSH handshake for many calls); its child
 * keeps loop alive until it ends by itself (its idle time, an error) or
 * gitops_session_close / gitops_free ends it.  PIPELINED_GIT_NO_SESSION in
 * the environment turns that off (a helper per call, as fetch and push). */
int gitops_ls_remote_start(struct gitops *g, uv_loop_t *loop, gitops_done_cb *done, void *data);
/* Ends the ls-remote session helper, if any.  Only between calls (a call
 * in flight would be dropped without its callback), or from gitops_free. */
void gitops_session_close(struct gitops *g);

/* Pushes local ref src (e.g. a request branch pipelinectl made) to remote
 * ref dst, never forced.  expect: the id dst must have on the remote right
 * now ("" = must not exist, NULL = unchecked; required for the tracked
 * branch).  An accepted push also moves our tracking ref. */
int gitops_push_start(struct gitops *g, uv_loop_t *loop, const char *src, const char *dst,
		      const char *expect, gitops_done_cb *done, void *data);

/* Produces the new bytes of path from its bytes on the new tip (old is NULL
 * when the file does not exist).  Runs off the loop thread: touch only data.
 * Return 0, or negative with err filled. */
typedef int gitops_edit_cb(struct buf *out, const char *path, const char *old, size_t oldlen,
			   void *data, struct buf *err);
/* Re-checks the policy on the loop thread right before each push attempt
 * (e.g. the market window).  Non-zero refuses, with err filled. */
typedef int gitops_gate_cb(void *data, struct buf *err);
/* Reads another file on the new tip before the edit (off the loop thread,
 * like the edit): doc is NULL when it does not exist.  For a gate that
 * must judge the tip the push goes onto (the freeze file). */
typedef int gitops_peek_cb(void *data, const char *doc, size_t len);

struct gitops_change {
	const char *const *paths;	/* files the edit rewrites */
	size_t npaths;
	gitops_edit_cb *edit;
	gitops_gate_cb *gate;		/* NULL = no gate */
	const char *peek_path;		/* NULL = nothing to peek at */
	gitops_peek_cb *peek;
	void *data;
	const char *message;
	const struct gitops_person *author;	/* NULL = committer */
	const char *merge;	/* request tip id: make the two-parent merge */
	const char *delete_ref;	/* remote ref to delete once merged (must
				 * still point at merge), e.g. refs/heads/promote/x */
	const char *note_target;/* id to annotate; "" = the new commit */
	const char *note_text;
	const char *notes_ref;	/* GITOPS_NOTES_REF (NULL) or GITOPS_DEPLOY_NOTES_REF */
	/* without merge and files: delete_ref alone (a refused request branch
	 * past its age), which must still point at this full id */
	const char *delete_expect;
	/* more of the same in this one transaction (issue 11 item 3: hundreds
	 * of refusal notes or deletions must not cost a push each): notes,
	 * each its own notes commit after note_target's, pushed together; and
	 * deletions alone, with delete_expect's rules, at most
	 * GITOPS_MAX_DELETES in all */
	const char *const *more_note_targets, *const *more_note_texts;
	size_t nmore_notes;
	const char *const *more_delete_refs, *const *more_delete_expects;
	size_t nmore_deletes;
};

/* The transaction: fetch; build the commit on the fetched tip with the
 * edit re-applied; gate; push (never forced); on any rejection wait
 * (jittered exponential backoff) and start again, at most push_attempts
 * times; then push notes and the deletion.  npaths == 0 and merge == NULL
 * makes a notes/deletion-only transaction.  Timeouts, host-key and auth
 * failures end it at once (the next transaction repairs a lost reply, see
 * the top of this file).  deadline_ms bounds each network step, so the
 * whole is bounded by about push_attempts * 3 steps plus the backoffs.
 * chg is copied, but what it points to must live until done is called. */
int gitops_change_start(struct gitops *g, uv_loop_t *loop, const struct gitops_change *chg,
			gitops_done_cb *done, void *data);

/* Synchronous forms for pipelinectl: run a private loop; res is filled
 * (release it), and its rc is returned. */
int gitops_fetch_sync(struct gitops *g, struct gitops_result *res);
int gitops_ls_remote_sync(struct gitops *g, struct gitops_result *res);
int gitops_push_sync(struct gitops *g, const char *src, const char *dst, const char *expect,
		     struct gitops_result *res);
int gitops_change_sync(struct gitops *g, const struct gitops_change *chg, struct gitops_result *res);

/* Runs fn(g, data) on the libuv threadpool (the local-object half, off the
 * loop thread), then done(g, rc, data) on the loop thread. */
typedef int gitops_work_fn(struct gitops *g, void *data);
typedef void gitops_work_done_cb(struct gitops *g, int rc, void *data);
int gitops_queue(struct gitops *g, uv_loop_t *loop, gitops_work_fn *fn,
		 gitops_work_done_cb *done, void *data);

#endif
