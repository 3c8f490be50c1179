/* libFuzzer target: the TZif footer extractor and the POSIX TZ rule parser
 * (both read from a file the daemon does not control), then the evaluator
 * on whatever rule parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct tz_rule *r)
{
	static const int64_t instants[] = { 0, 1772953200, 1793512800, 4102444800, -2208988800 };
	struct market_hours hours = { CLOCK_DEFAULT_OPEN, CLOCK_DEFAULT_CLOSE };
	struct window w;
	struct tm tm;
	int32_t off;

	for (size_t i = 0; i < sizeof(instants) / sizeof(*instants); i++) {
		if (tz_rule_localtime(&tm, &off, r, (time_t)instants[i]))
			abort();
		if (off != r->std_off && off != r->dst_off)
			abort();
		/* Odd rules may leave no session (ERR_INVALID); they must not crash. */
		clock_window(&w, (time_t)instants[i], r, NULL, &hours);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char footer[256], *s;
	struct tz_rule r;

	if (tz_tzif_footer(footer, sizeof(footer), data, size, NULL) == 0 &&
	    tz_rule_parse(&r, footer, NULL) == 0)
		exercise(&r);
	/* The same bytes as a bare rule string. */
	if (size > 256 || !(s = xstrndup((const char *)data, size)))
		return 0;
	if (strlen(s) == size && tz_rule_parse(&r, s, NULL) == 0)
		exercise(&r);
	free(s);
	return 0;
}
