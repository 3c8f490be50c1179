/* config.h - pipelines.conf: git-config syntax (config_scan.h), checked
 * against one key table (config.c), loaded into typed values.  Pure: the
 * bytes and the outside world come in (config_parse); reading the file is
 * io/config_load.h's config_load().
 *
 * config_parse() reports every problem it finds, one "file:line: message"
 * line each, and only then fails; nothing is half-loaded.  Reload is the
 * caller's business: load into a fresh struct and swap only on success.
 *
 * Relative file paths in the file (sshKey, knownHosts, credentials, caFile,
 * users, webhookSecret, signers, calendar, argocd.token) are resolved against the directory
 * that holds the configuration file; the struct holds the resolved paths.
 * Secrets are only ever paths: the struct never holds secret contents. */
#ifndef PIPELINED_CONFIG_H
#define PIPELINED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log_level.h"
#include "stage.h"
#include "util.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONFIG_MAX_IMAGES 64
#define CONFIG_MAX_TAGPATHS 16
#define CONFIG_MAX_ALLOWED_HOSTS 32

struct config_list {
	char **v;
	size_t n;
};

/* "Name <email>", the committer of promotion commits. */
struct config_identity {
	char *name;
	char *email;
};

/* Where the GitOps repository lives.  kind says how to reach it; host and
 * port are set for ssh (port 22 unless the url names one) so the host-key
 * check can look up "[host]:port" in knownHosts. */
enum config_repo_kind {
	CONFIG_REPO_SSH = 0,	/* ssh://[user@]host[:port]/path or user@host:path */
	CONFIG_REPO_LOCAL,	/* file:///path or /path (tests, local mirrors) */
};

struct config_repo_url {
	char *url;		/* as written, handed to libgit2 */
	enum config_repo_kind kind;
	char *host;		/* ssh only */
	uint16_t port;		/* ssh only */
};

struct config_registry_url {
	char *url;		/* scheme://host[:port], no trailing slash */
	bool tls;		/* false only for http:// on loopback */
};

struct config_listen {
	char *host;		/* numeric address: "127.0.0.1", "::1", "0.0.0.0" */
	uint16_t port;
};

enum config_registry_mode {
	CONFIG_MODE_GIT = 0,	/* candidates from git history (SPEC 4.1) */
	CONFIG_MODE_TAGS,	/* tag listing (SPEC 4.2) */
};

/* audit.since: the baseline before which history is not judged. */
struct config_since {
	bool set;
	bool is_commit;		/* commit id (40 hex) or a date */
	char commit[41];
	int64_t time;		/* UTC midnight of the date, when !is_commit */
};

struct config_stage {
	bool enabled;
	bool auto_promote;	/* key "auto" */
	bool market_gated;
	bool require_notes;
	bool require_signature;
	bool queue;
	char *values;		/* file name relative to repository.valuesDir */
	char *values_path;	/* valuesDir/values: the path inside the repo */
	struct config_list tag_paths;	/* templates ({image} or '*') and shared paths (layout.h) */
	bool digest;		/* write each image's digest beside its tag (layout.h) */
	char *signers;
	char *application;	/* the Argo CD Application that deploys it, or NULL */
	/* issue 13 item 6: a promotion into the stage needs its source stage to
	 * run the release deployed (Argo CD) for at least soak_ms */
	bool require_source_deployed;
	uint64_t soak_ms;
	/* issue 14 item 2: guard bands widen a market-gated stage's window */
	uint64_t quiet_before_ms;	/* before each open */
	uint64_t quiet_after_ms;	/* after each close */
	/* issue 14 item 3: signed approvals by people other than the
	 * request's author a request needs (0: none) */
	uint32_t approvals;
	/* the principals http.approvalKey has in signers ("" when unset) */
	char approval_principals[512];
	/* issue 14 item 4: rollbackDuringMarket = allow */
	bool rollback_during_market;
};

struct config {
	char *path;		/* the configuration file, as given */
	struct {
		struct config_repo_url url;
		char *branch;
		char *ssh_key;
		char *known_hosts;
		char *values_dir;
		uint64_t deadline_ms;
		char *freezes;		/* the freeze file in the repository; NULL: none */
	} repository;
	struct {
		struct config_registry_url url;
		char *namespace;
		struct config_list images;
		char **image_tag_paths;	/* [images.n]: [image "NAME"] tagPath, or NULL */
		char *credentials;
		char *ca_file;
		uint64_t poll_interval_ms;
		enum config_registry_mode mode;
		uint32_t request_budget;	/* requests per minute */
		uint32_t max_pages;		/* tag-list pages per cycle */
		uint64_t timeout_ms;
	} registry;
	struct {
		char *timezone;
		int open_min;		/* minutes after local midnight */
		int close_min;
		char *calendar;		/* NULL: the shipped nyse.calendar */
	} market;
	struct config_stage stages[STAGE_COUNT];
	struct {
		struct config_listen listen;
		char *users;
		char *webhook_secret;
		char *trusted_proxy_header;
		/* issue 14 item 3: the private key dashboard approvals are
		 * signed with (NULL: no Approve button), and its fingerprint */
		char *approval_key;
		char approval_key_fp[60];
		/* Host header values accepted on writes (POST routes and the
		 * CSRF token); empty: the defaults http.c derives from listen */
		struct config_list allowed_hosts;
	} http;
	struct {
		char *state_dir;
		enum log_level log_level;
		struct config_identity identity;
	} daemon;
	struct {
		struct config_since since;
	} audit;
	struct {
		bool enabled;		/* an [argocd] section is there (url and token set) */
		struct config_registry_url url;	/* tls false only on loopback */
		char *token;		/* the API token file (a secret) */
		char *ca_file;
		char *project;		/* NULL: any AppProject */
		uint64_t deadline_ms;
	} argocd;
	struct {
		uint32_t max;		/* request branches tracked at once */
		uint32_t per_author;	/* of them, by one author (tip's e-mail) */
		uint64_t expire_refused_ms;	/* refused branches older: deleted; 0 never */
	} requests;
};

/* What parsing needs from outside the bytes.  Any member may be NULL:
 * without read, includes are skipped as missing files; without check, the
 * files the configuration names are not looked at. */
struct config_io {
	/* Read the included file path whole, at most max bytes: 0,
	 * ERR_NOTFOUND (skipped, as git does), or another error with why in
	 * msg (msgsz bytes). */
	int (*read)(void *arg, struct buf *out, const char *path, size_t max,
		    char *msg, size_t msgsz);
	/* Whether path, a file the daemon will read, is a readable, non-empty
	 * regular file of at most max bytes: 0, or an error with why in msg. */
	int (*check)(void *arg, const char *path, size_t max, char *msg, size_t msgsz);
	/* Whether path is a file of the running user that group or others may
	 * read or write (ssh's rule for a private key); its mode in *mode. */
	bool (*open_to_others)(void *arg, const char *path, unsigned *mode);
	void *arg;
	const char *credentials_dir;	/* $CREDENTIALS_DIRECTORY: relative secret files */
	const char *home;		/* $HOME: "~/" in include paths */
};

/* Check the configuration text data (len bytes; NULL reads as empty) of
 * the file path, which names it in messages and anchors relative paths.
 * On success *out is a new config (config_free it) and 0 is returned.  On
 * failure *out is untouched, errors gets one line per problem,
 * "file:line: message\n" sorted by line, and ERR_INVALID is returned
 * (ERR_NOMEM if memory ran out).  errors may be NULL. */
int config_parse(struct config **out, const char *path, const char *data, size_t len,
		 const struct config_io *io, struct buf *errors);
void config_free(struct config *cfg);

#endif
