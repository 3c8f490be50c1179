/* auth_load.h - the I/O half of operator authentication: the users file
 * and the CSRF key.  Everything else (parsing, checks, tokens, throttle) is
 * the pure core/auth.h, which this includes. */
#ifndef PIPELINED_AUTH_LOAD_H
#define PIPELINED_AUTH_LOAD_H

#include "auth.h"

/* Read and parse path (at most AUTH_USERS_FILE_MAX bytes). */
int auth_users_load(struct auth_users *out, const char *path, struct buf *errors);
/* users_path and proxy_header may be NULL.  Draws the CSRF key
 * (getrandom) and reads the host name; the users file is loaded now; on
 * failure errors has its file:line lines and a is released. */
int auth_init(struct auth *a, const char *users_path, const char *proxy_header,
	      struct buf *errors);

#endif
