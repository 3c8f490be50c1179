/* auth.h - who may use the dashboard's write actions.
 *
 * Two ways to name an operator, both off unless configured:
 *  - a users file ([http] users) of "name:crypt-hash[:email]" lines,
 *    checked against HTTP Basic credentials with crypt(3) (libxcrypt;
 *    yescrypt, bcrypt and sha512crypt only: DES, MD5 and other legacy or
 *    cheap hashes are refused when the file is loaded);
 *  - a trusted reverse-proxy header ([http] trustedProxyHeader), honoured
 *    only on connections from loopback: the proxy runs on this host and
 *    connects over loopback, so a client that reaches the daemon any other
 *    way (the listen address on a LAN, a port-forward) cannot simply send
 *    the header itself and be believed.
 * Neither configured: write actions are disabled and say so.
 *
 * CSRF: a token "<expiry>.<hex HMAC-SHA256(key, name \n expiry)>" under a
 * key drawn from getrandom(2) when the process starts, so tokens die with
 * the process and are bound to one operator and a deadline.
 *
 * Failed logins are counted per operator name and per client address:
 * AUTH_FAIL_LIMIT failures for one name within AUTH_FAIL_WINDOW_MS lock
 * that name (from everywhere), AUTH_FAIL_LIMIT_ADDR failures from one
 * address (for any names) lock that address, each for AUTH_LOCKOUT_MS,
 * before any password is checked.  The address limit is the higher one
 * because behind a loopback ingress every client shares 127.0.0.1: five
 * wrong passwords for alice must lock alice, not every operator.  The
 * client address is the TCP peer, or, from the trusted proxy only (a
 * loopback peer while trustedProxyHeader is configured), the address the
 * proxy forwarded (Forwarded, else X-Forwarded-For; auth_client_address).
 *
 * Everything here is pure; auth_password_ok costs tens of milliseconds by
 * design (crypt): call it off the loop thread; it touches nothing shared.
 * Reading the users file and drawing the CSRF key (auth_users_load,
 * auth_init) are the service layer's, in service/auth_load.h.
 */
#ifndef PIPELINED_AUTH_H
#define PIPELINED_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define AUTH_NAME_MAX 64		/* operator name, bytes */
#define AUTH_EMAIL_MAX 254
#define AUTH_PASSWORD_MAX 256
#define AUTH_HASH_MAX 256
#define AUTH_USERS_MAX 1000
#define AUTH_USERS_FILE_MAX (256u * 1024)
#define AUTH_BCRYPT_MIN_COST 10
#define AUTH_CSRF_TTL_S (8 * 3600)	/* one working day */
#define AUTH_CSRF_MAX 96		/* token text, with its NUL */
#define AUTH_FAIL_LIMIT 5		/* per operator name */
#define AUTH_FAIL_LIMIT_ADDR 20		/* per client address, any names */
#define AUTH_FAIL_WINDOW_MS (5 * 60 * 1000)
#define AUTH_LOCKOUT_MS (5 * 60 * 1000)
#define AUTH_FAIL_SLOTS 512		/* names and addresses remembered */

struct auth_user {
	char name[AUTH_NAME_MAX + 1];
	char hash[AUTH_HASH_MAX + 1];
	char email[AUTH_EMAIL_MAX + 1];	/* "" when the file gives none */
};

struct auth_users {
	struct auth_user *v;
	size_t n;
};

struct auth_fail_slot {
	char key[80];		/* "addr <address>" or "name <operator>" */
	unsigned count;
	uint64_t first_ms;	/* start of the counting window */
	uint64_t until_ms;	/* locked out before this */
	uint64_t seq;		/* when last touched, in auth.fail_seq ticks */
};

struct auth {
	struct auth_users users;
	bool have_users;			/* a users file is configured */
	char proxy_header[64];			/* "" when not configured */
	char host[128];				/* for name@host */
	unsigned char key[32];			/* CSRF HMAC key */
	struct auth_fail_slot fails[AUTH_FAIL_SLOTS];
	uint64_t fail_seq;
};

/* An operator: who, and the e-mail for the Requested-By trailer. */
struct auth_operator {
	char name[AUTH_NAME_MAX + 1];
	char email[AUTH_EMAIL_MAX + 1];
};

/* Parse a users file's text.  Blank lines and lines starting with '#' are
 * skipped.  Every problem is appended to errors as "file:line: what\n"
 * (file = the name given), and then ERR_INVALID is returned with *out
 * untouched. */
int auth_users_parse(struct auth_users *out, const char *file, const char *text, size_t len,
		     struct buf *errors);
void auth_users_release(struct auth_users *u);
const struct auth_user *auth_users_find(const struct auth_users *u, const char *name);

/* NULL when hash is an accepted crypt(3) setting; else why not. */
const char *auth_hash_refusal(const char *hash);
/* Whether password matches hash (crypt_rn; constant-time compare of the
 * results).  Blocking and thread-safe. */
bool auth_password_ok(const char *hash, const char *password);
/* The hash to check a password against, and whether a match counts: an
 * unknown name is checked against another user's hash and never counts,
 * so it costs the same time as a known one (no user enumeration by
 * timing).  NULL when there are no users. */
const char *auth_hash_for(const struct auth_users *u, const char *name, bool *counts);

/* An operator name: 1..AUTH_NAME_MAX of [A-Za-z0-9._@+-], not starting
 * with '-' or '.'. */
bool auth_name_valid(const char *s);
/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool auth_is_loopback(const char *remote);

/* Decode an "Authorization: Basic ..." value into name and password.
 * ERR_INVALID when it is not Basic, not base64, has no ':' or a part is too
 * long or empty. */
int auth_basic_parse(char name[AUTH_NAME_MAX + 1], char password[AUTH_PASSWORD_MAX + 1],
		     const char *header);

void auth_release(struct auth *a);

/* Whether any write path is configured; why not in why. */
bool auth_writes_enabled(const struct auth *a, char *why, size_t whysz);

/* The proxy header's operator.  1 when the header is configured, the
 * connection is from loopback and the value is a valid name (out filled);
 * 0 when the proxy path does not apply; ERR_INVALID (why filled) when the
 * header came from loopback with a value that is not a valid name. */
int auth_proxy_operator(struct auth_operator *out, const struct auth *a, const char *remote,
			const char *header_value, char *why, size_t whysz);
/* The operator of a users-file entry (name@host when it has no e-mail). */
void auth_operator_of(struct auth_operator *out, const struct auth *a, const struct auth_user *u);

/* CSRF tokens; now_s is wall-clock seconds. */
int auth_csrf_issue(char out[AUTH_CSRF_MAX], const struct auth *a, const char *name,
		    int64_t now_s);
/* 0 valid; ERR_TIMEOUT expired; ERR_INVALID malformed, tampered or
 * another operator's. */
int auth_csrf_check(const struct auth *a, const char *token, const char *name, int64_t now_s);

/* The client address to count and log for a request from peer (the TCP
 * peer): from the trusted proxy, the last node of Forwarded's for= (or, if
 * there is no Forwarded, the last X-Forwarded-For entry), which is the one
 * the proxy itself appended -- earlier ones are whatever the client sent;
 * else, or when that value is not an IP address, peer itself.  Forwarded
 * headers from any other peer are ignored: anyone can send them. */
void auth_client_address(char out[64], const struct auth *a, const char *peer,
			 const char *forwarded, const char *x_forwarded_for);

/* Failed-login throttle; now_ms is monotonic; name may be NULL (credentials
 * that could not be read).  auth_throttled returns the milliseconds left of
 * a lockout of the address or of the name (0: go ahead). */
uint64_t auth_throttled(struct auth *a, const char *remote, const char *name, uint64_t now_ms);
void auth_fail_record(struct auth *a, const char *remote, const char *name, uint64_t now_ms);
/* A successful login: forget the name's failures and the address's. */
void auth_fail_clear(struct auth *a, const char *remote, const char *name);

#endif
