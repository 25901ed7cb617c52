/* maintenance.h — maintenance windows (SPEC §2, `maintenance = (...)`): when is
 * a check inside one. Inside a window checks still run and record, but no
 * alert starts firing (the engine asks maintenance_active_for()).
 *
 * Two kinds, both struct maintenance_window (alert.h) as the loader builds them:
 *   one-off   start_us (wall clock) + duration_ms
 *   weekly    weekly_day (0 = Sunday) + weekly_minute (after local midnight)
 *             + duration_ms, in `timezone` (an IANA name such as
 *             "Europe/Berlin"; NULL: UTC). A window may cross midnight and the
 *             end of the week ("Sat 23:00" for 2h ends Sunday 01:00).
 *
 * Time zones: converted with the C library and the system's TZ database
 * (/usr/share/zoneinfo): setenv("TZ") + tzset() + localtime_r()/mktime(),
 * serialised by a mutex in maintenance.c and TZ restored afterwards. That is
 * the simple, robust way to get every zone's rules (DST included) without a
 * TZif parser of our own. The catch: while a conversion runs, another thread's
 * localtime() would see that zone; pharos formats every time it prints in UTC
 * (gmtime_r, unaffected), and conversions are rare: each window caches its
 * current occurrence and recomputes once a week, or when the clock jumps.
 *
 * Typical use (the engine, on the loop thread):
 *   struct maintenance *m = maintenance_new(conf->maintenance, conf->n_maintenance);
 *   if (maintenance_active_for(m, check, now_ms)) ... hold back firing ...
 *   maintenance_free(m);
 */
#ifndef PHAROS_MAINTENANCE_H
#define PHAROS_MAINTENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"
#include "probes/check.h"

struct maintenance;

/* A set of windows with per-window caches. Borrows w (the conf owns it and
 * must outlive the set). n may be 0. Free with maintenance_free. Not
 * thread-safe: one owner (the loop thread). */
struct maintenance *maintenance_new(const struct maintenance_window *w, size_t n);
void maintenance_free(struct maintenance *m);

size_t maintenance_count(const struct maintenance *m);

/* True when window i selects check c (its selectors, as selector_matches). */
bool maintenance_selects(const struct maintenance *m, size_t i, const struct check *c);

/* True when now_ms (wall clock ms) lies inside an occurrence of window i:
 * [start, start + duration). Cached (see above). */
bool maintenance_is_active(struct maintenance *m, size_t i, int64_t now_ms);

/* True when any window that selects c is active at now_ms. O(windows). */
bool maintenance_active_for(struct maintenance *m, const struct check *c, int64_t now_ms);

/* The occurrence of w that started last at or before now_ms (one-off: its only
 * one, which may lie in the future), as [*start_ms, *end_ms). For a weekly
 * window also *next_ms, the start of the following occurrence (one-off:
 * INT64_MAX). Uncached. Returns 0, or -1 when the time zone is unknown or the
 * time cannot be converted. Any pointer may be NULL. */
int maintenance_window_occurrence(const struct maintenance_window *w, int64_t now_ms,
                                  int64_t *start_ms, int64_t *end_ms, int64_t *next_ms);

/* Parses a weekly spec "Sun 01:00" (day: Sun Mon Tue Wed Thu Fri Sat, any
 * case, or the full English name; time HH:MM, 24 h). Returns 0 and sets *day
 * (0 = Sunday) and *minute (0..1439), or -1. For the config loader. */
int maintenance_parse_weekly(const char *s, int *day, int *minute);

/* True when tz names a zone of the system's TZ database ("UTC",
 * "Europe/Berlin"): a plain relative path without "..", of a TZif file under
 * /usr/share/zoneinfo. For the config loader. */
bool maintenance_timezone_valid(const char *tz);

#endif
