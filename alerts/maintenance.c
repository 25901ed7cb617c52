/* maintenance.c — one-off and weekly maintenance windows: is a check inside
 * one now? Weekly windows are computed in their time zone through the C
 * library (see maintenance.h for the TZ approach and its limits). */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "alerts/maintenance.h"
#include "core/util.h"
#include "probes/selector.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo/"
#define WEEK_MS (7LL * 86400 * 1000)

/* Per window: the occurrence computed last, valid while start <= now < next. */
struct maint_cache {
	bool cached;
	bool tz_ok;                 /* the time zone exists (checked once) */
	int64_t start, end, next;
};

struct maintenance {
	const struct maintenance_window *w;
	size_t n;
	struct maint_cache *cache;
};

/* Serialises every use of the process-wide TZ variable in this file. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t sat_add(int64_t a, uint64_t b)
{
	if (b > (uint64_t)INT64_MAX || a > INT64_MAX - (int64_t)b)
		return INT64_MAX;
	return a + (int64_t)b;
}

/* floor(ms / 1000), also for times before 1970. */
static time_t ms_to_s(int64_t ms)
{
	int64_t s = ms / 1000;

	if (ms % 1000 < 0)
		s--;
	return (time_t)s;
}

bool maintenance_timezone_valid(const char *tz)
{
	char path[sizeof(ZONEINFO_DIR) + 256];
	char magic[4];
	bool ok = false;
	int fd = -1;

	if (tz == NULL || tz[0] == '\0' || tz[0] == '/' || strlen(tz) > 255 || strstr(tz, "..") != NULL)
		return false;
	for (const char *p = tz; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return false;
	}
	snprintf(path, sizeof(path), "%s%s", ZONEINFO_DIR, tz);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	/* A TZif file starts with its magic; a directory (read fails) or any other
	 * file is not a zone. */
	if (read(fd, magic, sizeof(magic)) != (ssize_t)sizeof(magic))
		goto out;
	ok = memcmp(magic, "TZif", 4) == 0;
out:
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Local broken-down time of t in zone tz (NULL: UTC). Caller holds tz_lock
 * with TZ set when tz is not NULL. */
static int to_local(const char *tz, time_t t, struct tm *tm)
{
	if (tz == NULL)
		return gmtime_r(&t, tm) != NULL ? 0 : -1;
	return localtime_r(&t, tm) != NULL ? 0 : -1;
}

/* The instant of local time tm in zone tz (NULL: UTC); tm is normalised. */
static int from_local(const char *tz, struct tm *tm, time_t *t)
{
	tm->tm_isdst = -1;          /* let the zone's rules decide (DST) */
	*t = tz == NULL ? timegm(tm) : mktime(tm);
	return *t == (time_t)-1 ? -1 : 0;
}

/* Local y/m/d plus days_back days earlier, at minute of the day, as an instant. */
static int local_day_at(const char *tz, const struct tm *day, int days_offset, int minute,
                        time_t *t)
{
	struct tm s = *day;

	s.tm_mday += days_offset;
	s.tm_hour = minute / 60;
	s.tm_min = minute % 60;
	s.tm_sec = 0;
	return from_local(tz, &s, t);
}

/* The weekly occurrence of w starting last at or before now_ms. */
static int weekly_occurrence(const struct maintenance_window *w, int64_t now_ms,
                             int64_t *start_ms, int64_t *next_ms)
{
	const char *tz = w->timezone;
	char *saved = NULL;
	struct tm now_tm;
	time_t now_s = ms_to_s(now_ms), start = 0, next = 0;
	int days_back, rc = -1;

	if (tz != NULL && (strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0))
		tz = NULL;
	if (w->weekly_day < 0 || w->weekly_day > 6 || w->weekly_minute < 0 || w->weekly_minute >= 1440)
		return -1;
	if (tz != NULL) {
		const char *old;

		pthread_mutex_lock(&tz_lock);
		old = getenv("TZ");
		saved = old != NULL ? xstrdup(old) : NULL;
		setenv("TZ", tz, 1);
		tzset();
	}
	if (to_local(tz, now_s, &now_tm) < 0)
		goto out;
	days_back = (now_tm.tm_wday - w->weekly_day + 7) % 7;
	if (local_day_at(tz, &now_tm, -days_back, w->weekly_minute, &start) < 0)
		goto out;
	/* Today's start still ahead (or a DST shift moved it past now): the
	 * occurrence that counts began a week earlier. */
	if ((int64_t)start * 1000 > now_ms) {
		days_back += 7;
		if (local_day_at(tz, &now_tm, -days_back, w->weekly_minute, &start) < 0)
			goto out;
	}
	if (local_day_at(tz, &now_tm, -days_back + 7, w->weekly_minute, &next) < 0)
		goto out;
	if (next <= start)
		next = start + 7 * 86400;
	*start_ms = (int64_t)start * 1000;
	*next_ms = (int64_t)next * 1000;
	rc = 0;
out:
	if (tz != NULL) {
		if (saved != NULL)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
		free(saved);
		pthread_mutex_unlock(&tz_lock);
	}
	return rc;
}

int maintenance_window_occurrence(const struct maintenance_window *w, int64_t now_ms,
                                  int64_t *start_ms, int64_t *end_ms, int64_t *next_ms)
{
	int64_t start, next;

	if (w->weekly_day < 0) {
		start = w->start_us / 1000;
		next = INT64_MAX;
	} else {
		if (w->timezone != NULL && !maintenance_timezone_valid(w->timezone))
			return -1;
		if (weekly_occurrence(w, now_ms, &start, &next) < 0)
			return -1;
	}
	if (start_ms != NULL)
		*start_ms = start;
	if (end_ms != NULL)
		*end_ms = sat_add(start, w->duration_ms);
	if (next_ms != NULL)
		*next_ms = next;
	return 0;
}

struct maintenance *maintenance_new(const struct maintenance_window *w, size_t n)
{
	struct maintenance *m = xcalloc(1, sizeof(*m));

	m->w = w;
	m->n = n;
	m->cache = n ? xcalloc(n, sizeof(*m->cache)) : NULL;
	for (size_t i = 0; i < n; i++) {
		m->cache[i].tz_ok = w[i].weekly_day < 0 || w[i].timezone == NULL ||
		                    maintenance_timezone_valid(w[i].timezone);
	}
	return m;
}

void maintenance_free(struct maintenance *m)
{
	if (m == NULL)
		return;
	free(m->cache);
	free(m);
}

size_t maintenance_count(const struct maintenance *m)
{
	return m != NULL ? m->n : 0;
}

bool maintenance_selects(const struct maintenance *m, size_t i, const struct check *c)
{
	const struct maintenance_window *w;

	if (m == NULL || i >= m->n)
		return false;
	w = &m->w[i];
	for (size_t k = 0; k < w->n_selectors; k++) {
		if (selector_matches(w->selectors[k], c))
			return true;
	}
	return false;
}

bool maintenance_is_active(struct maintenance *m, size_t i, int64_t now_ms)
{
	const struct maintenance_window *w;
	struct maint_cache *k;
	int64_t start, next;

	if (m == NULL || i >= m->n)
		return false;
	w = &m->w[i];
	k = &m->cache[i];
	if (w->weekly_day < 0) {
		start = w->start_us / 1000;
		return now_ms >= start && now_ms < sat_add(start, w->duration_ms);
	}
	if (!k->tz_ok)
		return false;
	if (!k->cached || now_ms < k->start || now_ms >= k->next) {
		if (weekly_occurrence(w, now_ms, &start, &next) < 0) {
			k->cached = false;
			return false;
		}
		k->cached = true;
		k->start = start;
		k->end = sat_add(start, w->duration_ms);
		k->next = next;
	}
	return now_ms >= k->start && now_ms < k->end;
}

bool maintenance_active_for(struct maintenance *m, const struct check *c, int64_t now_ms)
{
	for (size_t i = 0; i < maintenance_count(m); i++) {
		if (maintenance_selects(m, i, c) && maintenance_is_active(m, i, now_ms))
			return true;
	}
	return false;
}

int maintenance_parse_weekly(const char *s, int *day, int *minute)
{
	static const char *const days[] = { "sunday", "monday", "tuesday", "wednesday",
	                                    "thursday", "friday", "saturday" };
	const char *p = s;
	size_t len;
	int d = -1, h, mi;

	if (s == NULL)
		return -1;
	while (*p == ' ')
		p++;
	for (len = 0; isalpha((unsigned char)p[len]); len++)
		;
	for (int i = 0; i < 7; i++) {
		if ((len == 3 || len == strlen(days[i])) && strncasecmp(p, days[i], len) == 0) {
			d = i;
			break;
		}
	}
	if (d < 0 || p[len] != ' ')
		return -1;
	p += len;
	while (*p == ' ')
		p++;
	/* H:MM or HH:MM, then nothing but spaces. */
	if (!isdigit((unsigned char)p[0]))
		return -1;
	h = p[0] - '0';
	p++;
	if (isdigit((unsigned char)p[0])) {
		h = h * 10 + (p[0] - '0');
		p++;
	}
	if (p[0] != ':' || !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
		return -1;
	mi = (p[1] - '0') * 10 + (p[2] - '0');
	p += 3;
	while (*p == ' ')
		p++;
	if (*p != '\0' || h > 23 || mi > 59)
		return -1;
	*day = d;
	*minute = h * 60 + mi;
	return 0;
}
