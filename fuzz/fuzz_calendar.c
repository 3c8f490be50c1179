/* libFuzzer target: the calendar parser, then the window over the parsed
 * calendar, so a calendar that parses can never make the window misbehave,
 * and every parsed exception must be what calendar_day answers for its
 * date (an 'open' line a regular session, the others themselves). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t instants[] = { 1773063000, 1795806060, 1764000000, 1861920000 };
	struct market_hours hours = { CLOCK_DEFAULT_OPEN, CLOCK_DEFAULT_CLOSE };
	struct calendar cal;
	struct tz_rule tz;
	struct buf err = BUF_INIT;
	struct window w;
	char out[256];

	if (calendar_parse(&cal, (const char *)data, size, "fuzz", &err) == 0) {
		if (tz_rule_parse(&tz, CLOCK_BUILTIN_TZ, NULL))
			abort();
		for (size_t i = 0; i < cal.n; i++) {
			struct cal_day e;
			bool special = calendar_day(&e, &cal, cal.days[i].day);

			if (special != (cal.days[i].close_min != CAL_OPEN))
				abort();
			if (special && e.close_min != cal.days[i].close_min)
				abort();
		}
		for (size_t i = 0; i < sizeof(instants) / sizeof(*instants); i++) {
			if (clock_window(&w, (time_t)instants[i], &tz, &cal, &hours))
				abort();	/* a parsed calendar always leaves a next session */
			if (w.next_open <= w.now && !w.open)
				abort();
			clock_format_status(out, sizeof(out), &w);
		}
		calendar_release(&cal);
	} else if (!err.data || !*err.data) {
		abort();	/* every refusal says why */
	}
	buf_release(&err);
	return 0;
}
