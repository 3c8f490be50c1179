/* notify.c - see notify.h */
#include "notify.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

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
		sd_notify(0, "WATCHDOG=1");
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
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
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
		return sd_notify(0, state) < 0 ? ERR_IO : 0;
	status_line(line, sizeof(line), status);
	return sd_notifyf(0, "%s%sSTATUS=%s", state, *state ? "\n" : "", line) < 0
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
	return sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			  (unsigned long long)ts.tv_sec * 1000000ULL
				  + (unsigned long long)ts.tv_nsec / 1000) < 0 ? ERR_IO : 0;
}

int notify_stopping(struct notify *n)
{
	return sd_notify(0, "STOPPING=1") < 0 ? ERR_IO : 0;
}
