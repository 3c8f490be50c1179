/* notify.c - see notify.h */
#include "notify.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The notification protocol itself, instead of libsystemd: one datagram
 * of "KEY=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a
 * leading '@' names the abstract namespace), the watchdog interval from
 * $WATCHDOG_USEC when $WATCHDOG_PID is unset or ours.  That is all the
 * daemon used of libsystemd, which cost it seven more shared libraries
 * (gcrypt, lzma, zstd, lz4, cap, gpg-error) resident at idle. */
static int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = path ? strlen(path) : 0;
	socklen_t salen;
	ssize_t n;
	int fd;

	if (!path)
		return 0;	/* not run by systemd: nothing to tell */
	if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof sa.sun_path)
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 1;
}

/* > 0 and *usec set when systemd wants watchdog pings from this process. */
static int watchdog_usec(uint64_t *usec)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (!us || !*us)
		return 0;
	errno = 0;
	v = strtoull(us, &end, 10);
	if (errno || *end || us[0] == '-' || v == 0 || v > 86400ULL * 1000000ULL)
		return 0;
	if (pid && *pid) {
		long p;

		errno = 0;
		p = strtol(pid, &end, 10);
		if (errno || *end || p != (long)getpid())
			return 0;
	}
	*usec = v;
	return 1;
}

static int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int notify_sendf(const char *fmt, ...)
{
	char msg[NOTIFY_STATUS_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return notify_send(msg);
}

struct notify {
	uv_timer_t timer;
	bool timer_on;
	uint64_t watchdog_ms;
	notify_health_fn healthy;
	void *arg;
	bool withheld;		/* last tick skipped the ping */
	unsigned long pings;
};

static void watchdog_cb(uv_timer_t *t)
{
	struct notify *n = t->data;
	bool ok = !n->healthy || n->healthy(n->arg, uv_now(t->loop));

	if (ok) {
		notify_send("WATCHDOG=1");
		n->pings++;
		if (n->withheld)
			log_notice("notify", "daemon healthy again, watchdog pings resumed");
	} else if (!n->withheld) {
		log_warn("notify", "daemon unhealthy, withholding watchdog pings "
			 "(systemd restarts it after %llums)",
			 (unsigned long long)n->watchdog_ms);
	}
	n->withheld = !ok;
}

int notify_new(struct notify **out, uv_loop_t *loop, notify_health_fn healthy, void *arg)
{
	struct notify *n = calloc(1, sizeof(*n));
	uint64_t usec = 0;

	if (!n)
		return ERR_NOMEM;
	n->healthy = healthy;
	n->arg = arg;
	uv_timer_init(loop, &n->timer);
	n->timer.data = n;
	uv_unref((uv_handle_t *)&n->timer);
	if (watchdog_usec(&usec) > 0 && usec >= 2000) {
		uint64_t every = usec / 1000 / 2;

		n->watchdog_ms = usec / 1000;
		uv_timer_start(&n->timer, watchdog_cb, every, every);
		n->timer_on = true;
	}
	*out = n;
	return 0;
}

static void close_cb(uv_handle_t *h)
{
	free(h->data);
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	uv_close((uv_handle_t *)&n->timer, close_cb);
}

uint64_t notify_watchdog_ms(const struct notify *n)
{
	return n->watchdog_ms;
}

unsigned long notify_pings(const struct notify *n)
{
	return n->pings;
}

/* STATUS= is one line: newlines would start a new (bogus) assignment. */
static void status_line(char *out, size_t outsz, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < outsz; i++)
		out[i] = (s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
	out[i] = '\0';
}

static int send_with_status(const char *state, const char *status)
{
	char line[NOTIFY_STATUS_MAX + 1];

	if (!status)
		return notify_send(state) < 0 ? ERR_IO : 0;
	status_line(line, sizeof(line), status);
	return notify_sendf("%s%sSTATUS=%s", state, *state ? "\n" : "", line) < 0
		       ? ERR_IO : 0;
}

int notify_ready(struct notify *n, const char *status)
{
	return send_with_status("READY=1", status);
}

int notify_status(struct notify *n, const char *fmt, ...)
{
	char text[NOTIFY_STATUS_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return send_with_status("", text);
}

/* MONOTONIC_USEC is what Type=notify-reload (systemd 253+) needs to match
 * the reload to its request; older systemd ignores it. */
int notify_reloading(struct notify *n)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return notify_sendf("RELOADING=1\nMONOTONIC_USEC=%llu",
			  (unsigned long long)ts.tv_sec * 1000000ULL
				  + (unsigned long long)ts.tv_nsec / 1000) < 0 ? ERR_IO : 0;
}

int notify_stopping(struct notify *n)
{
	return notify_send("STOPPING=1") < 0 ? ERR_IO : 0;
}
