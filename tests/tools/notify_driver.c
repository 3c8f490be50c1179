/* notify_driver - runs notify.c through a fixed script on a libuv loop, for
 * tests/e2e/notify.sh, which listens on NOTIFY_SOCKET:
 *
 *   0 ms     READY=1 + STATUS=started
 *   50 ms    STATUS=serving
 *   600 ms   STATUS=phase unhealthy   (health predicate false: no WATCHDOG=1)
 *   1100 ms  STATUS=phase healthy     (pings resume)
 *   1500 ms  RELOADING=1, 1550 ms READY=1 + STATUS=reloaded
 *   1700 ms  STOPPING=1, then every handle is closed and the loop ends.
 *
 * Prints "watchdog_ms=N pings=N" on exit.
 */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "notify.h"

struct step {
	uint64_t at_ms;
	void (*fn)(void);
};

static struct notify *nt;
static bool healthy = true;
static uv_timer_t script;
static size_t next_step;

static bool health_cb(void *arg, uint64_t now_ms)
{
	return healthy;
}

static void s_ready(void) { notify_ready(nt, "started"); }
static void s_serving(void) { notify_status(nt, "serving\n(second line is folded)"); }
static void s_sick(void) { healthy = false; notify_status(nt, "phase unhealthy"); }
static void s_well(void) { healthy = true; notify_status(nt, "phase healthy"); }
static void s_reloading(void) { notify_reloading(nt); }
static void s_reloaded(void) { notify_ready(nt, "reloaded"); }
static void s_stop(void) { notify_stopping(nt); }

static const struct step steps[] = {
	{ 0, s_ready }, { 50, s_serving }, { 600, s_sick }, { 1100, s_well },
	{ 1500, s_reloading }, { 1550, s_reloaded }, { 1700, s_stop },
};

static void script_cb(uv_timer_t *t)
{
	static uint64_t start;

	if (next_step == 0)
		start = uv_now(t->loop);
	while (next_step < sizeof(steps) / sizeof(steps[0])
	       && uv_now(t->loop) - start >= steps[next_step].at_ms)
		steps[next_step++].fn();
	if (next_step == sizeof(steps) / sizeof(steps[0])) {
		printf("watchdog_ms=%llu pings=%lu\n",
		       (unsigned long long)notify_watchdog_ms(nt), notify_pings(nt));
		notify_free(nt);
		uv_close((uv_handle_t *)t, NULL);
	}
}

int main(void)
{
	uv_loop_t loop;

	uv_loop_init(&loop);
	if (notify_new(&nt, &loop, health_cb, NULL)) {
		fprintf(stderr, "notify_new failed\n");
		return 1;
	}
	uv_timer_init(&loop, &script);
	uv_timer_start(&script, script_cb, 0, 10);
	uv_run(&loop, UV_RUN_DEFAULT);
	return uv_loop_close(&loop) == 0 ? 0 : 1;
}
