/* engine_int.h - private to the engine: engine.c (life cycle, scheduling),
 * engine_cycle.c (one discovery and promotion cycle), engine_facts.c (git
 * facts gathered off the loop thread), engine_decide.c (facts to policy
 * input to actions), engine_act.c (the git transactions and what their
 * failures mean for a stage), engine_block.c (that meaning, pure), engine_api.c
 * (status and history JSON), engine_promote.c (the dashboard's requests),
 * engine_admit.c (which request branches get a slot, pure).
 *
 * Everything here is derived state: Git (history, values files, request
 * branches, notes) and the registry are the truth, and a fresh engine
 * rebuilds all of it in its first cycle. */
#ifndef PIPELINED_ENGINE_INT_H
#define PIPELINED_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "argocd_app.h"
#include "clock.h"
#include "config.h"
#include "engine.h"
#include "engine_admit.h"
#include "engine_block.h"
#include "engine_note.h"
#include "engine_plan.h"
#include "freeze.h"
#include "gitops.h"
#include "history_walk.h"
#include "layout.h"
#include "metrics.h"
#include "policy.h"
#include "registry.h"
#include "trailer.h"

#define ENGINE_MAX_CANDIDATES 20	/* first-parent commits looked at per scan */
#define ENGINE_MAX_WAITING 3		/* unfinished candidates asked about per cycle */
#define ENGINE_MAX_RELEASES 64		/* registry facts remembered */
#define ENGINE_MAX_REQUESTS 1024		/* hard bound of requests.max */
#define ENGINE_MAX_LISTED 4096		/* request branches looked at, tracked or not */
#define ENGINE_WAITING_SHOWN 20		/* waiting branches listed in the status API */
#define ENGINE_NOTES_PER_PUSH 256	/* refusal notes carried by one transaction */
#define ENGINE_MAX_CHANGED_PATHS 4096	/* paths one request may touch */
#define ENGINE_ERR_MAX 512
_Static_assert(ENGINE_ID_SZ == GITOPS_HEXSZ + 1, "engine_block.h sizes a commit id");
#define ENGINE_NOTE_MAX 2048
#define ENGINE_RECHECK_MAX_SHIFT 2	/* incomplete releases: at most 4 polls apart */

/* The phases of one cycle, in order (docs/architecture.md). */
enum cycle_phase {
	CYCLE_IDLE = 0,		/* no cycle runs */
	CYCLE_LS_REMOTE,	/* the remote's refs (pipelined-git) */
	CYCLE_FETCH,		/* only when something moved */
	CYCLE_ADMIT,		/* request branch tips read, admission */
	CYCLE_SCAN,		/* the mirror and request facts (threadpool) */
	CYCLE_REGISTRY,		/* one release id at a time (e->icheck) */
	CYCLE_SIGNATURES,	/* one signature at a time (e->isig, e->isig_k) */
	CYCLE_DEPLOY,		/* Argo CD's verdicts against the scan */
	CYCLE_PLAN,		/* facts -> engine_plan -> actions */
	CYCLE_ACT,		/* one git transaction at a time (e->iaction) */
	CYCLE_DONE,		/* status, metrics, the next cycle scheduled */
};

/* How a phase (its step, or the callback that ends a wait) ended. */
enum phase_result {
	PHASE_NEXT = 0,		/* done: the next phase */
	PHASE_WAIT,		/* work in flight: its callback reports */
	PHASE_AGAIN,		/* one item done: the same phase's next one */
	PHASE_UNCHANGED,	/* ls-remote: nothing moved, no fetch or scan */
	PHASE_END,		/* failed (already logged): the end of the cycle */
};

enum engine_subsys {
	SUB_GIT,
	SUB_REGISTRY,
	SUB_POLICY,
	SUB_SIGNATURE,
	SUB_COUNT
};

struct engine_error {
	char msg[ENGINE_ERR_MAX];	/* "" when the last attempt succeeded */
	int64_t at;			/* wall time of the error */
	int64_t last_ok;		/* wall time of the last success */
	unsigned failures;		/* consecutive, drives the backoff */
};

/* What a failed promotion means (engine_block.c). */
enum engine_fail {
	ENGINE_FAIL_NONE = 0,
	ENGINE_FAIL_TRANSIENT,	/* retried with a jittered backoff */
	ENGINE_FAIL_PERMANENT,	/* the stage is blocked */
};

/* Per deploy stage: its block and its transient failures. */
struct engine_stage_state {
	struct engine_block block;
	char error[ENGINE_REASON_MAX];	/* the last transient failure, "" after a success */
	int64_t error_at;		/* wall */
	unsigned failures;		/* consecutive transient failures */
	uint64_t retry_at_ms;		/* loop time before which no new attempt is made */
};

/* What the registry said about one release id. */
struct engine_release {
	bool used;
	char sha[GITOPS_HEXSZ + 1];
	bool checked;			/* a definite answer arrived */
	bool complete;
	size_t present, total;
	char missing[128];		/* one image without the tag */
	bool ev_checked;
	enum registry_evidence_status ev;
	char ev_summary[64];		/* "passed 312/312" */
	char ev_failures[256];
	unsigned misses;		/* incomplete/missing answers in a row */
	/* the manifest digests the check verified, in configuration order,
	 * for stages with digest = true (layout.h) */
	char digests[CONFIG_MAX_IMAGES][LAYOUT_DIGEST_MAX];
	bool have_digests;
	uint64_t next_check_ms;		/* loop time of the next look */
	int64_t first_seen;
	uint64_t lru;
	/* ev == UNREADABLE: why, and the manifest digest of that artifact, so
	 * it is fetched and parsed again only once the digest changes */
	char ev_error[REGISTRY_ERR_MAX];
	char ev_artifact[72];
};

/* Git facts about one request tip (engine_facts.c). */
struct request_facts {
	enum policy_msg_state msg;
	char msg_error[256];
	struct trailer_list trailers;
	char **paths;
	size_t npaths;
	bool only_tags;
	char **tags;
	size_t ntags;
	bool merged;			/* tip reachable from the tracked branch */
	char used_by[GITOPS_HEXSZ + 1];	/* promotion commit with Request: tip */
	char *author_name, *author_email;
	int64_t author_time;
	int author_offset;
	char *note;			/* the note on the tip now, or NULL */
	struct buf sig, payload;	/* when the stage wants a signature */
	bool is_signed;
	char error[ENGINE_ERR_MAX];	/* git could not tell: retry */
	/* issue 11 item 5: the request's shape (zero: an orphan, refused) */
	unsigned nparents;		/* of the tip */
	char parent[GITOPS_HEXSZ + 1];	/* its first parent */
	bool parent_on_branch;		/* that parent is the tracked tip or its ancestor */
	struct gitops_mode_change mode;	/* against the parent, when mode_changed */
	bool mode_changed;
	/* issue 11 item 2: the promotion used_by names, when there is one:
	 * its Stage and whether it carried Break-Glass (the accepted note) */
	enum stage used_stage;
	bool used_break_glass;
	/* issue 14 item 3: approval commits on top of the request commit,
	 * tip first; everything above is about the request commit, the
	 * note excepted (on the branch tip) */
	char request[GITOPS_HEXSZ + 1];	/* the request commit (the tip when
					 * there is no approval) */
	size_t napprovals;
	struct fact_approval {
		char commit[GITOPS_HEXSZ + 1];
		char approves[GITOPS_HEXSZ + 1];	/* its Approves: value, cut */
		enum policy_approval_shape shape;
		char *author_name, *author_email;
		struct buf sig, payload;
		bool is_signed;
	} approvals[TRAILER_APPROVALS_MAX];
};

struct engine_request {
	bool used;
	bool seen;			/* listed by the latest ls-remote */
	char name[256];			/* "promote/<stage>/<name>" */
	char id[GITOPS_HEXSZ + 1];
	bool stage_ok;
	enum stage stage;
	enum request_state state;
	enum policy_code code;
	char message[POLICY_MESSAGE_MAX];
	char tag[GITOPS_HEXSZ + 1];
	int64_t queue_until;
	bool break_glass;
	struct request_facts *facts;	/* NULL until gathered for id */
	enum policy_sig sig;
	char signer[256];
	bool sig_done;
	/* issue 14 item 3: the request's key, and each approval's verdict */
	char signer_principals[512];
	char signer_key[60];
	struct request_approval {
		enum policy_sig sig;
		char principal[256];
		char principals[512];
		char key[60];
		bool done;
	} appr[TRAILER_APPROVALS_MAX];
	char logged[POLICY_MESSAGE_MAX];/* the last verdict written to the journal */
	int64_t since;			/* wall time the current id was first seen */
	/* a hook declined the refusal note at this branch tip and config
	 * generation: not pushed again until either changes */
	char note_declined[GITOPS_HEXSZ + 1];
	uint64_t note_declined_gen;
	/* issue 11 item 3: the tip's committer time (admission order and the
	 * age of a refusal) and its author's e-mail (the per-author bound) */
	int64_t tip_time;
	char author[256];
	bool expiring;			/* its deletion was asked for this cycle */
	bool note_settled;		/* the commit's note on the remote is the planned one */
	/* the tracked branch's tip and configuration generation its facts
	 * were gathered under: while both are the same, only its note is
	 * read again after a fetch */
	char facts_tip[GITOPS_HEXSZ + 1];
	uint64_t facts_gen;
};

/* A request branch past the bounds (engine_admit.c): refused queue-full
 * with a note, not judged, until a slot frees up. */
struct engine_waiting {
	char name[256];
	char id[GITOPS_HEXSZ + 1];
	char author[256];
	int64_t tip_time;
	enum admit_result why;		/* ADMIT_FULL_MAX or ADMIT_FULL_AUTHOR */
	char *note;			/* its note on the remote, or NULL */
	bool expiring;			/* its deletion was asked for this cycle */
	bool declined;			/* a hook declined its note or deletion */
	bool counted;			/* the refusal counter heard of it */
};

/* What the threadpool reads about every listed request branch. */
struct engine_branch_meta {
	char name[256];
	char id[GITOPS_HEXSZ + 1];
	char author[256];
	int64_t time;			/* committer time; 0 when unreadable */
	char *note;			/* the note on the tip, or NULL */
	bool known;			/* filled from the last listing: not read */
};

/* What Argo CD runs at a deploy stage (engine_deploy.c).  Derived: lost
 * with the process, rebuilt from Argo CD's next answer. */
struct engine_deployed {
	bool have;			/* facts from Argo CD */
	struct argocd_app facts;	/* the last ones (images owned here) */
	char unreadable[ARGOCD_TEXT_MAX];	/* why Argo CD cannot be read now, or "" */
	bool judged;
	struct argocd_state state;
	int64_t since;			/* wall time the verdict began */
	char promo[GITOPS_HEXSZ + 1];	/* the promotion commit judged against */
	/* the ancestry answer for (anc_promo, anc_rev): 1 the revision
	 * contains the promotion, 0 not, 2 the revision is not in the mirror */
	char anc_promo[GITOPS_HEXSZ + 1], anc_rev[GITOPS_HEXSZ + 1];
	int anc;
	bool anc_wanted;		/* the pair is not answered yet */
	/* the deploy note of promo: known (checked in the mirror) and there */
	char note_checked[GITOPS_HEXSZ + 1];
	bool note_present;
	char deployed_for[GITOPS_HEXSZ + 1];	/* promotion seen deployed ... */
	int64_t deployed_at;			/* ... first at this wall time (or
						 * its note's Deployed: time) */
	int64_t promo_time;			/* committer time of promo */
};

/* Result of a scan of the mirror (threadpool). */
struct engine_scan {
	char tip[GITOPS_HEXSZ + 1];
	struct history hist;
	bool hist_ok;
	char current[STAGE_COUNT][GITOPS_HEXSZ + 1];	/* tag in the values file */
	bool current_known[STAGE_COUNT];	/* the tag is a commit of the mirror */
	/* the layout check: why the stage's values file at tip cannot be
	 * edited under the mapping ("" when it can, or the stage is off) */
	char layout_error[STAGE_COUNT][ENGINE_REASON_MAX];
	char cand[ENGINE_MAX_CANDIDATES][GITOPS_HEXSZ + 1];
	bool newer[ENGINE_MAX_CANDIDATES][STAGE_COUNT];
	/* not newer than a release the stage was rolled back from (issue 14
	 * item 4): automatic promotion leaves it alone */
	bool rolled_back[ENGINE_MAX_CANDIDATES][STAGE_COUNT];
	size_t ncand;
	char error[ENGINE_ERR_MAX];
	/* issue 14 item 1: the freeze file at tip (engine_freeze.c) */
	bool freeze_want_back;		/* in: no good parse in memory, look back */
	struct freeze_set *freeze;	/* parsed at tip (freeze_rc 0); NULL: no file configured */
	int freeze_rc;
	char freeze_err[FREEZE_ERR_MAX];
	struct freeze_set *freeze_back;	/* the newest good parse in the history ... */
	char freeze_back_at[GITOPS_HEXSZ + 1];	/* ... at this commit */
	bool freeze_closed;		/* none within the look-back: fail closed */
};

/* A stage's mapping (layout.h) copied out of the configuration, which a
 * reload may free while a transaction still runs on the threadpool. */
struct engine_rules {
	struct layout_rules r;		/* points into the fields below */
	char *file;
	char **images, **image_paths, **paths;
	size_t nimages, npaths;
};

enum action_kind {
	ACT_PROMOTE,		/* automatic promotion */
	ACT_MERGE,		/* accepted request */
	ACT_NOTE,		/* refusal note on a request */
	ACT_CLEANUP,		/* delete an already merged request branch */
	ACT_DEPLOY_NOTE,	/* "deployed" note on a promotion commit (engine_deploy.c) */
	ACT_EXPIRE,		/* delete a refused request branch past requests.expireRefused */
};

/* One git transaction; everything gitops_change points at lives here. */
struct engine_action {
	enum action_kind kind;
	struct engine *e;
	enum stage stage;
	bool gated;		/* stage is market-gated: re-check before push */
	struct clock_bands bands;	/* its guard bands, copied (issue 14 item 2) */
	/* issue 14 item 1: the freeze file, read again on the tip the push goes
	 * onto (engine_freeze_peek_cb), and whether Break-Glass overrode a
	 * freeze when it was decided */
	char freeze_path[256];		/* "" when no file is configured */
	bool freeze_break_glass;
	struct freeze_set *fresh;	/* promotions and merges with a file */
	bool fresh_read;
	int fresh_rc;
	bool break_glass;
	bool rollback_allowance;	/* a rollback passing the window by the stage's
					 * rollbackDuringMarket (issue 14 item 4) */
	char rolled_back_from[GITOPS_HEXSZ + 1];	/* a rollback: what the stage ran
							 * when it was decided ("" otherwise) */
	bool moved;			/* ... and no longer runs on the fresh tip */
	char tag[GITOPS_HEXSZ + 1];
	char req_name[256];
	char req_id[GITOPS_HEXSZ + 1];
	char delete_ref[300];
	const char *paths[1];
	char values_path[512];	/* paths[0]: copy, the config may be swapped meanwhile */
	struct engine_rules rules;	/* copy, likewise */
	/* rules.r.digest: each image's digest from the registry check */
	char digests[CONFIG_MAX_IMAGES][LAYOUT_DIGEST_MAX];
	const char *digest_v[CONFIG_MAX_IMAGES];
	struct buf message;
	struct buf note;
	char author_name[256], author_email[256];
	struct gitops_person author;
	struct gitops_change chg;
	uint64_t started_ms;
	int edit_rc;		/* set by the edit (threadpool): its last result */
	/* issue 11 item 3: later notes (or deletions) of the cycle carried
	 * by this action's transaction, and whether this one was carried */
	struct engine_action **batch;
	const char **batch_a, **batch_b;	/* their targets/refs and texts/ids */
	size_t nbatch;
	bool batched;
	/* ACT_DEPLOY_NOTE: its owner hears the outcome (engine_deploy.c) */
	void (*done)(struct engine *e, struct engine_action *a, const struct gitops_result *res);
};

struct engine;

/* Calls back up the one-way chain of engine files (engine_state.c). */
struct engine_hooks {
	void (*advance)(struct engine *e, enum phase_result r);	/* engine_cycle.c */
	void (*cycle_end)(struct engine *e);			/* engine.c */
	void (*trigger)(struct engine *e, const char *why);	/* engine.c */
};

struct engine {
	uv_loop_t *loop;
	struct engine_hooks hooks;
	enum cycle_phase phase;
	struct config *cfg;
	struct config *next_cfg;	/* reload waiting for the cycle to end */
	struct gitops *git;
	struct registry *reg;
	struct metrics_std *metrics;
	struct tz_rule tz;
	struct calendar cal;
	bool have_cal;
	struct market_hours hours;
	char worker[1024];
	char mirror[1024];

	uv_timer_t poll_timer;		/* next cycle */
	uv_timer_t edge_timer;		/* market-window edge for queued requests */
	int64_t edge_at;		/* wall time the edge timer is armed for */
	int64_t auto_edge;		/* an automatic promotion waits for this close */
	unsigned handles_open;
	bool running;			/* a cycle is in progress */
	bool again;			/* trigger arrived during the cycle */
	bool stopping;
	void (*stopped_cb)(void *);
	void *stopped_arg;
	unsigned seed;

	/* ls-remote fingerprint of the branch, the request branches and the notes */
	char fingerprint[65];
	bool scanned;
	struct gitops_ref *refs;	/* latest ls-remote */
	size_t nrefs;
	struct engine_scan *scan;	/* latest completed scan */
	struct engine_scan *scan_new;	/* being built on the threadpool */
	struct engine_request *scan_reqs;	/* requests whose facts are gathered now */
	size_t *scan_req_idx;
	size_t scan_nreq;

	struct engine_release rel[ENGINE_MAX_RELEASES];
	uint64_t rel_clock;
	struct engine_request req[ENGINE_MAX_REQUESTS];
	/* slots at and above req_hi were never used: the loops over requests
	 * stop there, so the table's pages stay untouched (not resident)
	 * until that many requests exist */
	size_t req_hi;
	/* issue 11 item 3: the branches past the bounds, oldest first, and
	 * whether that condition (and the listing's own bound) was logged */
	struct engine_waiting *waiting;
	size_t nwaiting;
	bool over_logged;
	bool listed_over_logged;
	uint64_t expired;		/* refused branches deleted for their age */

	/* the registry phase walks these ids one at a time */
	char (*check)[GITOPS_HEXSZ + 1];
	size_t ncheck, icheck;
	size_t isig;
	int isig_k;			/* -1: the request's own signature, else
					 * its approval isig_k (issue 14) */

	struct engine_action **actions;
	size_t nactions, iaction;
	struct engine_action *current_action;
	bool promoted;			/* the branch moved in this cycle */

	struct gitops *req_git;		/* dashboard requests: a mirror of their own */
	void *promote_job;		/* the dashboard write in flight on req_git:
					 * a promote_job or (issue 14) an
					 * approve_job, one at a time */
	bool closing;

	struct engine_error errors[SUB_COUNT];
	struct engine_stage_state stages[STAGE_COUNT];
	uint64_t cfg_gen;		/* bumped by every configuration swapped in */
	uint64_t git_retry_at_ms;
	uint64_t cycles;
	int64_t started_at;		/* wall */
	int64_t last_cycle_at;		/* wall, end of the last cycle */
	uint64_t last_cycle_ms;		/* loop time, end of the last cycle */
	uint64_t cycle_started_ms;
	uint64_t created_ms;		/* loop time the engine was made */
	uint64_t promotions;
	char status_line[200];
	char status_sent[200];
	void (*status_fn)(void *arg, const char *line);
	void *status_arg;
	char auto_logged[STAGE_COUNT][POLICY_MESSAGE_MAX];
	struct engine_deployed deployed[STAGE_COUNT];
	bool deploy_busy;		/* the ancestry/note look-up runs */
	/* issue 14 item 1: the freezes in force (engine_freeze.c) */
	struct freeze_set *freeze;	/* the last good parse; NULL: none yet */
	char freeze_path[256];		/* the file it was read from */
	char freeze_error[FREEZE_ERR_MAX];	/* the file at the tip does not parse */
	int64_t freeze_error_at;
	bool freeze_logged;		/* that error is in the journal */
	char freeze_from[200];		/* what is in force while it does not parse */
};

/* engine_state.c: the bottom of the engine (see its opening comment) */
void engine_set_error(struct engine *e, enum engine_subsys s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void engine_clear_error(struct engine *e, enum engine_subsys s);
int engine_window_now(struct window *out, const struct engine *e);
/* Stage st's guard bands (issue 14 item 2), all zero when it has none. */
void engine_bands(struct clock_bands *out, const struct config *cfg, enum stage st);
/* The quiet span of bands at now (clock_quiet on the engine's clock). */
int engine_quiet_now(struct clock_quiet *out, const struct engine *e,
		     const struct clock_bands *bands);
bool engine_inttest_enabled(const struct engine *e);
unsigned engine_rand_next(unsigned *seed);
/* Delay before the next cycle: the jittered poll, or the git backoff. */
uint64_t engine_next_delay_ms(struct engine *e);
void engine_waiting_free(struct engine *e);
/* The waiting branch name at id, or NULL. */
struct engine_waiting *engine_waiting_find(const struct engine *e, const char *name,
					   const char *id);
struct engine_release *engine_release_get(struct engine *e, const char *sha, bool create);
/* A new action at the end of the cycle's list, or NULL. */
struct engine_action *engine_action_add(struct engine *e, enum action_kind kind, enum stage st);
void engine_action_free(struct engine_action *a);
/* A phase that waited (PHASE_WAIT) reports its end: e->hooks.advance. */
void engine_phase_done(struct engine *e, enum phase_result r);
/* Something outside the cycle wants one (Argo CD): e->hooks.trigger. */
void engine_request_cycle(struct engine *e, const char *why);

/* engine.c */
/* engine_promote.c: the dashboard's own mirror (promote and approve jobs
 * share it, one at a time), opened on first use; why says what failed. */
int engine_request_git(struct engine *e, char *why, size_t whysz);
/* After a dashboard job's fetch of that mirror: queue work then done on the
 * thread pool, or say in msg why not (the fetch failed: ERR_TIMEOUT or
 * ERR_FAIL). */
int engine_request_fetched(struct gitops *g, const struct gitops_result *res, struct engine *e,
			   gitops_work_fn *work, gitops_work_done_cb *done, void *job, char *msg,
			   size_t msgsz);
int engine_git_open(struct gitops **out, char *mirror, size_t mirrorsz, const struct config *cfg,
		    const char *worker, const char *subdir, struct buf *err);
/* Close the handles once stopping and nothing is in flight. */
void engine_maybe_close(struct engine *e);

/* engine_act.c: whether a failed promotion blocks its stage (the block
 * and the backoff are engine_block.h's, pure) */
enum engine_fail engine_fail_classify(int rc, int edit_rc);

/* engine_cycle.c: the phases of a cycle and the one step between them */
void engine_cycle_start(struct engine *e);
/* The current phase ended with r: the stopping check, then the next
 * phase (or the same one again, or the end of the cycle). */
void engine_advance(struct engine *e, enum phase_result r);

/* engine_facts.c (threadpool: git objects only, no loop state) */
int engine_scan_run(struct engine_scan *out, struct gitops *g, const struct config *cfg);
void engine_scan_free(struct engine_scan *s);
int engine_facts_gather(struct request_facts **out, struct gitops *g, const struct config *cfg,
			const struct history *hist, const char *tip, const char *req_id,
			enum stage stage);
void engine_facts_free(struct request_facts *f);
/* Copy stage st's mapping out of cfg; release with engine_rules_release. */
int engine_rules_copy(struct engine_rules *out, const struct config *cfg, enum stage st);
void engine_rules_release(struct engine_rules *c);
/* The tags of doc's images under the mapping r, as policy wants them: one
 * value when they agree, the two that differ when they do not, none when
 * an image has no tag there; "" and the reason when doc cannot be read
 * under the mapping (so that policy refuses it as mixed-tags). */
int engine_tag_values(char ***out, size_t *n, const char *doc, size_t len,
		      const struct layout_rules *r);
/* Whether req differs from base only in the tags (and digests) the mapping
 * owns, whatever values they hold (whether those agree is mixed-tags, not
 * wrong-files).  False when either cannot be read under the mapping. */
bool engine_only_tags_changed(const char *base, size_t blen, const char *req, size_t rlen,
			      const struct layout_rules *r);
/* Facts for a request whose branch name is malformed: its note, and
 * whether a promotion merged the commit (whose accepted note then stays),
 * so the refusal note is pushed once per commit. */
int engine_facts_note_only(struct request_facts **out, struct gitops *g,
			   const struct history *hist, const char *tip, const char *req_id);

/* The tip's committer time, author e-mail and note (under the notes
 * commit notes, NULL when there is none) of the listed branch m->id. */
int engine_branch_meta_read(struct engine_branch_meta *m, struct gitops *g, const char *notes);

/* engine_decide.c: the plan phase */
/* The registry's answers about r as policy reads them (evidence only when
 * inttest); summary holds the evidence text. */
void engine_release_facts(struct policy_release *out, char *summary, size_t sumsz,
			  const struct engine_release *r, bool inttest);
/* Facts, plan, then the journal, counters, verdicts and the action list. */
enum phase_result engine_decide(struct engine *e);

/* engine_freeze.c */
/* Threadpool, in the scan: read and parse the freeze file at s->tip (and
 * look back for a good parse when s->freeze_want_back). */
void engine_freeze_scan(struct engine_scan *s, struct gitops *g, const struct config *cfg);
/* Loop thread, after a scan: the freezes in force, the error logged once. */
void engine_freeze_update(struct engine *e);
/* The freezes in force, or NULL. */
const struct freeze_set *engine_freezes(const struct engine *e);
/* gitops_change.peek of a promotion: the freeze file on the fresh tip. */
int engine_freeze_peek_cb(void *data, const char *doc, size_t len);
/* Right before the push: non-zero, with err, when a freeze holds a's stage
 * and a has no break-glass that every holding entry allows. */
int engine_freeze_gate(const struct engine_action *a, struct buf *err);
struct json_t;
/* The status document's "freezes". */
struct json_t *engine_freeze_json(const struct engine *e, int64_t now);

/* engine_deploy.c */
/* Whether Argo CD follows stage st under the current configuration. */
bool engine_deploy_watched(const struct engine *e, enum stage st);
/* The deploy phase, before the plan: judge every watched stage against
 * the latest scan, asking the mirror (threadpool) what the verdicts need. */
enum phase_result engine_deploy_phase(struct engine *e);
/* In the decisions: a note on each promotion newly seen deployed. */
void engine_deploy_notes(struct engine *e);
void engine_deploy_note_done(struct engine *e, struct engine_action *a,
			     const struct gitops_result *res);
void engine_deploy_release(struct engine *e);

/* engine_act.c */
/* The act phase: the cycle's actions, one git transaction at a time
 * (e->iaction); PHASE_WAIT while one runs. */
enum phase_result engine_actions_step(struct engine *e);
/* At the end of a cycle: the action list freed. */
void engine_actions_release(struct engine *e);
/* A stage's promotion succeeded / failed (res->rc, the edit's rc): clears
 * or records the failure, blocks the stage on a permanent one, logs once. */
void engine_stage_ok(struct engine *e, enum stage st);
void engine_stage_failed(struct engine *e, enum stage st, int rc, int edit_rc, const char *why,
			 const char *tag, const char *req);
/* The layout check of one stage after a scan: "" passes. */
void engine_stage_layout(struct engine *e, enum stage st, const char *error);
/* May a promotion of tag (for request req, "" for automatic) into st be
 * tried now?  If not, why says why. */
bool engine_stage_may_act(const struct engine *e, enum stage st, const char *tag,
			  const char *req, char *why, size_t whysz);

#endif
