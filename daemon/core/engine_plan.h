/* engine_plan.h - pure: the planner of one cycle.  The facts of the cycle
 * (requests and their facts, candidate releases, what each stage runs and
 * its block, the market window and guard bands at `now`, the freezes, the
 * configuration's rules) in; a plan out: the git actions (promote, merge,
 * note, clean-up, expire), a verdict per request, what the journal should
 * say (as data), and when an automatic promotion waits until.
 *
 * Nothing here reads a clock, a file, the loop or the engine: the cycle
 * (engine_decide.c) gathers the facts, calls engine_plan(), then logs,
 * meters and queues what the plan says.  The rules it carries out:
 *
 *   - at most one promotion per cycle (an automatic one first, by stage
 *     order, then requests in the order given): the branch moves, and the
 *     next cycle re-derives everything; a later request that policy allows
 *     waits "for the promotion ahead of it";
 *   - a request is pending (no verdict yet, no note) while its facts, its
 *     signature check or the registry's answer about its release are
 *     missing;
 *   - a request whose very tip a promotion into its stage merged gets only
 *     its clean-up (the branch's deletion, carrying the accepted note);
 *   - each commit carries one note, from every verdict on it
 *     (engine_note_text), planned only when it differs from the remote's;
 *   - a refusal whose note is on the remote expires (the branch is
 *     deleted) once its tip is older than requests.expireRefused; a
 *     branch waiting for a slot gets its queue-full note, then expires the
 *     same way. */
#ifndef PIPELINED_ENGINE_PLAN_H
#define PIPELINED_ENGINE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "engine_admit.h"
#include "engine_block.h"
#include "engine_note.h"
#include "policy.h"
#include "util.h"

enum request_state {
	REQ_PENDING = 0,	/* facts or registry answers still missing */
	REQ_QUEUED,		/* refused for market-open only: merged at the close */
	REQ_REFUSED,
	REQ_MERGING,
	REQ_MERGED,		/* merged; branch deletion pending or done */
};

/* What the registry said about one release id, as the engine remembers it. */
struct plan_release {
	bool known;		/* the engine asked about it */
	bool checked;		/* a definite answer arrived */
	bool complete;		/* every image has the tag */
	bool ev_checked;	/* the evidence was looked at */
	bool have_digests;	/* every image's manifest digest (digest = true) */
	struct policy_release facts;	/* as policy reads them (evidence only
					 * while integration-test is enabled) */
};

/* A release on the tracked branch that automatic promotion may pick. */
struct plan_candidate {
	const char *tag;
	bool newer[STAGE_COUNT];	/* newer than what the stage runs */
	bool rolled_back[STAGE_COUNT];	/* the stage was rolled back from it */
	const struct plan_release *rel;	/* never NULL (known = false: not asked) */
};

/* One tracked request branch. */
struct plan_request {
	const char *name;		/* "promote/<stage>/<name>" */
	const char *id;			/* its tip */
	bool stage_ok;			/* the name parses: stage is its target */
	enum stage stage;
	/* its verdict so far, kept when the plan decides nothing */
	enum request_state state;
	enum policy_code code;
	const char *message;		/* malformed names: the refusal */
	const char *logged;		/* the verdict last written to the journal */
	bool expiring;			/* its deletion was asked for already */
	int64_t tip_time;		/* committer time of the tip */
	bool note_declined;		/* a hook declined its note at this tip and
					 * configuration: not planned again */
	/* the git facts of the tip; none of these are read without them */
	bool have_facts;
	const char *error;		/* git could not tell ("" or NULL: it could) */
	bool merged;			/* the tip is on the tracked branch ... */
	const char *used_by;		/* ... and this promotion names it ("" none) */
	enum stage used_stage;		/* that promotion's stage ... */
	bool used_break_glass;		/* ... and whether it carried Break-Glass */
	const char *note;		/* its note on the remote, or NULL */
	bool sig_done;			/* the signature check answered */
	const struct plan_release *rel;	/* the one release id its tags name;
					 * NULL when they do not name one */
	const struct policy_request *pq;	/* its facts as policy reads them */
};

/* A request branch past the bounds of [requests]: refused queue-full. */
struct plan_waiting {
	const char *name, *id;
	enum admit_result why;
	const char *note;		/* its note on the remote, or NULL */
	int64_t tip_time;
	bool declined;			/* a hook declined its note or deletion */
	bool expiring;
};

struct plan_stage {
	struct policy_stage_cfg cfg;
	bool digest;			/* pins each image's digest beside the tag */
	struct clock_bands bands;	/* quietBefore, quietAfter */
	struct policy_stage_state state;	/* deploy stages: current, history */
	struct policy_deployed deployed;	/* deploy stages: Argo CD's view */
	/* may it be promoted into now: its block and its transient failures */
	const struct engine_block *block;	/* NULL: not blocked */
	uint64_t retry_at_ms;		/* loop time before which nothing is tried */
	const char *error;		/* the last transient failure */
	const char *auto_logged;	/* the wait of its automatic promotion last logged */
	bool quiet_ok;			/* quiet: the band span at now is known */
	struct clock_quiet quiet;
};

struct plan_facts {
	bool have_scan;			/* a scan of the mirror completed */
	const char *tip;		/* the tracked branch's tip it saw */
	uint64_t cfg_gen;		/* the configuration's generation */
	int64_t now;			/* wall time of the decisions */
	uint64_t now_ms;		/* loop time (retry_at_ms) */
	bool window_ok;			/* the market window at now is known ... */
	struct window window;		/* ... and is this */
	const struct tz_rule *tz;	/* the market's zone */
	const struct freeze_set *freezes;	/* in force; NULL: none */
	bool inttest;			/* integration-test is enabled */
	const char *tracked;		/* the tracked branch's name */
	size_t requests_max, requests_per_author;
	uint64_t expire_refused_ms;	/* 0: refusals never expire */
	struct plan_stage stage[STAGE_COUNT];
	const struct plan_candidate *cand;
	size_t ncand;
	const struct plan_request *req;
	size_t nreq;
	const struct plan_waiting *waiting;
	size_t nwaiting;
};

enum plan_act {
	PLAN_PROMOTE,		/* automatic promotion of cand into stage */
	PLAN_MERGE,		/* accepted request req */
	PLAN_NOTE,		/* a commit's note (on the request's branch tip) */
	PLAN_CLEANUP,		/* delete a merged request branch (with its note) */
	PLAN_EXPIRE,		/* delete a refused branch past expireRefused */
};

struct plan_action {
	enum plan_act kind;
	enum stage stage;
	const char *name, *id;		/* the branch and its tip; NULL for PROMOTE */
	size_t req;			/* MERGE, CLEANUP: index into facts->req */
	size_t cand;			/* PROMOTE: index into facts->cand */
	char tag[TAG_MAX + 1];		/* PROMOTE, MERGE: the release */
	char *note;			/* NOTE, CLEANUP, MERGE: the note, or NULL */
	size_t note_len;
};

/* What the plan says of one request (facts->req[i]). */
struct plan_verdict {
	bool decided;			/* false: it keeps its state */
	enum request_state state;
	enum policy_code code;
	char message[POLICY_MESSAGE_MAX];
	bool set_queue_until;		/* a refusal: queue_until below replaces it */
	int64_t queue_until;
	bool judged;			/* policy ran: break_glass replaces the old */
	bool break_glass;		/* Break-Glass used (window or source gates) */
	char tag[TAG_MAX + 1];		/* the release policy read; "" none */
	bool news;			/* a refusal the journal and the counter
					 * have not heard of: logged = message */
	bool settled_known;		/* note_settled below is new */
	bool note_settled;		/* the commit's note on the remote is the planned one */
	bool expire;			/* its deletion is planned (expiring) */
};

enum plan_prio {
	PLAN_LOG_ERR = 3,
	PLAN_LOG_NOTICE = 5,
};

#define PLAN_LOG_MAX (POLICY_MESSAGE_MAX + 512)

/* One journal line, in the order the plan reached it. */
struct plan_log {
	enum plan_prio prio;
	const char *subsys;		/* "policy", "engine" */
	char text[PLAN_LOG_MAX];
};

struct plan {
	struct plan_action *act;
	size_t nact;
	struct plan_verdict *req;	/* facts->nreq of them */
	bool *waiting_expire;		/* facts->nwaiting: deletion planned */
	/* the one promotion of the cycle, and policy's decision on it (for
	 * the trailers): PLAN_PROMOTE or PLAN_MERGE at act[promotion] */
	bool promoting;
	size_t promotion;
	struct policy_decision decision;
	int64_t auto_edge;		/* an automatic promotion waits for this; 0 none */
	bool auto_wait_news[STAGE_COUNT];	/* auto_wait[st] is a new wait */
	char auto_wait[STAGE_COUNT][POLICY_MESSAGE_MAX];
	struct plan_log *log;
	size_t nlog;
	bool failed;			/* out of memory: the plan is partial */
};

/* The plan of one cycle.  out is released with engine_plan_release even
 * when this fails.  ERR_NOMEM when memory ran out (out holds what was
 * planned before); ERR_INVALID for facts without a scan. */
int engine_plan(struct plan *out, const struct plan_facts *f);
void engine_plan_release(struct plan *p);

/* The policy input of the facts (window, bands, stage states), without a
 * request, release or target; texts points at STAGE_COUNT + 1 buffers of
 * PLAN_TEXT_MAX bytes that must outlive in (room for the longest window and
 * guard-band text, so that none is cut short). */
#define PLAN_TEXT_MAX 384
void engine_plan_policy_input(struct policy_input *in, char (*texts)[PLAN_TEXT_MAX],
			      const struct plan_facts *f);

/* May a promotion of tag (for request req, "" for automatic) into st be
 * tried now?  If not, why says why (blocked, or backing off). */
bool engine_plan_may_act(const struct plan_facts *f, enum stage st, const char *tag,
			 const char *req, char *why, size_t whysz);

#endif
