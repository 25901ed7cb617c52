#!/usr/bin/python3
"""seed-history.py: fill a pharos database (already migrated by pharos) with
synthetic history for N checks: day and hour rollups for DAYS days, minute
rollups for the last MINUTE_HOURS hours and raw results for the last RAW_HOURS
hours, as a running agent would have left them (derivation marks included).

Rows are generated inside SQLite (recursive CTEs), in primary-key order, so
10,000 checks x 90 days take about a minute.  Standard library only.
Usage: seed-history.py DB --checks N [--days 90] [--minute-hours 25]
       [--raw-hours 1] [--interval 30] [--prefix check-]
"""
import argparse
import sqlite3
import sys
import time

HIST = ", ".join("h%d" % i for i in range(16))
COLS = "check_name, bucket_start_s, count, failures, latency_sum_us, latency_min_us, latency_max_us, " + HIST


def rollup_insert(db, table, width, lo, hi, runs_per_bucket):
    """Buckets [lo, hi) of width seconds for every check: about 1 run in 200
    fails, latencies mostly 20-50 ms (h5) with a tail in 50-100 ms (h6) and
    200-500 ms (h8)."""
    n = runs_per_bucket
    db.execute(f"""
        WITH RECURSIVE b(t) AS (SELECT ?1 UNION ALL SELECT t + ?3 FROM b WHERE t + ?3 < ?2)
        INSERT INTO {table} ({COLS})
        SELECT name, t, {n}, f, {n} * 31000 + f * 250000, 18000, CASE WHEN f > 0 THEN 480000 ELSE 95000 END,
               0, 0, 0, 0, 0, {n} - {n} / 10 - f, {n} / 10, 0, f, 0, 0, 0, 0, 0, 0, 0
        FROM (SELECT name, t, CASE WHEN abs(random()) % 200 = 0 THEN 1 + {n} / 100 ELSE 0 END AS f
              FROM checks CROSS JOIN b ORDER BY name, t)
    """, (lo, hi, width))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--checks", type=int, default=10000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--minute-hours", type=int, default=25)
    ap.add_argument("--raw-hours", type=float, default=1)
    ap.add_argument("--interval", type=int, default=30, help="seconds between runs of a check")
    ap.add_argument("--prefix", default="check-")
    a = ap.parse_args()

    now = int(time.time())
    hour_done = (now - 120) // 3600 * 3600
    day_done = hour_done // 86400 * 86400
    start_day = (now - a.days * 86400) // 86400 * 86400
    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'rollup_meta'").fetchone()[0] != 1:
        sys.exit("seed-history: %s has no rollup tables (let pharos create it first)" % a.db)
    db.execute("BEGIN")
    db.execute("CREATE TEMP TABLE checks (name TEXT PRIMARY KEY)")
    db.executemany("INSERT INTO checks VALUES (?)", (("%s%05d" % (a.prefix, i),) for i in range(a.checks)))
    per_min = max(1, 60 // a.interval)
    t0 = time.time()
    rollup_insert(db, "rollup_day", 86400, start_day, day_done, per_min * 1440)
    rollup_insert(db, "rollup_hour", 3600, start_day, hour_done, per_min * 60)
    mlo = (now - a.minute_hours * 3600) // 60 * 60
    rollup_insert(db, "rollup_minute", 60, mlo, now // 60 * 60 + 60, per_min)
    # Raw results: one per interval per check, in time order (as written).
    rlo = int((now - a.raw_hours * 3600) * 1e6)
    db.execute("""
        WITH RECURSIVE b(t) AS (SELECT ?1 UNION ALL SELECT t + ?3 FROM b WHERE t + ?3 < ?2)
        INSERT INTO results (check_name, ts_us, duration_us, ok, error, message, connect_us,
                             attempts, run_id)
        SELECT name, t + abs(random()) % ?3, 20000 + abs(random()) % 30000,
               abs(random()) % 200 != 0, 'ok', '', 300, 1, lower(hex(randomblob(8)))
        FROM b CROSS JOIN checks ORDER BY t
    """, (rlo, now * 1000000, a.interval * 1000000))
    db.execute("UPDATE rollup_meta SET value = ? WHERE name = 'hour_done_s'", (hour_done,))
    db.execute("UPDATE rollup_meta SET value = ? WHERE name = 'day_done_s'", (day_done,))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("rollup_day", "rollup_hour", "rollup_minute", "results")}
    db.close()
    print("seeded in %.0f s: %s" % (time.time() - t0, ", ".join("%s %d rows" % kv for kv in counts.items())))


if __name__ == "__main__":
    main()
