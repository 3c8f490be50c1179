/* clock_load.c - the edge of the market clock: reads the zone file and the
 * calendar file and hands their bytes to the pure parsers in clock.c.  The
 * configuration ([market] timezone, calendar) will pass its values here. */
#include "clock_load.h"
#include "sysio.h"

#include <stdlib.h>
#include <string.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define DEFAULT_ZONE "America/New_York"
#define TZIF_MAX (1024 * 1024)

/* A zone name is a relative path under ZONEINFO_DIR: refuse anything that
 * could climb out of it. */
static bool zone_name_ok(const char *z)
{
	if (!*z || *z == '/' || strstr(z, ".."))
		return false;
	for (; *z; z++)
		if (!((*z >= 'A' && *z <= 'Z') || (*z >= 'a' && *z <= 'z') ||
		      (*z >= '0' && *z <= '9') || strchr("/_+-", *z)))
			return false;
	return true;
}

static int load_builtin(struct tz_rule *out, struct buf *source, struct buf *err)
{
	int rc = tz_rule_parse(out, CLOCK_BUILTIN_TZ, err);

	if (!rc && source)
		buf_adds(source, "built-in");
	return rc;
}

int clock_load_tz(struct tz_rule *out, struct buf *source, const char *zone, struct buf *err)
{
	const char *env = getenv("PIPELINED_ZONEINFO");
	struct buf path = BUF_INIT, data;
	char footer[256];
	int rc;

	zone = zone ? zone : DEFAULT_ZONE;
	if (!zone_name_ok(zone)) {
		buf_printf(err, "invalid time zone name '%s'", zone);
		return ERR_INVALID;
	}
	if (env && *env)
		rc = buf_adds(&path, env);
	else
		rc = buf_printf(&path, "%s/%s", ZONEINFO_DIR, zone);
	if (rc)
		return rc;
	rc = file_read(&data, path.data, TZIF_MAX);
	if (rc == ERR_NOTFOUND && strcmp(zone, DEFAULT_ZONE) == 0) {
		rc = load_builtin(out, source, err);
		goto out;
	}
	if (rc) {
		char why[160];

		file_error(why, sizeof(why), path.data, rc, TZIF_MAX);
		buf_printf(err, "cannot read time zone file '%s': %s", path.data,
			   rc == ERR_TOOBIG ? "too large" : rc == ERR_NOTFOUND ? "not found" : why);
		goto out;
	}
	rc = tz_tzif_footer(footer, sizeof(footer), data.data, data.len, err);
	if (rc == ERR_NOTFOUND)
		buf_adds(err, "no POSIX TZ rule in the footer");
	if (!rc)
		rc = tz_rule_parse(out, footer, err);
	if (rc)
		buf_printf(err, " (in '%s')", path.data);
	else if (source)
		buf_adds(source, path.data);
	buf_release(&data);
out:
	buf_release(&path);
	return rc;
}

int clock_load_calendar(struct calendar *out, struct buf *source, const char *path,
			struct buf *err)
{
	const char *env = getenv("PIPELINED_CALENDAR");
	struct buf data, shipped = BUF_INIT;
	int rc;

	if ((!path || !*path) && env && *env)
		path = env;
	if (!path || !*path) {
		if (datafile_path(&shipped, "nyse.calendar")) {
			buf_release(&shipped);
			return ERR_NOMEM;
		}
		path = shipped.data;
	}
	rc = file_read(&data, path, CAL_FILE_MAX);
	if (rc) {
		char why[160];

		file_error(why, sizeof(why), path, rc, CAL_FILE_MAX);
		buf_printf(err, "cannot read calendar '%s': %s", path,
			   rc == ERR_TOOBIG ? "too large" : rc == ERR_NOTFOUND ? "not found" : why);
		buf_release(&shipped);
		return rc;
	}
	rc = calendar_parse(out, data.data, data.len, path, err);
	if (!rc && source)
		buf_adds(source, path);
	buf_release(&data);
	buf_release(&shipped);
	return rc;
}
