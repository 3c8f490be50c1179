/* Unit tests for config.c and config_scan.c: typed values and defaults,
 * value forms one by one, file-level failures, and the line scanner.
 * (Error wording for whole files is pinned by tests/golden/config.sh.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "config_load.h"
#include "config_scan.h"
#include "sysio.h"

/* The least a valid file needs; tests append to it. */
static const char MINIMAL[] =
	"[repository]\n\turl = /srv/git/stonks-oracle.git\n"
	"[registry]\n\tnamespace = celesrenata/stonks-oracle\n"
	"[stage \"beta\"]\n\tvalues = values-beta.yaml\n\ttagPath = services.*.image.tag\n"
	"[stage \"paper\"]\n\tvalues = values-paper.yaml\n\ttagPath = services.*.image.tag\n"
	"[stage \"live\"]\n\tvalues = values-live.yaml\n\ttagPath = services.*.image.tag\n";

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strlcpy_(f->dir, "/tmp/test_config.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/pipelines.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[256];
	static const char *const names[] = { "pipelines.conf", "key", "empty", ".gitconfig",
					     "big.conf", "fifo", "inc", "inc2", "secret" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void put(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Load MINIMAL (or only its stages, for a caller that sets repository.url
 * and registry.namespace itself) + extra; returns config_load's result. */
static int load_with(struct fixture *f, bool stages_only, const char *extra,
		     struct config **cfg, struct buf *err)
{
	struct buf text = BUF_INIT;
	int rc;

	assert_int_equal(buf_printf(&text, "%s%s",
				    stages_only ? strstr(MINIMAL, "[stage") : MINIMAL, extra), 0);
	put(f->path, text.data, text.len);
	buf_release(&text);
	buf_reset(err);
	rc = config_load(cfg, f->path, err);
	if (rc == 0)
		assert_int_equal(err->len, 0);
	else
		print_message("%s", err->data);	/* shown when a test fails */
	return rc;
}

static int load(struct fixture *f, const char *extra, struct config **cfg, struct buf *err)
{
	return load_with(f, false, extra, cfg, err);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = NULL;
	struct buf err = BUF_INIT;
	static const char *const images[] = {
		"scheduler", "symbol-registry", "ingestion", "parser", "extractor", "aggregation",
		"recommendation", "risk", "broker-adapter", "lake-publisher", "query-api",
		"trading-engine", "dashboard", "superset",
	};

	assert_int_equal(load(f, "", &cfg, &err), 0);
	assert_string_equal(cfg->path, f->path);
	assert_string_equal(cfg->repository.url.url, "/srv/git/stonks-oracle.git");
	assert_int_equal(cfg->repository.url.kind, CONFIG_REPO_LOCAL);
	assert_null(cfg->repository.url.host);
	assert_string_equal(cfg->repository.branch, "main");
	assert_null(cfg->repository.ssh_key);
	assert_null(cfg->repository.known_hosts);
	assert_string_equal(cfg->repository.values_dir, "values");
	assert_int_equal(cfg->repository.deadline_ms, 60000);

	assert_string_equal(cfg->registry.url.url, "https://ghcr.io");
	assert_true(cfg->registry.url.tls);
	assert_string_equal(cfg->registry.namespace, "celesrenata/stonks-oracle");
	assert_int_equal(cfg->registry.images.n, 14);
	for (size_t i = 0; i < ARRAY_SIZE(images); i++)
		assert_string_equal(cfg->registry.images.v[i], images[i]);
	assert_null(cfg->registry.credentials);
	assert_null(cfg->registry.ca_file);
	assert_int_equal(cfg->registry.poll_interval_ms, 30000);
	assert_int_equal(cfg->registry.mode, CONFIG_MODE_GIT);
	assert_int_equal(cfg->registry.request_budget, 600);
	assert_int_equal(cfg->registry.max_pages, 50);
	assert_int_equal(cfg->registry.timeout_ms, 30000);

	assert_string_equal(cfg->market.timezone, "America/New_York");
	assert_int_equal(cfg->market.open_min, 9 * 60 + 30);
	assert_int_equal(cfg->market.close_min, 16 * 60);
	assert_null(cfg->market.calendar);	/* the shipped calendar (datafile_path) */

	for (int s = 0; s < STAGE_COUNT; s++) {
		assert_true(cfg->stages[s].enabled);
		assert_true(cfg->stages[s].queue);
		assert_false(cfg->stages[s].require_signature);
		assert_null(cfg->stages[s].signers);
	}
	assert_true(cfg->stages[STAGE_BETA].auto_promote);
	assert_false(cfg->stages[STAGE_PAPER].auto_promote);
	assert_false(cfg->stages[STAGE_LIVE].auto_promote);
	assert_false(cfg->stages[STAGE_BETA].market_gated);
	assert_true(cfg->stages[STAGE_PAPER].market_gated);
	assert_true(cfg->stages[STAGE_LIVE].market_gated);
	assert_false(cfg->stages[STAGE_BETA].require_notes);
	assert_false(cfg->stages[STAGE_PAPER].require_notes);
	assert_true(cfg->stages[STAGE_LIVE].require_notes);
	assert_string_equal(cfg->stages[STAGE_BETA].values, "values-beta.yaml");
	assert_string_equal(cfg->stages[STAGE_BETA].values_path, "values/values-beta.yaml");
	assert_string_equal(cfg->stages[STAGE_LIVE].values_path, "values/values-live.yaml");
	assert_null(cfg->stages[STAGE_CI].values_path);
	assert_int_equal(cfg->stages[STAGE_PAPER].tag_paths.n, 1);
	assert_string_equal(cfg->stages[STAGE_PAPER].tag_paths.v[0], "services.*.image.tag");

	assert_string_equal(cfg->http.listen.host, "127.0.0.1");
	assert_int_equal(cfg->http.listen.port, 8780);
	assert_null(cfg->http.users);
	assert_null(cfg->http.webhook_secret);
	assert_null(cfg->http.trusted_proxy_header);
	assert_int_equal(cfg->http.allowed_hosts.n, 0);	/* http.c derives them from listen */
	assert_string_equal(cfg->daemon.state_dir, "/var/lib/pipelined");
	assert_int_equal(cfg->daemon.log_level, LOG_LVL_INFO);
	assert_string_equal(cfg->daemon.identity.name, "pipelined");
	assert_string_equal(cfg->daemon.identity.email, "pipelined@localhost");
	assert_false(cfg->audit.since.set);
	config_free(cfg);
	buf_release(&err);
}

static void test_typed_values(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = NULL;
	struct buf err = BUF_INIT, extra = BUF_INIT;
	char key[160];

	snprintf(key, sizeof(key), "%s/key", f->dir);
	put(key, "k\n", 2);
	buf_printf(&extra,
		   "[repository]\n\turl = ssh://git@127.0.0.1:2222/srv/repo.git\n"
		   "\tsshKey = key\n\tknownHosts = %s/key\n\tdeadline = 2m30s\n"
		   "\tvaluesDir = deploy/values\n\tbranch = release/2026\n"
		   "[registry]\n\turl = http://localhost:5000/\n\tnamespace = x\n\timage = query-api\n"
		   "\timage = dashboard\n\tmode = tags\n\trequestBudget = 7\n\tpollInterval = 1h\n"
		   "[market]\n\topen = 08:05\n\tclose = 13:00\n\ttimezone = Europe/London\n"
		   "[stage \"paper\"]\n\tauto\n\tqueue = off\n\ttagPath = extra.tag\n"
		   "[stage \"integration-test\"]\n\tenabled = false\n"
		   "[http]\n\tlisten = [::1]:9000\n\ttrustedProxyHeader = X-Remote-User\n"
		   "\tallowedHosts = dash.example.com\n\tallowedHosts = [::1]:9000\n"
		   "[daemon]\n\tlogLevel = debug\n\tidentity = Promo Bot  <bot@example.com>\n"
		   "\tstateDir = /srv/state\n"
		   "[audit]\n\tsince = 2026-02-28\n",
		   f->dir);
	assert_int_equal(load_with(f, true, extra.data, &cfg, &err), 0);
	assert_int_equal(cfg->repository.url.kind, CONFIG_REPO_SSH);
	assert_string_equal(cfg->repository.url.host, "127.0.0.1");
	assert_int_equal(cfg->repository.url.port, 2222);
	/* Relative file paths are taken from the configuration's directory. */
	assert_string_equal(cfg->repository.ssh_key, key);
	assert_string_equal(cfg->repository.known_hosts, cfg->repository.ssh_key);
	assert_int_equal(cfg->repository.deadline_ms, 150000);
	assert_string_equal(cfg->repository.branch, "release/2026");
	assert_string_equal(cfg->stages[STAGE_BETA].values_path, "deploy/values/values-beta.yaml");
	assert_string_equal(cfg->registry.url.url, "http://localhost:5000");
	assert_false(cfg->registry.url.tls);
	/* A list given at all replaces the default list. */
	assert_int_equal(cfg->registry.images.n, 2);
	assert_string_equal(cfg->registry.images.v[1], "dashboard");
	assert_int_equal(cfg->registry.mode, CONFIG_MODE_TAGS);
	assert_int_equal(cfg->registry.request_budget, 7);
	assert_int_equal(cfg->registry.poll_interval_ms, 3600000);
	assert_int_equal(cfg->market.open_min, 8 * 60 + 5);
	assert_int_equal(cfg->market.close_min, 13 * 60);
	assert_string_equal(cfg->market.timezone, "Europe/London");
	assert_true(cfg->stages[STAGE_PAPER].auto_promote);
	assert_false(cfg->stages[STAGE_PAPER].queue);
	/* A repeated key in a second section adds to the list. */
	assert_int_equal(cfg->stages[STAGE_PAPER].tag_paths.n, 2);
	assert_string_equal(cfg->stages[STAGE_PAPER].tag_paths.v[1], "extra.tag");
	assert_false(cfg->stages[STAGE_INTTEST].enabled);
	assert_string_equal(cfg->http.listen.host, "::1");
	assert_int_equal(cfg->http.listen.port, 9000);
	assert_string_equal(cfg->http.trusted_proxy_header, "X-Remote-User");
	assert_int_equal(cfg->http.allowed_hosts.n, 2);
	assert_string_equal(cfg->http.allowed_hosts.v[0], "dash.example.com");
	assert_string_equal(cfg->http.allowed_hosts.v[1], "[::1]:9000");
	assert_int_equal(cfg->daemon.log_level, LOG_LVL_DEBUG);
	assert_string_equal(cfg->daemon.identity.name, "Promo Bot");
	assert_string_equal(cfg->daemon.identity.email, "bot@example.com");
	assert_string_equal(cfg->daemon.state_dir, "/srv/state");
	assert_true(cfg->audit.since.set);
	assert_false(cfg->audit.since.is_commit);
	assert_int_equal(cfg->audit.since.time, 1772236800);	/* 2026-02-28T00:00:00Z */
	config_free(cfg);

	assert_int_equal(load_with(f, true, "[repository]\n"
				   "\turl = deploy@git.example.com:ops/gitops.git\n"
				   "\tsshKey = key\n\tknownHosts = key\n"
				   "[registry]\n\tnamespace = a/b\n"
				   "[audit]\n\tsince = 0123456789abcdef0123456789abcdef01234567\n",
				   &cfg, &err), 0);
	assert_int_equal(cfg->repository.url.kind, CONFIG_REPO_SSH);
	assert_string_equal(cfg->repository.url.host, "git.example.com");
	assert_int_equal(cfg->repository.url.port, 22);
	assert_true(cfg->audit.since.is_commit);
	assert_string_equal(cfg->audit.since.commit, "0123456789abcdef0123456789abcdef01234567");
	config_free(cfg);
	buf_release(&extra);
	buf_release(&err);
}

/* One value per line: section, key = value, and whether it is accepted. */
static const struct {
	const char *section;
	const char *line;
	bool ok;
} forms[] = {
	{ "daemon", "identity = pipelined <pipelined@gremlin-1>", true },
	{ "daemon", "identity = pipelined", false },
	{ "daemon", "identity = <pipelined@localhost>", false },
	{ "daemon", "identity = pipelined <>", false },
	{ "daemon", "identity = pipelined <a b@c>", false },
	{ "daemon", "identity = pipelined <a@b> trailing", false },
	{ "daemon", "identity = pipe<lined <a@b>", false },
	{ "http", "listen = 0.0.0.0:80", true },
	{ "http", "listen = [::]:8780", true },
	{ "http", "listen = localhost:8780", false },
	{ "http", "listen = 127.0.0.1:0", false },
	{ "http", "listen = 127.0.0.1:65536", false },
	{ "http", "listen = ::1:8780", false },
	{ "http", "listen = [::1]", false },
	{ "http", "listen = 127.0.0.1:", false },
	{ "http", "listen = 127.1:8780", false },
	{ "registry", "url = https://ghcr.io", true },
	{ "registry", "url = https://registry.example.com:8443/", true },
	{ "registry", "url = http://127.0.0.1:5000", true },
	{ "registry", "url = http://[::1]:5000", true },
	{ "registry", "url = http://localhost", true },
	{ "registry", "url = http://10.0.0.1:5000", false },
	{ "registry", "url = http://127.evil.example.com", false },
	{ "registry", "url = https://ghcr.io/v2/", false },
	{ "registry", "url = https://user@ghcr.io", false },
	{ "registry", "url = ftp://ghcr.io", false },
	{ "registry", "url = ghcr.io", false },
	{ "registry", "url = https://", false },
	{ "repository", "url = ssh://git@github.com:22x/stonks-oracle.git", false },
	{ "repository", "url = ssh://git@github.com:0/stonks-oracle.git", false },
	{ "repository", "url = https://github.com/celesrenata/stonks-oracle.git", false },
	{ "repository", "url = github.com:celesrenata/stonks-oracle.git", false },
	{ "repository", "url = git@:repo.git", false },
	{ "repository", "url = ssh://github.com", false },
	{ "repository", "url = ssh://git@gith_ub.com/x.git", false },
	{ "repository", "url = file:///srv/repo.git", true },
	{ "repository", "url = relative/repo.git", false },
	{ "repository", "branch = main", true },
	{ "repository", "branch = feature/x-1", true },
	{ "repository", "branch = -main", true },	/* git itself allows it */
	{ "repository", "branch = main.lock", false },
	{ "repository", "branch = a..b", false },
	{ "repository", "branch = refs/heads/main", false },
	{ "repository", "branch = with space", false },
	{ "repository", "valuesDir = .", false },
	{ "repository", "valuesDir = a//b", false },
	{ "repository", "valuesDir = a/", false },
	{ "repository", "valuesDir = a/b", true },
	{ "repository", "deadline = 1s", true },
	{ "repository", "deadline = 999ms", false },
	{ "repository", "deadline = 1h", true },
	{ "repository", "deadline = 1h1s", false },
	{ "registry", "namespace = a/b/c", true },
	{ "registry", "namespace = a__b.c-d---e", true },
	{ "registry", "namespace = a___b", false },
	{ "registry", "namespace = a./b", false },
	{ "registry", "namespace = /a", false },
	{ "registry", "image = a", true },
	{ "registry", "image = inttest", true },
	{ "registry", "image = A", false },
	{ "registry", "image = a:b", false },
	{ "registry", "requestBudget = 1", true },
	{ "registry", "requestBudget = +5", false },
	{ "registry", "requestBudget = 5 ", true },	/* git trims trailing blanks */
	{ "registry", "maxPages = 00010", true },
	{ "market", "open = 00:00", true },
	{ "market", "open = 23:59", false },	/* not before close */
	{ "market", "open = 9:30", false },
	{ "market", "open = 09:60", false },
	{ "market", "open = 0930", false },
	{ "market", "close = 24:00", false },
	{ "market", "timezone = UTC", true },
	{ "market", "timezone = America/Argentina/Buenos_Aires", true },
	{ "market", "timezone = America//New_York", false },
	{ "market", "timezone = America/", false },
	{ "market", "timezone = America/New York", false },
	{ "market", "calendar = cal/nyse.calendar", false },	/* checked, and not there */
	{ "stage \"beta\"", "tagPath = *", true },
	{ "stage \"beta\"", "tagPath = a.*.*.b", false },	/* one wildcard per path */
	{ "stage \"beta\"", "tagPath = a.{image}.b", true },
	{ "stage \"beta\"", "tagPath = {image}", true },
	{ "stage \"beta\"", "tagPath = a.{image}.*", false },
	{ "stage \"beta\"", "tagPath = a.{name}.b", false },
	{ "stage \"beta\"", "digest = true", true },
	{ "stage \"beta\"", "digest = maybe", false },
	{ "stage \"ci\"", "digest = false", false },	/* deploy stages only */
	{ "image \"dashboard\"", "tagPath = dashboard.image.tag", true },
	{ "image \"dashboard\"", "tagPath = dashboard.*.tag", false },
	{ "image \"dashboard\"", "tagPath = {image}.tag", false },
	{ "image \"nosuch\"", "tagPath = nosuch.tag", false },
	{ "image \"dashboard\"", "digest = true", false },
	{ "stage \"beta\"", "tagPath = a.b*", false },
	{ "stage \"beta\"", "tagPath = a.\\\"b\\\"", true },
	{ "stage \"beta\"", "values = ../x.yaml", false },
	{ "stage \"beta\"", "values = a\\\\b.yaml", false },
	{ "stage \"beta\"", "enabled = yes", true },
	{ "stage \"beta\"", "enabled = On", true },
	{ "stage \"beta\"", "enabled = 2", false },
	{ "stage \"live\"", "requireSignature", false },	/* no signers */
	{ "http", "trustedProxyHeader = X-Forwarded-User", true },
	{ "http", "allowedHosts = pipelined.example.com", true },
	{ "http", "allowedHosts = localhost:8780", true },
	{ "http", "allowedHosts = 127.0.0.1", true },
	{ "http", "allowedHosts = [::1]:8780", true },
	{ "http", "allowedHosts = [::1]", true },
	{ "http", "allowedHosts = http://localhost:8780", false },
	{ "http", "allowedHosts = evil example", false },
	{ "http", "allowedHosts = host:0", false },
	{ "http", "allowedHosts = host:65536", false },
	{ "http", "allowedHosts = host:", false },
	{ "http", "allowedHosts = [::1", false },
	{ "http", "allowedHosts = [zz]:80", false },
	{ "http", "allowedHosts = ::1", false },
	{ "http", "allowedHosts = .example.com", false },
	{ "http", "allowedHosts = *", false },
	{ "http", "trustedProxyHeader = X:User", false },
	{ "daemon", "stateDir = /", true },
	{ "daemon", "stateDir = state", false },
	{ "daemon", "logLevel = warning", true },
	{ "daemon", "logLevel = WARNING", false },
	{ "audit", "since = 2028-02-29", true },
	{ "audit", "since = 2027-02-29", false },
	{ "audit", "since = 2100-02-29", false },
	{ "audit", "since = 1969-12-31", false },
	{ "audit", "since = 2026-13-01", false },
	{ "audit", "since = 0123456789ABCDEF0123456789ABCDEF01234567", false },
	{ "audit", "since = abc1234", false },
};

/* MINIMAL's stages, the form's section and line, and whichever of
 * repository.url and registry.namespace the form does not set itself. */
static int load_form(struct fixture *f, size_t i, struct config **cfg, struct buf *err,
		     int *line)
{
	const char *stages = strstr(MINIMAL, "[stage");
	struct buf text = BUF_INIT;
	bool url = strcmp(forms[i].section, "repository") == 0 &&
		   strncmp(forms[i].line, "url", 3) == 0;
	bool ns = strcmp(forms[i].section, "registry") == 0 &&
		  strncmp(forms[i].line, "namespace", 9) == 0;
	int rc;

	buf_adds(&text, stages);
	if (!url)
		buf_adds(&text, "[repository]\n\turl = /srv/git/x.git\n");
	if (!ns)
		buf_adds(&text, "[registry]\n\tnamespace = a/b\n");
	buf_printf(&text, "[%s]\n\t%s\n", forms[i].section, forms[i].line);
	*line = 0;
	for (size_t j = 0; j < text.len; j++)
		*line += text.data[j] == '\n';
	put(f->path, text.data, text.len);
	buf_release(&text);
	buf_reset(err);
	rc = config_load(cfg, f->path, err);
	return rc;
}

static void test_value_forms(void **state)
{
	struct fixture *f = *state;
	struct buf err = BUF_INIT;
	char where[32];
	bool failed = false;

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		struct config *cfg = NULL;
		int line, rc = load_form(f, i, &cfg, &err, &line);

		if ((rc == 0) != forms[i].ok) {
			print_error("[%s] %s: expected %s, got: %s\n", forms[i].section,
				    forms[i].line, forms[i].ok ? "OK" : "an error",
				    rc ? err.data : "OK");
			failed = true;
		} else if (rc) {
			/* Exactly one error, on the form's line. */
			print_message("[%s] %s -> %s", forms[i].section, forms[i].line, err.data);
			snprintf(where, sizeof(where), ":%d: ", line);
			assert_non_null(strstr(err.data, where));
			assert_ptr_equal(strchr(err.data, '\n'), err.data + err.len - 1);
		}
		config_free(cfg);
	}
	buf_release(&err);
	assert_false(failed);
}

static void test_failure_leaves_out_alone(void **state)
{
	struct fixture *f = *state;
	struct config *live = NULL, *next = (struct config *)0x1;
	struct buf err = BUF_INIT;

	/* The reload pattern: a bad file leaves the running config in place. */
	assert_int_equal(load(f, "", &live, &err), 0);
	assert_int_equal(load(f, "[daemon]\n\tlogLevel = loud\n[bogus]\n\tx = 1\n", &next, &err),
			 ERR_INVALID);
	assert_ptr_equal(next, (struct config *)0x1);
	assert_non_null(strstr(err.data, "bad value 'loud' for 'daemon.logLevel'"));
	assert_non_null(strstr(err.data, "unknown section 'bogus'"));
	assert_int_equal(live->daemon.log_level, LOG_LVL_INFO);
	config_free(live);
	buf_release(&err);
}

/* Every file the configuration names, the configuration itself and its
 * includes (and theirs) must be regular files within bounds; a FIFO must be
 * refused at once, never opened for a blocking read (which would hang). */
static void test_special_files(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = NULL;
	struct buf err = BUF_INIT, want = BUF_INIT, extra = BUF_INIT;
	char fifo[200], inc[200], inc2[200], secret[200];
	int line = 0;

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	snprintf(inc, sizeof(inc), "%s/inc", f->dir);
	snprintf(inc2, sizeof(inc2), "%s/inc2", f->dir);
	snprintf(secret, sizeof(secret), "%s/secret", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	/* the configuration file itself */
	assert_int_equal(config_load(&cfg, fifo, &err), ERR_INVALID);
	buf_printf(&want, "%s: is a FIFO, not a regular file\n", fifo);
	assert_string_equal(err.data, want.data);

	/* every file key, the calendar included */
	static const struct {
		const char *section, *key;
	} keys[] = {
		{ "market", "calendar" }, { "http", "users" }, { "http", "webhookSecret" },
		{ "registry", "credentials" }, { "registry", "caFile" },
		{ "repository", "sshKey" }, { "repository", "knownHosts" },
		{ "stage \"live\"", "signers" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *sec = keys[i].section;
		char shown_sec[32];

		buf_reset(&extra);
		buf_printf(&extra, "[%s]\n\t%s = fifo\n", sec, keys[i].key);
		assert_int_equal(load_with(f, false, extra.data, &cfg, &err), ERR_INVALID);
		line = 0;
		for (const char *p = MINIMAL; *p; p++)
			line += *p == '\n';
		if (strncmp(sec, "stage", 5) == 0)
			snprintf(shown_sec, sizeof(shown_sec), "stage.live");
		else
			snprintf(shown_sec, sizeof(shown_sec), "%s", sec);
		buf_reset(&want);
		buf_printf(&want, "%s:%d: cannot read '%s.%s' file 'fifo': is a FIFO, not a "
			   "regular file\n", f->path, line + 2, shown_sec, keys[i].key);
		assert_string_equal(err.data, want.data);
	}

	/* a secret file over its reader's bound */
	buf_reset(&extra);
	for (int i = 0; i < 1100; i++)
		buf_addch(&extra, 'x');
	put(secret, extra.data, extra.len);
	assert_int_equal(load_with(f, false, "[http]\n\twebhookSecret = secret\n", &cfg, &err),
			 ERR_INVALID);
	assert_non_null(strstr(err.data, "cannot read 'http.webhookSecret' file 'secret': "
				       "larger than 1026 bytes"));

	/* an include, and an include inside an included file */
	assert_int_equal(load_with(f, false, "[include]\n\tpath = fifo\n", &cfg, &err),
			 ERR_INVALID);
	buf_reset(&want);
	buf_printf(&want, "%s:%d: cannot read included file '%s/fifo': is a FIFO, not a regular "
		   "file\n", f->path, line + 2, f->dir);
	assert_string_equal(err.data, want.data);
	put(inc, "[include]\n\tpath = inc2\n", strlen("[include]\n\tpath = inc2\n"));
	/* quoted and continued, as libgit2 reads it: "fifo" */
	put(inc2, "[include]\n\tpath = \"fi\"\\\n\"fo\"\n",
	    strlen("[include]\n\tpath = \"fi\"\\\n\"fo\"\n"));
	assert_int_equal(load_with(f, false, "[includeIf \"gitdir:/\"]\n\tpath = inc\n", &cfg,
				   &err), ERR_INVALID);
	buf_reset(&want);
	buf_printf(&want, "%s:%d: cannot read included file '%s/fifo' (included from '%s/inc2'): "
		   "is a FIFO, not a regular file\n", f->path, line + 2, f->dir, f->dir);
	assert_string_equal(err.data, want.data);
	/* a directory */
	assert_int_equal(load_with(f, false, "[include]\n\tpath = .\n", &cfg, &err),
			 ERR_INVALID);
	assert_non_null(strstr(err.data, "is a directory, not a regular file"));
	/* a missing include is skipped, as libgit2 does; the section is still unknown */
	assert_int_equal(load_with(f, false, "[include]\n\tpath = nothing-here\n", &cfg, &err),
			 ERR_INVALID);
	assert_non_null(strstr(err.data, "unknown section 'include'"));

	buf_release(&err);
	buf_release(&want);
	buf_release(&extra);
}

static void test_whole_file_errors(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = NULL;
	struct buf err = BUF_INIT, want = BUF_INIT, big = BUF_INIT;
	static const char nul[] = "[repository]\n\turl = /x\0y\n";
	char path[200];

	snprintf(path, sizeof(path), "%s/missing.conf", f->dir);
	assert_int_equal(config_load(&cfg, path, &err), ERR_INVALID);
	buf_printf(&want, "%s: cannot read: No such file or directory\n", path);
	assert_string_equal(err.data, want.data);

	buf_reset(&err);
	buf_reset(&want);
	assert_int_equal(config_load(&cfg, f->dir, &err), ERR_INVALID);
	buf_printf(&want, "%s: is a directory, not a regular file\n", f->dir);
	assert_string_equal(err.data, want.data);

	/* A NUL byte: libgit2 would silently cut the line there. */
	put(f->path, nul, sizeof(nul) - 1);
	buf_reset(&err);
	buf_reset(&want);
	assert_int_equal(config_load(&cfg, f->path, &err), ERR_INVALID);
	buf_printf(&want, "%s:2: NUL byte in the file\n", f->path);
	assert_string_equal(err.data, want.data);

	snprintf(path, sizeof(path), "%s/big.conf", f->dir);
	buf_init(&big, CONFIG_MAX_BYTES + 64);
	while (big.len <= CONFIG_MAX_BYTES)
		assert_int_equal(buf_adds(&big, "# padding padding padding padding padding\n"), 0);
	put(path, big.data, big.len);
	buf_reset(&err);
	buf_reset(&want);
	assert_int_equal(config_load(&cfg, path, &err), ERR_INVALID);
	buf_printf(&want, "%s: file is larger than %d bytes\n", path, CONFIG_MAX_BYTES);
	assert_string_equal(err.data, want.data);

	/* errors may be NULL */
	assert_int_equal(config_load(&cfg, path, NULL), ERR_INVALID);
	buf_release(&big);
	buf_release(&want);
	buf_release(&err);
}

/* The user's own git configuration never leaks in. */
static void test_no_global_config(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = NULL;
	struct buf err = BUF_INIT;
	char gc[200], *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	static const char text[] = "[repository]\n\turl = /x\n[registry]\n\tnamespace = x/y\n";
	static const char gtext[] = "[daemon]\n\tlogLevel = debug\n[bogus]\n\tkey = 1\n";

	snprintf(gc, sizeof(gc), "%s/.gitconfig", f->dir);
	put(gc, gtext, sizeof(gtext) - 1);
	setenv("HOME", f->dir, 1);
	setenv("XDG_CONFIG_HOME", f->dir, 1);
	put(f->path, text, sizeof(text) - 1);
	assert_int_equal(config_load(&cfg, f->path, &err), ERR_INVALID);
	/* Only this file's problems (no [stage] sections): nothing about bogus. */
	assert_null(strstr(err.data, "bogus"));
	assert_non_null(strstr(err.data, "stage 'beta' is enabled"));
	buf_release(&err);
	assert_int_equal(load(f, "", &cfg, &err), 0);
	assert_int_equal(cfg->daemon.log_level, LOG_LVL_INFO);
	config_free(cfg);
	if (home)
		setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	free(home);
	buf_release(&err);
}

static void test_scan_lines(void **state)
{
	static const char text[] =
		"\xef\xbb\xbf# comment\n"			/* 1 */
		"[Registry] URL = a ; c\n"			/* 2 */
		"  image = one \\\n"				/* 3 */
		"\n"						/* 4: blank inside */
		"; comment inside\n"				/* 5 */
		"  two\n"					/* 6 */
		"[stage \"Be\\\"ta\"]\n"			/* 7 */
		"\tTagPath = \"a # not a comment \\\n"		/* 8 */
		"still ; quoted\"\n"				/* 9 */
		"\tauto\n"					/* 10 */
		"[old.Sub]\n"					/* 11 */
		"k=v\r\n"					/* 12 */
		"x = 1";					/* 13, no newline */
	static const struct { const char *name, *value; int line, hdr; } want[] = {
		{ "registry.url", "a", 2, 2 },
		{ "registry.image", "one   two", 3, 2 },
		{ "stage.Be\"ta.tagpath", "a # not a comment still ; quoted", 8, 7 },
		{ "stage.Be\"ta.auto", NULL, 10, 7 },
		{ "old.sub.k", "v", 12, 11 },
		{ "old.sub.x", "1", 13, 11 },
	};
	struct config_scan s;
	size_t cursor = 0;

	assert_int_equal(config_scan_run(&s, text, sizeof(text) - 1), 0);
	assert_int_equal(s.error_line, 0);
	assert_int_equal(s.last_line, 13);
	assert_int_equal(s.nvars, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct config_scan_var *v = config_scan_match(&s, &cursor, want[i].name);

		assert_non_null(v);
		assert_int_equal(v->line, want[i].line);
		assert_int_equal(v->header_line, want[i].hdr);
		if (want[i].value)
			assert_string_equal(v->value, want[i].value);
		else
			assert_null(v->value);
	}
	assert_non_null(config_scan_find_header(&s, "stage", "Be\"ta"));
	assert_int_equal(config_scan_find_header(&s, "old", "sub")->line, 11);
	assert_null(config_scan_find_header(&s, "stage", "beta"));
	assert_null(config_scan_find_header(&s, "old", NULL));
	config_scan_release(&s);

	assert_int_equal(config_scan_run(&s, "[a]\nk = 1\nj = \"x\\q\"\n", 20), 0);
	assert_int_equal(s.error_line, 3);
	assert_string_equal(s.error, "invalid escape sequence '\\q' in value");
	config_scan_release(&s);
	/* an empty value is "", a bare key has none; escapes are unescaped */
	static const char vals[] = "[a]\nk =\nq = \"\"\nt = x\\ty\n";
	assert_int_equal(config_scan_run(&s, vals, sizeof(vals) - 1), 0);
	assert_int_equal(s.nvars, 3);
	assert_string_equal(s.vars[0].value, "");
	assert_string_equal(s.vars[1].value, "");
	assert_string_equal(s.vars[2].value, "x\ty");
	config_scan_release(&s);
	static const struct { const char *text; int line; const char *error; } bad[] = {
		{ "[a\n", 1, "missing ']' in section header" },
		{ "[a b]\n", 1, "missing quotation marks in section header" },
		{ "[a \"b]\n", 1, "missing closing quotation mark in section header" },
		{ "[a \"b\" ]\n", 1, "unexpected text after closing quotes" },
		{ "[a_b]\n", 1, "unexpected character in header" },
		{ "[a]\n=1\n", 2, "invalid configuration key" },
		{ "[a]\nk v\n", 2, "invalid configuration key" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(config_scan_run(&s, bad[i].text, strlen(bad[i].text)), 0);
		if (s.error_line != bad[i].line || strcmp(s.error, bad[i].error) != 0)
			fail_msg("'%s': line %d '%s'", bad[i].text, s.error_line, s.error);
		config_scan_release(&s);
	}
	assert_int_equal(config_scan_run(&s, "", 0), 0);
	assert_int_equal(s.last_line, 1);
	config_scan_release(&s);
	assert_int_equal(config_scan_run(&s, "a\nb\n", 4), 0);
	assert_int_equal(s.last_line, 2);
	config_scan_release(&s);
}

/* The scanner finds exactly libgit2's variables and values, in libgit2's
 * order, in every golden case and the shipped file, and fails where it
 * fails (the fuzz target checks the same on random input). */
static void check_agree(const char *path)
{
	struct buf data = BUF_INIT;
	struct config_scan s;
	git_config *gc;
	git_config_iterator *it;
	git_config_entry *e;
	size_t cursor = 0, n = 0;

	assert_int_equal(file_read(&data, path, CONFIG_MAX_BYTES), 0);
	assert_int_equal(config_scan_run(&s, data.data, data.len), 0);
	assert_int_equal(git_config_new(&gc), 0);
	if (git_config_add_file_ondisk(gc, path, GIT_CONFIG_LEVEL_APP, NULL, 0) == 0) {
		assert_int_equal(s.error_line, 0);
		assert_int_equal(git_config_iterator_new(&it, gc), 0);
		while (git_config_next(&e, it) == 0) {
			const struct config_scan_var *v;

			if (e->include_depth)
				continue;
			if (!(v = config_scan_match(&s, &cursor, e->name)))
				fail_msg("%s: scanner misses '%s'", path, e->name);
			if ((v->value == NULL) != (e->value == NULL) ||
			    (v->value && strcmp(v->value, e->value) != 0))
				fail_msg("%s: '%s' is '%s' for libgit2, '%s' for the scanner", path,
					 e->name, e->value ? e->value : "(none)",
					 v->value ? v->value : "(none)");
			n++;
		}
		git_config_iterator_free(it);
		if (n != s.nvars)
			fail_msg("%s: libgit2 has %zu variables, the scanner %zu", path, n, s.nvars);
	} else if (!s.error_line && !s.nul_line && strstr(git_error_last()->message, path)) {
		fail_msg("%s: libgit2 refuses it (%s), the scanner does not", path,
			 git_error_last()->message);
	}
	git_config_free(gc);
	config_scan_release(&s);
	buf_release(&data);
}

static void test_scan_agrees_with_libgit2(void **state)
{
	const char *data = getenv("TESTDATA"), *src = getenv("SRCDIR");
	char dir[512], path[1024];
	struct dirent *d;
	DIR *dp;
	int cases = 0;

	if (!data || !src)
		skip();
	snprintf(dir, sizeof(dir), "%s/config", data);
	assert_non_null(dp = opendir(dir));
	while ((d = readdir(dp))) {
		size_t len = strlen(d->d_name);

		if (len < 6 || strcmp(d->d_name + len - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		check_agree(path);
		cases++;
	}
	closedir(dp);
	assert_true(cases >= 25);
	snprintf(path, sizeof(path), "%s/pipelines.conf", src);
	check_agree(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_leaves_out_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whole_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_global_config, setup, teardown),
		cmocka_unit_test(test_scan_lines),
		cmocka_unit_test(test_scan_agrees_with_libgit2),
	};

	int rc;

	/* Held like the daemon holds it, so each load's init is cheap. */
	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
