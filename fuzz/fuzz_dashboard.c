/* libFuzzer target for the dashboard's input parsers: the first byte picks
 * one of the users file (auth_users_parse), an Authorization header
 * (auth_basic_parse), a CSRF token (auth_csrf_check), a promote body
 * (dashboard_promote_parse), an Origin (dashboard_origin_ok) and an
 * approve body (dashboard_approve_parse, issue 14).  None may
 * crash, leak or read out of bounds; a refusal leaves the output untouched
 * and an acceptance yields values that meet the documented bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_load.h"
#include "dashboard.h"
#include "policy.h"

static void users(const char *s, size_t n)
{
	struct auth_users u = { NULL, 0 };
	struct buf err = BUF_INIT;

	if (auth_users_parse(&u, "users", s, n, &err) == 0) {
		for (size_t i = 0; i < u.n; i++)
			if (!auth_name_valid(u.v[i].name) || auth_hash_refusal(u.v[i].hash))
				__builtin_trap();
		auth_users_release(&u);
	} else if (u.v || u.n) {
		__builtin_trap();
	}
	buf_release(&err);
}

static void basic(const char *s)
{
	char name[AUTH_NAME_MAX + 1] = "", pw[AUTH_PASSWORD_MAX + 1] = "";

	if (auth_basic_parse(name, pw, s) == 0 && (!name[0] || !pw[0]))
		__builtin_trap();
}

static void csrf(const char *s)
{
	static struct auth a;
	static int ready;

	if (!ready && auth_init(&a, NULL, NULL, NULL) == 0)
		ready = 1;
	if (ready && auth_csrf_check(&a, s, "alice", 0) == 0)
		__builtin_trap();	/* a forged token that passes */
}

static void promote(const char *s, size_t n)
{
	struct dashboard_promote *p = calloc(1, sizeof(*p));
	char err[256];

	if (!p)
		return;
	if (dashboard_promote_parse(p, s, n, err, sizeof(err)) == 0 &&
	    (!stage_is_deploy(p->stage) || !tag_is_sha1(p->tag, strlen(p->tag)) ||
	     strlen(p->notes) > TRAILER_NOTES_MAX ||
	     (p->break_glass_given && trailer_text_blank(p->break_glass))))
		__builtin_trap();
	free(p);
}

static void approve(const char *s, size_t n)
{
	struct dashboard_approve a;
	enum stage st;
	char err[256];
	struct buf e = BUF_INIT;

	memset(&a, 0, sizeof a);
	if (dashboard_approve_parse(&a, s, n, err, sizeof(err)) == 0 &&
	    (!stage_is_deploy(a.stage) || !tag_is_sha1(a.commit, strlen(a.commit)) ||
	     policy_parse_branch(&st, a.branch, &e) || st != a.stage))
		__builtin_trap();
	buf_release(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0 || !(s = malloc(size)))
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0: users(s, size - 1); break;
	case 1: basic(s); break;
	case 2: csrf(s); break;
	case 3: promote(s, size - 1); break;
	case 5: approve(s, size - 1); break;
	default: dashboard_origin_ok(s, "pipelines.example:443"); break;
	}
	free(s);
	return 0;
}
