/* notify.h - systemd service notifications and the watchdog, on the loop.
 *
 * Type=notify: the caller says READY=1 once the configuration is loaded
 * and the listeners are bound.  When systemd asked for a watchdog
 * (WATCHDOG_USEC, and WATCHDOG_PID matching if set) a loop timer sends
 * WATCHDOG=1 at half that interval, but only while the caller's health
 * predicate holds: a loop that still turns but whose work is stuck (a git
 * job past its deadline, no cycle for far too long) stops petting the dog
 * and systemd restarts the service.  Without NOTIFY_SOCKET every call is a
 * harmless no-op, so the daemon runs the same in a terminal.
 */
#ifndef PIPELINED_NOTIFY_H
#define PIPELINED_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define NOTIFY_STATUS_MAX 200

struct notify;

/* now_ms is uv_now() of the loop.  Called from the watchdog timer. */
typedef bool (*notify_health_fn)(void *arg, uint64_t now_ms);

/* Start the watchdog timer if systemd wants one.  healthy may be NULL
 * (always healthy).  The timer does not keep the loop alive. */
int notify_new(struct notify **out, uv_loop_t *loop, notify_health_fn healthy, void *arg);
/* Closes the timer; the struct is freed in its close callback. */
void notify_free(struct notify *n);

/* Watchdog interval systemd asked for, in ms (0: none). */
uint64_t notify_watchdog_ms(const struct notify *n);
/* WATCHDOG=1 messages sent so far (for STATUS lines and tests). */
unsigned long notify_pings(const struct notify *n);

/* Each returns 0, or a negative errno-style value if the socket send
 * failed (the caller logs; nothing else depends on it).  status may be
 * NULL; it is cut to one line of at most NOTIFY_STATUS_MAX bytes. */
int notify_ready(struct notify *n, const char *status);
int notify_status(struct notify *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int notify_reloading(struct notify *n);
int notify_stopping(struct notify *n);

#endif
