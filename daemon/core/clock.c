/* clock.c - see clock.h.  Pure: no files, no wall clock, no process TZ. */
#include "clock.h"
#include "nyse_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- civil dates (Howard Hinnant's algorithms) ------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t clock_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void clock_civil_from_days(int64_t *y, int *m, int *d, int64_t days)
{
	int64_t z = days + 719468, era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return md[m - 1] + (m == 2 && is_leap(y));
}

/* 0 = Sunday, as in struct tm; 1970-01-01 was a Thursday. */
static int weekday_of(int64_t days)
{
	return (int)(((days % 7) + 11) % 7);
}

/* ---- POSIX TZ rule parsing ------------------------------------------ */

static int rule_fail(struct buf *err, const char *s, const char *why)
{
	if (err)
		buf_printf(err, "invalid TZ rule '%s': %s", s, why);
	return ERR_INVALID;
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* std or dst name: 3+ letters, or <...> of letters, digits, + and -. */
static const char *parse_name(char *out, const char *s)
{
	const char *b;
	size_t n;

	if (*s == '<') {
		b = ++s;
		while (is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-')
			s++;
		if (*s != '>')
			return NULL;
		n = (size_t)(s - b);
		s++;
	} else {
		b = s;
		while (is_alpha(*s))
			s++;
		n = (size_t)(s - b);
	}
	if (n < 3 || n >= TZ_NAME_MAX)
		return NULL;
	memcpy(out, b, n);
	out[n] = '\0';
	return s;
}

/* Up to maxdigits decimal digits into [0, max]. */
static const char *parse_num(int *out, const char *s, int maxdigits, int max)
{
	int v = 0, k = 0;

	while (is_digit(*s) && k < maxdigits) {
		v = v * 10 + (*s++ - '0');
		k++;
	}
	if (!k || is_digit(*s) || v > max)
		return NULL;
	*out = v;
	return s;
}

/* [+-]h[h[h]][:mm[:ss]], hours up to maxh. */
static const char *parse_hms(int32_t *out, const char *s, int maxh)
{
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!(s = parse_num(&h, s, 3, maxh)))
		return NULL;
	if (*s == ':') {
		if (!(s = parse_num(&m, s + 1, 2, 59)))
			return NULL;
		if (*s == ':' && !(s = parse_num(&sec, s + 1, 2, 59)))
			return NULL;
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return s;
}

static const char *parse_date(struct tz_date *d, const char *s)
{
	memset(d, 0, sizeof(*d));
	if (*s == 'M') {
		d->kind = TZ_DATE_MWD;
		if (!(s = parse_num(&d->month, s + 1, 2, 12)) || d->month < 1 || *s++ != '.' ||
		    !(s = parse_num(&d->week, s, 1, 5)) || d->week < 1 || *s++ != '.' ||
		    !(s = parse_num(&d->wday, s, 1, 6)))
			return NULL;
	} else if (*s == 'J') {
		d->kind = TZ_DATE_JULIAN1;
		if (!(s = parse_num(&d->yday, s + 1, 3, 365)) || d->yday < 1)
			return NULL;
	} else {
		d->kind = TZ_DATE_JULIAN0;
		if (!(s = parse_num(&d->yday, s, 3, 365)))
			return NULL;
	}
	d->secs = 2 * 3600;	/* POSIX default: 02:00:00 local */
	/* RFC 8536 3.3.1 extends the hour to -167..167 (e.g. "M3.5.0/-2"). */
	if (*s == '/' && !(s = parse_hms(&d->secs, s + 1, 167)))
		return NULL;
	return s;
}

int tz_rule_parse(struct tz_rule *out, const char *s, struct buf *err)
{
	struct tz_rule r;
	const char *p = s;
	int32_t off;

	memset(&r, 0, sizeof(r));
	if (!s || !*s)
		return rule_fail(err, s ? s : "", "empty");
	if (!(p = parse_name(r.std_name, p)))
		return rule_fail(err, s, "bad standard-time name (3+ letters or <...>)");
	if (!(p = parse_hms(&off, p, 24)))
		return rule_fail(err, s, "bad or missing UTC offset after the standard-time name");
	r.std_off = -off;	/* POSIX offsets are positive WEST of Greenwich */
	if (!*p) {
		*out = r;
		return 0;
	}
	if (!(p = parse_name(r.dst_name, p)))
		return rule_fail(err, s, "bad daylight-time name");
	r.dst_off = r.std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = parse_hms(&off, p, 24)))
			return rule_fail(err, s, "bad daylight-time offset");
		r.dst_off = -off;
	}
	if (!*p) {
		/* No dates: POSIX leaves this to the implementation; tzcode and
		 * glibc fall back to the US rules, and so do we. */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p++ != ',' || !(p = parse_date(&r.start, p)))
		return rule_fail(err, s, "bad DST start date (Mm.w.d, Jn or n, optional /time)");
	if (*p++ != ',' || !(p = parse_date(&r.end, p)))
		return rule_fail(err, s, "bad DST end date (Mm.w.d, Jn or n, optional /time)");
	if (*p)
		return rule_fail(err, s, "trailing characters");
	r.has_dst = true;
	*out = r;
	return 0;
}

/* ---- TZif footer ------------------------------------------------------ */

static uint64_t be32(const unsigned char *p)
{
	return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
}

/* Size of one TZif header plus its data block (RFC 8536 3.1, 3.2), where
 * time values are tsize bytes (4 in v1, 8 in v2+); 0 if truncated. */
static uint64_t tzif_block(const unsigned char *p, size_t avail, unsigned tsize)
{
	uint64_t isut, isstd, leap, timecnt, typecnt, charcnt, n;

	if (avail < 44 || memcmp(p, "TZif", 4) != 0)
		return 0;
	isut = be32(p + 20);
	isstd = be32(p + 24);
	leap = be32(p + 28);
	timecnt = be32(p + 32);
	typecnt = be32(p + 36);
	charcnt = be32(p + 40);
	n = 44 + timecnt * (tsize + 1) + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
	return n <= avail ? n : 0;
}

static int footer_fail(struct buf *err, const char *why)
{
	if (err)
		buf_printf(err, "bad TZif data: %s", why);
	return ERR_INVALID;
}

int tz_tzif_footer(char *out, size_t outsz, const void *data, size_t len, struct buf *err)
{
	const unsigned char *p = data;
	uint64_t v1, v2;
	size_t off, end;

	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return footer_fail(err, "not a TZif file");
	if (p[4] == '\0')
		return footer_fail(err, "version 1 file has no footer rule");
	if (p[4] < '2' || p[4] > '9')
		return footer_fail(err, "unknown version");
	if (!(v1 = tzif_block(p, len, 4)))
		return footer_fail(err, "truncated version 1 block");
	if (!(v2 = tzif_block(p + v1, len - v1, 8)))
		return footer_fail(err, "truncated or missing version 2 block");
	off = (size_t)(v1 + v2);
	if (off >= len || p[off] != '\n')
		return footer_fail(err, "missing footer");
	for (end = off + 1; end < len && p[end] != '\n'; end++)
		if (p[end] < 0x20 || p[end] > 0x7e)
			return footer_fail(err, "footer is not printable text");
	if (end == len)
		return footer_fail(err, "unterminated footer");
	if (end - off - 1 >= outsz)
		return footer_fail(err, "footer too long");
	if (end == off + 1)
		return ERR_NOTFOUND;
	memcpy(out, p + off + 1, end - off - 1);
	out[end - off - 1] = '\0';
	return 0;
}

/* ---- TZ rule evaluation ----------------------------------------------- */

static int64_t tz_date_day(int64_t year, const struct tz_date *d)
{
	int64_t jan1 = clock_days_from_civil(year, 1, 1), first, day;
	int ml;

	switch (d->kind) {
	case TZ_DATE_JULIAN1:
		/* Jn never counts February 29: day 60 is always March 1. */
		return jan1 + d->yday - 1 + (is_leap(year) && d->yday >= 60);
	case TZ_DATE_JULIAN0:
		return jan1 + d->yday;
	case TZ_DATE_MWD:
	default:
		break;
	}
	first = clock_days_from_civil(year, d->month, 1);
	day = first + (d->wday - weekday_of(first) + 7) % 7 + 7 * (d->week - 1);
	ml = month_days(year, d->month);
	while (day - first >= ml)
		day -= 7;	/* week 5 means "the last" */
	return day;
}

/* UTC instant of a transition; d->secs is local time in the offset that
 * was in effect just before it. */
static int64_t tz_date_utc(int64_t year, const struct tz_date *d, int32_t off_before)
{
	return tz_date_day(year, d) * 86400 + d->secs - off_before;
}

/* The DST transitions of the years year-1..year+1, as UTC instants: the
 * rule's start (into DST) at even indexes, its end at the odd ones.  The
 * neighbouring years matter for southern-hemisphere rules and for dates
 * pushed across New Year by a /time beyond 24h. */
#define TZ_AROUND 6

static void tz_transitions(int64_t at[TZ_AROUND], const struct tz_rule *r, int64_t year)
{
	for (int i = 0; i < TZ_AROUND / 2; i++) {
		at[2 * i] = tz_date_utc(year - 1 + i, &r->start, r->std_off);
		at[2 * i + 1] = tz_date_utc(year - 1 + i, &r->end, r->dst_off);
	}
}

/* Instants the rule is evaluated for: +-2^50 s (35 million years) keeps
 * every intermediate day and second count far from overflow. */
#define T_RULE_LIMIT (INT64_C(1) << 50)

int32_t tz_rule_offset(const struct tz_rule *r, time_t t, bool *is_dst)
{
	int64_t y, best = INT64_MIN;
	int m, d;
	bool dst = false;

	if (r->has_dst && t > -T_RULE_LIMIT && t < T_RULE_LIMIT) {
		int64_t at[TZ_AROUND];

		/* The latest transition at or before t decides. */
		clock_civil_from_days(&y, &m, &d, floor_div((int64_t)t, 86400));
		tz_transitions(at, r, y);
		for (size_t i = 0; i < TZ_AROUND; i += 2) {
			int64_t s = at[i], e = at[i + 1];

			if (e <= t && e > best) {
				best = e;
				dst = false;
			}
			if (s <= t && s >= best) {
				best = s;
				dst = true;
			}
		}
	}
	if (is_dst)
		*is_dst = dst;
	return dst ? r->dst_off : r->std_off;
}

int tz_rule_localtime(struct tm *out, int32_t *off, const struct tz_rule *r, time_t t)
{
	int32_t o = tz_rule_offset(r, t, NULL);
	time_t shifted;
	struct tm tm;

	if (t <= -T_RULE_LIMIT || t >= T_RULE_LIMIT)
		return ERR_INVALID;
	shifted = t + o;
	if (!gmtime_r(&shifted, &tm))
		return ERR_INVALID;
	*out = tm;
	if (off)
		*off = o;
	return 0;
}

const char *tz_rule_abbrev(const struct tz_rule *r, time_t t)
{
	bool dst;

	tz_rule_offset(r, t, &dst);
	return dst ? r->dst_name : r->std_name;
}

/* ---- calendar --------------------------------------------------------- */

#define CAL_LINE_MAX 512
#define CAL_ERRORS_MAX 50

struct cal_parser {
	const char *name;
	struct buf *err;
	unsigned line, errors;
	bool have_covers;
	struct calendar cal;
	size_t cap;
};

static void cal_error(struct cal_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cal_error(struct cal_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (++p->errors > CAL_ERRORS_MAX)
		return;
	if (!p->err)
		return;
	buf_printf(p->err, "%s:%u: ", p->name, p->line);
	if (p->errors == CAL_ERRORS_MAX) {
		buf_adds(p->err, "too many errors, stopping\n");
		return;
	}
	va_start(ap, fmt);
	buf_vprintf(p->err, fmt, ap);
	va_end(ap);
	buf_addch(p->err, '\n');
}

/* Exactly "YYYY-MM-DD". */
static int parse_ymd(int64_t *y, int *m, int *d, const char *s)
{
	int yy, mm, dd;
	const char *p;

	if (strlen(s) != 10 || !(p = parse_num(&yy, s, 4, 9999)) || p != s + 4 || *p != '-' ||
	    !(p = parse_num(&mm, p + 1, 2, 12)) || p != s + 7 || *p != '-' ||
	    !(p = parse_num(&dd, p + 1, 2, 31)) || *p)
		return ERR_INVALID;
	if (mm < 1 || dd < 1 || dd > month_days(yy, mm))
		return ERR_INVALID;
	*y = yy;
	*m = mm;
	*d = dd;
	return 0;
}

int clock_parse_hhmm(int *out_min, const char *s)
{
	int h, m;
	const char *p;

	if (!s || strlen(s) != 5 || !(p = parse_num(&h, s, 2, 23)) || p != s + 2 || *p != ':' ||
	    !(p = parse_num(&m, p + 1, 2, 59)) || *p)
		return ERR_INVALID;
	*out_min = h * 60 + m;
	return 0;
}

/* Split off the next space-separated word; returns it, advances *rest. */
static char *next_word(char **rest)
{
	char *s = *rest, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s) {
		*rest = s;
		return NULL;
	}
	w = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	*rest = s;
	return w;
}

static void cal_covers(struct cal_parser *p, char *rest)
{
	char *arg = next_word(&rest);
	int a, b;
	const char *q;

	if (p->have_covers) {
		cal_error(p, "duplicate 'covers' line");
		return;
	}
	if (p->cal.n) {
		cal_error(p, "'covers' must come before the first date");
		return;
	}
	if (!arg || *rest || !(q = parse_num(&a, arg, 4, 9999)) || q != arg + 4 || *q != '-' ||
	    !(q = parse_num(&b, q + 1, 4, 9999)) || *q || a < 1970 || b < a || b - a > 100) {
		cal_error(p, "expected 'covers FIRST-LAST' with years, e.g. 'covers 2026-2028'");
		return;
	}
	p->have_covers = true;
	p->cal.first_year = a;
	p->cal.last_year = b;
	p->cal.first_day = (int32_t)clock_days_from_civil(a, 1, 1);
	p->cal.last_day = (int32_t)clock_days_from_civil(b, 12, 31);
}

static bool name_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static int cal_add(struct cal_parser *p, int32_t day, int close_min, const char *name)
{
	struct cal_day *e;

	if (p->cal.n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct cal_day *n = realloc(p->cal.days, cap * sizeof(*n));

		if (!n)
			return ERR_NOMEM;
		p->cal.days = n;
		p->cap = cap;
	}
	e = &p->cal.days[p->cal.n++];
	e->day = day;
	e->close_min = (int16_t)close_min;
	strlcpy_(e->name, name, sizeof(e->name));
	return 0;
}

static const struct cal_day *find_day(const struct cal_day *days, size_t n, int32_t day);

/* The kind word and what follows it: closed NAME, close HH:MM NAME, or
 * open NAME.  *close_min gets CAL_CLOSED, the time, or CAL_OPEN. */
static bool cal_kind(struct cal_parser *p, int *close_min, char **rest, const char *date)
{
	char *kind = next_word(rest), *hhmm;

	if (kind && strcmp(kind, "closed") == 0) {
		*close_min = CAL_CLOSED;
		return true;
	}
	if (kind && strcmp(kind, "open") == 0) {
		*close_min = CAL_OPEN;
		return true;
	}
	if (!kind || strcmp(kind, "close") != 0) {
		cal_error(p, "expected 'closed NAME', 'close HH:MM NAME' or 'open NAME' after %s",
			  date);
		return false;
	}
	hhmm = next_word(rest);
	if (!hhmm || clock_parse_hhmm(close_min, hhmm)) {
		cal_error(p, "expected an early close time HH:MM after 'close'");
		return false;
	}
	return true;
}

/* Where the day sits: inside the covered years, a weekday, new, and an
 * 'open' only where the rules close or shorten the session. */
static bool cal_day_ok(struct cal_parser *p, int32_t day, int close_min, const char *date)
{
	struct cal_day rule;

	if (!p->have_covers) {
		cal_error(p, "date before the 'covers FIRST-LAST' line");
		return false;
	}
	if (day < p->cal.first_day || day > p->cal.last_day) {
		cal_error(p, "%s is outside the covered years %d-%d", date, p->cal.first_year,
			  p->cal.last_year);
		return false;
	}
	if (weekday_of(day) == 0 || weekday_of(day) == 6) {
		cal_error(p, "%s is a %s; the market is closed on weekends anyway", date,
			  weekday_of(day) ? "Saturday" : "Sunday");
		return false;
	}
	if (find_day(p->cal.days, p->cal.n, day)) {
		cal_error(p, "%s is listed twice", date);
		return false;
	}
	if (close_min == CAL_OPEN && !nyse_rules_day(&rule, day)) {
		cal_error(p, "%s is a regular session by the exchange's rules; 'open' only "
			  "overrides a holiday or an early close", date);
		return false;
	}
	if (p->cal.n >= CAL_MAX_DAYS) {
		cal_error(p, "more than %d dates", CAL_MAX_DAYS);
		return false;
	}
	return true;
}

static int cal_date_line(struct cal_parser *p, const char *date, char *rest)
{
	int64_t y;
	int m, d, close_min;
	int32_t day;

	if (parse_ymd(&y, &m, &d, date)) {
		cal_error(p, "'%s' is neither a date (YYYY-MM-DD), 'covers' nor a comment", date);
		return 0;
	}
	day = (int32_t)clock_days_from_civil(y, m, d);
	if (!cal_kind(p, &close_min, &rest, date))
		return 0;
	if (!*rest) {
		cal_error(p, "missing holiday name after %s", date);
		return 0;
	}
	if (strlen(rest) >= CAL_NAME_MAX || !name_ok(rest)) {
		cal_error(p, "holiday name must be printable ASCII, at most %d characters",
			  CAL_NAME_MAX - 1);
		return 0;
	}
	if (!cal_day_ok(p, day, close_min, date))
		return 0;
	return cal_add(p, day, close_min, rest);
}

static int cal_line(struct cal_parser *p, char *line)
{
	size_t n = strlen(line);
	char *rest = line, *w;

	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	w = next_word(&rest);
	if (!w || *w == '#')
		return 0;
	if (strcmp(w, "covers") == 0) {
		cal_covers(p, rest);
		return 0;
	}
	return cal_date_line(p, w, rest);
}

static int cal_day_cmp(const void *a, const void *b)
{
	const struct cal_day *x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

int calendar_parse(struct calendar *out, const char *text, size_t len, const char *name,
		   struct buf *err)
{
	struct cal_parser p = { .name = name ? name : "calendar", .err = err };
	char line[CAL_LINE_MAX + 1];
	size_t i = 0;
	int rc = 0;

	if (len > CAL_FILE_MAX) {
		if (err)
			buf_printf(err, "%s: file larger than %d bytes\n", p.name, CAL_FILE_MAX);
		return ERR_INVALID;
	}
	while (i < len && !rc) {
		size_t s = i, ll;

		while (i < len && text[i] != '\n')
			i++;
		ll = i - s;
		p.line++;
		if (i < len)
			i++;
		if (memchr(text + s, '\0', ll))
			cal_error(&p, "NUL byte in line");
		else if (ll > CAL_LINE_MAX)
			cal_error(&p, "line longer than %d bytes", CAL_LINE_MAX);
		else {
			memcpy(line, text + s, ll);
			line[ll] = '\0';
			rc = cal_line(&p, line);
		}
		/* Keep entries sorted so find_day can bisect during the parse. */
		if (p.cal.n > 1 && p.cal.days[p.cal.n - 1].day < p.cal.days[p.cal.n - 2].day)
			qsort(p.cal.days, p.cal.n, sizeof(*p.cal.days), cal_day_cmp);
	}
	if (!rc && !p.have_covers && !p.errors) {
		p.line = p.line ? p.line : 1;
		cal_error(&p, "missing 'covers FIRST-LAST' line");
	}
	if (rc || p.errors) {
		free(p.cal.days);
		return rc ? rc : ERR_INVALID;
	}
	*out = p.cal;
	return 0;
}

void calendar_release(struct calendar *c)
{
	if (!c)
		return;
	free(c->days);
	memset(c, 0, sizeof(*c));
}

static const struct cal_day *find_day(const struct cal_day *days, size_t n, int32_t day)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (days[mid].day == day)
			return &days[mid];
		if (days[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct cal_day *calendar_find(const struct calendar *c, int32_t day)
{
	return c ? find_day(c->days, c->n, day) : NULL;
}

bool calendar_day(struct cal_day *out, const struct calendar *c, int64_t day)
{
	const struct cal_day *e = NULL;

	if (day >= INT32_MIN && day <= INT32_MAX)
		e = calendar_find(c, (int32_t)day);
	if (!e)
		return nyse_rules_day(out, day);
	if (e->close_min == CAL_OPEN)
		return false;
	*out = *e;
	return true;
}

/* ---- the window ------------------------------------------------------- */

/* Scan horizon for the next session: longer than any calendar can close
 * the market, so running out means bad input.  The longest closure is
 * CAL_MAX_DAYS consecutive weekdays from the file, lengthened by the rules'
 * days in between (at most 13 a year, early closes included when the
 * configured open is 13:00 or later, over the ~17 years that spans):
 * about 4320 weekdays or 6050 days (test_calendar_longest_closure). */
#define SCAN_DAYS 8000
/* Instants the window reasons about: years 1900..9000. */
#define T_MIN (-2208988800LL)
#define T_MAX (221845392000LL)

enum day_kind { DAY_SESSION, DAY_EARLY, DAY_WEEKEND, DAY_HOLIDAY };

struct session {
	enum day_kind kind;
	bool special;		/* entry holds the day's holiday or early close */
	struct cal_day entry;
	time_t open, close;	/* valid for DAY_SESSION and DAY_EARLY */
};

/* The UTC instant of local wall time min on civil day day.  In a fold
 * (the hour repeated when DST ends) the earlier instant; in a gap (the hour
 * skipped when it starts) the wall time shifted forward by the gap. */
static time_t local_to_utc(const struct tz_rule *tz, int64_t day, int min)
{
	int64_t local = day * 86400 + (int64_t)min * 60;
	time_t a = (time_t)(local - tz->std_off), b = (time_t)(local - tz->dst_off);
	bool a_ok = tz_rule_offset(tz, a, NULL) == tz->std_off;
	bool b_ok = tz->has_dst && tz_rule_offset(tz, b, NULL) == tz->dst_off;

	if (a_ok && b_ok)
		return a < b ? a : b;
	if (a_ok)
		return a;
	if (b_ok)
		return b;
	return a > b ? a : b;
}

static void session_of(struct session *s, int64_t day, const struct tz_rule *tz,
		       const struct calendar *cal, const struct market_hours *h)
{
	int wd = weekday_of(day), close = h->close_min;

	memset(s, 0, sizeof(*s));
	if (wd == 0 || wd == 6) {
		s->kind = DAY_WEEKEND;
		return;
	}
	s->special = calendar_day(&s->entry, cal, day);
	s->kind = DAY_SESSION;
	if (s->special) {
		if (s->entry.close_min < 0 || s->entry.close_min <= h->open_min) {
			s->kind = DAY_HOLIDAY;
			return;
		}
		if (s->entry.close_min < close) {
			close = s->entry.close_min;
			s->kind = DAY_EARLY;
		}
	}
	s->open = local_to_utc(tz, day, h->open_min);
	s->close = local_to_utc(tz, day, close);
}

static void today_reason(struct window *w, const struct session *s, time_t now)
{
	static const enum window_reason by_kind[] = {
		[DAY_WEEKEND] = WINDOW_WEEKEND, [DAY_HOLIDAY] = WINDOW_HOLIDAY,
	};
	bool early = s->kind == DAY_EARLY;

	if (s->special)
		strlcpy_(w->day_name, s->entry.name, sizeof(w->day_name));
	if (s->kind == DAY_WEEKEND || s->kind == DAY_HOLIDAY)
		w->reason = by_kind[s->kind];
	else if (now < s->open)
		w->reason = WINDOW_BEFORE_OPEN;
	else if (now < s->close)
		w->reason = early ? WINDOW_EARLY_SESSION : WINDOW_SESSION;
	else
		w->reason = early ? WINDOW_AFTER_EARLY_CLOSE : WINDOW_AFTER_CLOSE;
}

/* First session (from day on) that has not ended at now. */
static int next_session(struct session *out, int64_t day, time_t now, const struct tz_rule *tz,
			const struct calendar *cal, const struct market_hours *h)
{
	for (int64_t d = day; d < day + SCAN_DAYS; d++) {
		session_of(out, d, tz, cal, h);
		if ((out->kind == DAY_SESSION || out->kind == DAY_EARLY) && out->close > now)
			return 0;
	}
	return ERR_INVALID;
}

static int64_t local_day(const struct tz_rule *tz, time_t t)
{
	return floor_div((int64_t)t + tz_rule_offset(tz, t, NULL), 86400);
}

/* The phase of the local day that holds now: between two of midnight,
 * the session's open and close, midnight, and cut at every DST transition
 * near now, so that the offset is one inside it and the local day cannot
 * fold back (a transition just after midnight repeats a piece of the day
 * before).  When its ends are not both in the local day of now, the span
 * is now alone: correct, only not reusable. */
static void same_span(struct window *w, const struct session *today, int64_t day,
		      const struct tz_rule *tz)
{
	time_t b[4 + TZ_AROUND], from, until;
	size_t n = 0;

	b[n++] = local_to_utc(tz, day, 0);
	if (today->kind == DAY_SESSION || today->kind == DAY_EARLY) {
		b[n++] = today->open;
		b[n++] = today->close;
	}
	if (tz->has_dst) {
		int64_t y, at[TZ_AROUND];
		int m, d;

		clock_civil_from_days(&y, &m, &d, day);
		tz_transitions(at, tz, y);
		for (size_t i = 0; i < TZ_AROUND; i++)
			b[n++] = (time_t)at[i];
	}
	b[n++] = local_to_utc(tz, day + 1, 0);
	from = b[0];
	until = b[n - 1];
	for (size_t i = 1; i + 1 < n; i++) {
		if (b[i] <= w->now && b[i] > from)
			from = b[i];
		if (b[i] > w->now && b[i] < until)
			until = b[i];
	}
	if (from > w->now || until <= w->now || local_day(tz, from) != day ||
	    local_day(tz, until - 1) != day) {
		from = w->now;
		until = w->now + 1;
	}
	w->same_from = from;
	w->same_until = until;
}

static void fill_local(struct tm *tm, char *zone, const struct tz_rule *tz, time_t t)
{
	tz_rule_localtime(tm, NULL, tz, t);
	strlcpy_(zone, tz_rule_abbrev(tz, t), TZ_NAME_MAX);
}

int clock_window(struct window *out, time_t now, const struct tz_rule *tz,
		 const struct calendar *cal, const struct market_hours *hours)
{
	struct window w;
	struct session today, cur, after;
	int64_t day;

	if (hours->open_min < 0 || hours->close_min > 24 * 60 ||
	    hours->open_min >= hours->close_min || (int64_t)now < T_MIN || (int64_t)now > T_MAX)
		return ERR_INVALID;
	memset(&w, 0, sizeof(w));
	w.now = now;
	if (tz_rule_localtime(&w.local, &w.utc_offset, tz, now))
		return ERR_INVALID;
	strlcpy_(w.zone, tz_rule_abbrev(tz, now), sizeof(w.zone));
	day = floor_div((int64_t)now + w.utc_offset, 86400);
	w.beyond_calendar = !cal || day < cal->first_day || day > cal->last_day;
	session_of(&today, day, tz, cal, hours);
	today_reason(&w, &today, now);
	same_span(&w, &today, day, tz);
	if (next_session(&cur, day, now, tz, cal, hours))
		return ERR_INVALID;
	w.open = cur.open <= now;
	if (w.open) {
		w.next_close = cur.close;
		if (next_session(&after, day + 1, cur.close, tz, cal, hours))
			return ERR_INVALID;
		w.next_open = after.open;
	} else {
		w.next_open = cur.open;
		w.next_close = cur.close;
	}
	w.next_change = w.open ? w.next_close : w.next_open;
	fill_local(&w.close_local, w.close_zone, tz, w.next_close);
	fill_local(&w.open_local, w.open_zone, tz, w.next_open);
	*out = w;
	return 0;
}

/* The sessions in order, each widened by the bands, spans that meet merged:
 * the first merged span that has not ended at now.  A span can begin the
 * evening before its day or end after midnight, and spans that meet chain
 * (long sessions, long bands), so the scan starts ten days early. */
int clock_quiet(struct clock_quiet *out, time_t now, const struct tz_rule *tz,
		const struct calendar *cal, const struct market_hours *hours,
		const struct clock_bands *b)
{
	struct window w;
	struct session s;
	bool have = false;
	time_t from = 0, until = 0;
	int64_t day;

	if (b->before_s < 0 || b->after_s < 0 || b->before_s > CLOCK_BAND_MAX ||
	    b->after_s > CLOCK_BAND_MAX || clock_window(&w, now, tz, cal, hours))
		return ERR_INVALID;
	day = floor_div((int64_t)now + w.utc_offset, 86400);
	for (int64_t d = day - 10; d < day + SCAN_DAYS; d++) {
		time_t f, u;

		session_of(&s, d, tz, cal, hours);
		if (s.kind != DAY_SESSION && s.kind != DAY_EARLY)
			continue;
		f = s.open - (time_t)b->before_s;
		u = s.close + (time_t)b->after_s;
		if (have && f <= until) {
			if (u > until)
				until = u;
			continue;
		}
		if (have && until > now)
			break;
		from = f;
		until = u;
		have = true;
	}
	if (!have || until <= now)
		return ERR_INVALID;
	out->in = from <= now;
	out->from = from;
	out->until = until;
	return 0;
}

/* ---- formatting ------------------------------------------------------- */

static const struct {
	const char *code, *text;
} reasons[] = {
	[WINDOW_SESSION] = { "session", "weekday session" },
	[WINDOW_EARLY_SESSION] = { "early-close", "early close" },
	[WINDOW_WEEKEND] = { "weekend", "weekend" },
	[WINDOW_HOLIDAY] = { "holiday", "holiday" },
	[WINDOW_BEFORE_OPEN] = { "before-open", "before open" },
	[WINDOW_AFTER_CLOSE] = { "after-close", "after close" },
	[WINDOW_AFTER_EARLY_CLOSE] = { "after-early-close", "after early close" },
};

const char *clock_reason_code(enum window_reason r)
{
	return (size_t)r < ARRAY_SIZE(reasons) ? reasons[r].code : "unknown";
}

/* The formatters build into a bounded buf and copy out, so a short caller
 * buffer truncates cleanly whatever the compiler can prove about sizes. */
static void copy_out(char *out, size_t outsz, struct buf *b)
{
	strlcpy_(out, b->data ? b->data : "", outsz);
	buf_release(b);
}

static void add_reason(struct buf *b, const struct window *w)
{
	const char *text = (size_t)w->reason < ARRAY_SIZE(reasons) ? reasons[w->reason].text : "?";

	if (w->day_name[0] && w->reason != WINDOW_BEFORE_OPEN)
		buf_printf(b, "%s: %s", text, w->day_name);
	else
		buf_adds(b, text);
}

static void add_trailer(struct buf *b, const struct window *w)
{
	if (w->open) {
		buf_printf(b, "open, closes %02d:%02d %s", w->close_local.tm_hour,
			   w->close_local.tm_min, w->close_zone);
		return;
	}
	buf_adds(b, "closed (");
	add_reason(b, w);
	buf_addch(b, ')');
}

static void add_status(struct buf *b, const struct window *w)
{
	static const char *wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	const struct tm *o = &w->open_local;
	char in[32];

	add_trailer(b, w);
	clock_format_countdown(in, sizeof(in), (int64_t)(w->next_change - w->now));
	if (!w->open)
		buf_printf(b, ", opens %s %04d-%02d-%02d %02d:%02d %s", wdays[o->tm_wday % 7],
			   o->tm_year + 1900, o->tm_mon + 1, o->tm_mday, o->tm_hour, o->tm_min,
			   w->open_zone);
	buf_printf(b, " (in %s)", in);
}

void clock_format_reason(char *out, size_t outsz, const struct window *w)
{
	struct buf b = BUF_INIT;

	add_reason(&b, w);
	copy_out(out, outsz, &b);
}

void clock_format_trailer(char *out, size_t outsz, const struct window *w)
{
	struct buf b = BUF_INIT;

	add_trailer(&b, w);
	copy_out(out, outsz, &b);
}

void clock_format_hhmm(char *out, size_t outsz, const struct tz_rule *tz, time_t t)
{
	struct tm tm;

	if (tz_rule_localtime(&tm, NULL, tz, t)) {
		snprintf(out, outsz, "?");
		return;
	}
	if (tm.tm_sec)
		snprintf(out, outsz, "%02d:%02d:%02d %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
			 tz_rule_abbrev(tz, t));
	else
		snprintf(out, outsz, "%02d:%02d %s", tm.tm_hour, tm.tm_min, tz_rule_abbrev(tz, t));
}

void clock_format_countdown(char *out, size_t outsz, int64_t secs)
{
	struct buf b = BUF_INIT;

	if (secs < 0)
		secs = 0;
	if (secs < 60) {
		buf_printf(&b, "%llds", (long long)secs);
	} else {
		if (secs >= 86400)
			buf_printf(&b, "%lldd", (long long)(secs / 86400));
		if (secs % 86400 >= 3600)
			buf_printf(&b, "%lldh", (long long)(secs % 86400 / 3600));
		if (secs % 3600 >= 60)
			buf_printf(&b, "%lldm", (long long)(secs % 3600 / 60));
	}
	copy_out(out, outsz, &b);
}

void clock_format_status(char *out, size_t outsz, const struct window *w)
{
	struct buf b = BUF_INIT;

	add_status(&b, w);
	copy_out(out, outsz, &b);
}

void clock_format_refusal(char *out, size_t outsz, const struct window *w)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "market ");
	add_status(&b, w);
	buf_adds(&b, "; add a Break-Glass: trailer to override");
	copy_out(out, outsz, &b);
}

/* ---- RFC 3339 --------------------------------------------------------- */

static int rfc_fail(struct buf *err, const char *s, const char *why)
{
	if (err)
		buf_printf(err, "invalid RFC 3339 time '%s': %s (example: 2026-03-09T13:30:00Z)",
			   s, why);
	return ERR_INVALID;
}

/* Exactly n digits into [lo, hi]. */
static const char *fixed_num(int *out, const char *s, int n, int lo, int hi)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return NULL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return NULL;
	*out = v;
	return s + n;
}

static const char *parse_rfc_offset(int32_t *off, const char *p)
{
	int sign, oh, om;

	if (*p == 'Z' || *p == 'z') {
		*off = 0;
		return p + 1;
	}
	if (*p != '+' && *p != '-')
		return NULL;
	sign = *p == '-' ? -1 : 1;
	if (!(p = fixed_num(&oh, p + 1, 2, 0, 23)) || *p != ':' ||
	    !(p = fixed_num(&om, p + 1, 2, 0, 59)))
		return NULL;
	*off = sign * (oh * 3600 + om * 60);
	return p;
}

int clock_parse_rfc3339(time_t *out, const char *s, struct buf *err)
{
	int y, mo, d, h, mi, sec;
	int32_t off;
	const char *p = s;

	if (!s)
		return rfc_fail(err, "", "empty");
	if (!(p = fixed_num(&y, p, 4, 0, 9999)) || *p++ != '-' ||
	    !(p = fixed_num(&mo, p, 2, 1, 12)) || *p++ != '-' || !(p = fixed_num(&d, p, 2, 1, 31)))
		return rfc_fail(err, s, "bad date, expected YYYY-MM-DD");
	if (d > month_days(y, mo))
		return rfc_fail(err, s, "no such day in that month");
	if (*p != 'T' && *p != 't' && *p != ' ')
		return rfc_fail(err, s, "expected 'T' between date and time");
	if (!(p = fixed_num(&h, p + 1, 2, 0, 23)) || *p++ != ':' ||
	    !(p = fixed_num(&mi, p, 2, 0, 59)) || *p++ != ':' || !(p = fixed_num(&sec, p, 2, 0, 59)))
		return rfc_fail(err, s, "bad time of day, expected HH:MM:SS");
	if (*p == '.') {
		if (!is_digit(*++p))
			return rfc_fail(err, s, "empty fraction of a second");
		for (int k = 0; is_digit(*p); p++)
			if (++k > 9)
				return rfc_fail(err, s, "fraction of a second too long");
	}
	if (!(p = parse_rfc_offset(&off, p)))
		return rfc_fail(err, s, "expected a UTC offset: Z or +hh:mm / -hh:mm");
	if (*p)
		return rfc_fail(err, s, "trailing characters");
	*out = (time_t)(clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off);
	return 0;
}

void clock_format_rfc3339(char *out, size_t outsz, time_t t, int32_t off, bool utc)
{
	int64_t local = (int64_t)t + off, days = floor_div(local, 86400), y;
	int64_t sod = local - days * 86400;
	int m, d, ao = off < 0 ? -off : off;

	clock_civil_from_days(&y, &m, &d, days);
	if (utc && off == 0) {
		snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
			 (int)(sod / 3600), (int)(sod % 3600 / 60), (int)(sod % 60));
		return;
	}
	snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (long long)y, m, d,
		 (int)(sod / 3600), (int)(sod % 3600 / 60), (int)(sod % 60), off < 0 ? '-' : '+',
		 ao / 3600, ao % 3600 / 60);
}
