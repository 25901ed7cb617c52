/* store_pg_schema.c — the PostgreSQL store's schema: numbered migrations in
 * the pharos_schema table, the day partitions of results (created ahead and
 * on demand), and retention in short steps (dropping whole partitions of
 * results, deleting old rollup rows in small batches). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/fleet_db.h"
#include "store/rollup.h"
#include "store/rollup_pg.h"
#include "store/store_pg_incident.h"
#include "store/store_pg_schema.h"

#define US 1000000LL
#define DAY_S 86400
#define AHEAD_DAYS 2            /* partitions exist up to this many days ahead */
#define PRUNE_ROWS 5000         /* rollup rows deleted per step */
#define PRUNE_EVERY_S 300       /* a retention pass this often, as on SQLite */
#define MIGRATE_LOCK_KEY "7368617273"   /* advisory lock: one migrating agent at a time */

/* --- migrations --------------------------------------------------------------- */

/* Append only: never edit a migration that has shipped. The ideas are those
 * of the SQLite schema (store_sqlite.c); the types are PostgreSQL's. */
static const struct migration {
	int version;
	const char *sql;
} migrations[] = {
	{ 1,
	  /* Results, partitioned by UTC day of ts_us: retention drops whole
	   * partitions. No primary key (it would have to hold ts_us); id orders
	   * rows of the same ts_us. */
	  "CREATE SEQUENCE results_id_seq;"
	  "CREATE TABLE results ("
	  " id bigint NOT NULL DEFAULT nextval('results_id_seq'),"
	  " check_name text NOT NULL,"
	  " ts_us bigint NOT NULL,"
	  " duration_us bigint NOT NULL,"
	  " ok boolean NOT NULL,"
	  " error text NOT NULL,"
	  " message text NOT NULL,"
	  " dns_us bigint, connect_us bigint, tls_us bigint, ttfb_us bigint,"  /* NULL: none */
	  " status_code integer, bytes bigint,"
	  " cert_expiry bigint,"        /* Unix seconds; NULL: none */
	  " attempts integer NOT NULL,"
	  " run_id text NOT NULL,"
	  " details text"               /* JSON object or NULL */
	  ") PARTITION BY RANGE (ts_us);"
	  "CREATE INDEX results_check_ts ON results (check_name, ts_us);" },
	{ 2,
	  "CREATE TABLE alert_state ("
	  " rule text NOT NULL, check_name text NOT NULL,"
	  " state text NOT NULL,"       /* ok | pending | firing */
	  " since_us bigint NOT NULL, fired_us bigint NOT NULL DEFAULT 0,"
	  " last_sent_us bigint NOT NULL DEFAULT 0, alert_id text, value text,"
	  " PRIMARY KEY (rule, check_name));"
	  /* The outbox: ids from a sequence only grow; one writer, so id order
	   * is commit order. */
	  "CREATE TABLE notifications ("
	  " id bigserial PRIMARY KEY,"
	  " key text NOT NULL UNIQUE,"  /* idempotency key */
	  " notifier text NOT NULL, rule text NOT NULL, check_name text NOT NULL,"
	  " alert_id text, kind text NOT NULL, event text NOT NULL,"
	  " state text NOT NULL,"       /* pending | delivered | dead */
	  " attempts integer NOT NULL DEFAULT 0, created_us bigint NOT NULL,"
	  " next_attempt_us bigint NOT NULL, last_error text, delivered_us bigint,"
	  " seq bigint NOT NULL);"
	  "CREATE INDEX notifications_state ON notifications (state, id);"
	  "CREATE TABLE alert_history ("
	  " id bigserial PRIMARY KEY, rule text NOT NULL, check_name text NOT NULL,"
	  " alert_id text, from_state text NOT NULL, to_state text NOT NULL,"
	  " ts_us bigint NOT NULL, value text);"
	  "CREATE INDEX alert_history_ts ON alert_history (ts_us);"
	  "CREATE INDEX alert_history_check ON alert_history (check_name, ts_us);" },
	{ 3, pg_rollup_schema_sql },
	/* Incidents and their status updates (store_pg_incident.c). */
	{ 4, pg_incident_schema_sql },
	/* A fleet (SPEC §6): every result records the location of the agent that
	 * ran it, and fleet_latest holds the newest result of each (check,
	 * location), upserted in the transaction of the results, so that every
	 * agent can show the whole fleet by reading only what changed. */
	{ 5,
	  "ALTER TABLE results ADD COLUMN location text NOT NULL DEFAULT '';"
	  "CREATE TABLE fleet_latest ("
	  " check_name text NOT NULL, location text NOT NULL,"
	  " ts_us bigint NOT NULL, ok boolean NOT NULL, error text NOT NULL,"
	  " message text NOT NULL, duration_us bigint NOT NULL, run_id text NOT NULL,"
	  /* The writing transaction: a reader asks for rows of transactions not
	   * finished at its previous read (store_pg_fleet.c). */
	  " txid bigint NOT NULL DEFAULT txid_current(),"
	  " PRIMARY KEY (check_name, location));"
	  "CREATE INDEX fleet_latest_txid ON fleet_latest (txid);" },
	{ 6, fleet_db_schema_sql },         /* the fleet's members (store/fleet_db.h) */
	{ 7,
	  /* The fleet's alerts (docs/fleet.md): one row per (rule, check), whose
	   * row lock is the lease on deciding the pair; episode counts its firing
	   * episodes (the alert id derives from it). The rule's settings and the
	   * latest event travel with it so that any agent's sweep can resolve or
	   * repeat it. */
	  "CREATE TABLE fleet_alerts ("
	  " rule text NOT NULL, check_name text NOT NULL,"
	  " state text NOT NULL DEFAULT 'ok',"          /* ok | firing */
	  " episode bigint NOT NULL DEFAULT 0, since_us bigint NOT NULL DEFAULT 0,"
	  " alert_id text, value text, last_sent_us bigint NOT NULL DEFAULT 0,"
	  " min_locations integer NOT NULL DEFAULT 1, interval_us bigint NOT NULL DEFAULT 0,"
	  " repeat_us bigint NOT NULL DEFAULT 0,"
	  " notify text,"                               /* JSON array of notifier names */
	  " event text,"                                /* JSON: the latest event of the pair */
	  " PRIMARY KEY (rule, check_name));"
	  /* Each location's condition of a pair, as its agent's engine sees it. */
	  "CREATE TABLE fleet_conditions ("
	  " rule text NOT NULL, check_name text NOT NULL, location text NOT NULL,"
	  " firing boolean NOT NULL, value text,"
	  " updated_at timestamptz NOT NULL DEFAULT now(),"
	  " PRIMARY KEY (rule, check_name, location));"
	  /* Delivery leases: the agent delivering a row, until when (now()). */
	  "ALTER TABLE notifications ADD COLUMN lease_owner text,"
	  " ADD COLUMN lease_until timestamptz;" },
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

int pg_schema_version(void)
{
	return migrations[N_MIGRATIONS - 1].version;
}

/* The newest applied version (0: none) into *v. */
static int applied_version(PGconn *c, int *v, char *err, size_t errlen)
{
	PGresult *r = pg_query(c, "SELECT coalesce(max(version), 0) FROM pharos_schema", NULL,
	                       "reading schema version", err, errlen);

	if (r == NULL)
		return -1;
	*v = (int)pg_int(r, 0, 0, 0);
	PQclear(r);
	return 0;
}

int pg_migrate(PGconn *c, char *err, size_t errlen)
{
	int cur = 0;

	if (pg_exec(c, "BEGIN", "starting migration", err, errlen) != 0)
		return -1;
	if (pg_exec(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", "locking the schema",
	            err, errlen) != 0 ||
	    pg_exec(c, "CREATE TABLE IF NOT EXISTS pharos_schema (version integer PRIMARY KEY,"
	            " applied_at timestamptz NOT NULL DEFAULT now())", "creating pharos_schema",
	            err, errlen) != 0 ||
	    applied_version(c, &cur, err, errlen) != 0)
		goto fail;
	if (cur > pg_schema_version()) {
		snprintf(err, errlen, "database schema version %d is newer than this pharos (%d)", cur,
		         pg_schema_version());
		goto fail;
	}
	for (size_t i = 0; i < N_MIGRATIONS; i++) {
		char what[48], sql[96];

		if (migrations[i].version <= cur)
			continue;
		snprintf(what, sizeof(what), "migration %d", migrations[i].version);
		snprintf(sql, sizeof(sql), "INSERT INTO pharos_schema (version) VALUES (%d)",
		         migrations[i].version);
		if (pg_exec(c, migrations[i].sql, what, err, errlen) != 0 ||
		    pg_exec(c, sql, what, err, errlen) != 0)
			goto fail;
		log_info("store: applied migration", "version", what + strlen("migration "));
	}
	if (pg_exec(c, "COMMIT", "committing migration", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}

/* --- day partitions ------------------------------------------------------------ */

bool pg_days_has(const struct pg_days *d, int64_t day)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i] == day)
			return true;
	return false;
}

void pg_days_add(struct pg_days *d, int64_t day)
{
	if (pg_days_has(d, day))
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = day;
}

void pg_days_remove(struct pg_days *d, int64_t day)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i] == day) {
			d->v[i] = d->v[--d->n];
			return;
		}
}

void pg_days_free(struct pg_days *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

char *pg_partition_create_sql(int64_t day)
{
	char name[64];

	pg_partition_name("results", day, name, sizeof(name));
	return xasprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF results"
	                 " FOR VALUES FROM (%" PRId64 ") TO (%" PRId64 ")",
	                 name, (int64_t)(day * PG_DAY_US), (int64_t)((day + 1) * PG_DAY_US));
}

/* Creates day's partition when d does not list it. */
static int partition_ensure(PGconn *c, struct pg_days *d, int64_t day, char *err, size_t errlen)
{
	char *sql;
	int rc;

	if (pg_days_has(d, day))
		return 0;
	sql = pg_partition_create_sql(day);
	rc = pg_exec(c, sql, "creating a results partition", err, errlen);
	free(sql);
	if (rc == 0)
		pg_days_add(d, day);
	return rc;
}

int pg_partitions_for_rows(PGconn *c, struct pg_days *d, const struct store_row *rows,
                           size_t n, char *err, size_t errlen)
{
	const struct store_row *w = rows;

	for (size_t i = 0; i < n; i++, w = w->next)
		if (partition_ensure(c, d, rollup_floor_div(w->ts_us, PG_DAY_US), err, errlen) != 0)
			return -1;
	return 0;
}

/* --- retention ------------------------------------------------------------------ */

enum { R_IDLE, R_AHEAD, R_RAW, R_MINUTE, R_HOUR, R_DAY };

/* Creates today's and the next AHEAD_DAYS partitions (each its own statement:
 * a new partition locks results for an instant). Returns 1 (done) or -1. */
static int step_ahead(PGconn *c, struct pg_days *d, int64_t now_us, char *err, size_t errlen)
{
	int64_t today = rollup_floor_div(now_us, PG_DAY_US);

	for (int64_t day = today; day <= today + AHEAD_DAYS; day++)
		if (partition_ensure(c, d, day, err, errlen) != 0)
			return -1;
	return 1;
}

/* Drops the oldest results partition that ends at or before cutoff_us.
 * Returns 0 when one was dropped (look again), 1 when none is left, -1. */
static int step_raw(PGconn *c, struct pg_days *d, int64_t cutoff_us, char *err, size_t errlen)
{
	PGresult *r = pg_query(c, "SELECT c.relname FROM pg_inherits i JOIN pg_class c"
	                          " ON c.oid = i.inhrelid WHERE i.inhparent = 'results'::regclass",
	                       NULL, "listing partitions", err, errlen);
	int64_t oldest = INT64_MAX;
	char name[64], *sql;
	int rc;

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t day = pg_partition_day("results", PQgetvalue(r, i, 0));

		if (day >= 0 && (day + 1) * PG_DAY_US <= cutoff_us && day < oldest)
			oldest = day;
	}
	PQclear(r);
	if (oldest == INT64_MAX)
		return 1;
	pg_partition_name("results", oldest, name, sizeof(name));
	sql = xasprintf("DROP TABLE IF EXISTS %s", name);
	rc = pg_exec(c, sql, "dropping a results partition", err, errlen);
	free(sql);
	if (rc != 0)
		return -1;
	pg_days_remove(d, oldest);
	log_info("store: dropped results older than the retention", "partition", name);
	return 0;
}

/* Deletes up to PRUNE_ROWS rows of table older than cut_s. Returns 0 when
 * it deleted a full batch (more may remain), 1 when done, -1. */
static int step_rollup(PGconn *c, const char *table, int64_t cut_s, char *err, size_t errlen)
{
	struct pg_params p = { 0 };
	char *sql = xasprintf("DELETE FROM %s WHERE ctid = ANY(ARRAY(SELECT ctid FROM %s"
	                      " WHERE bucket_start_s < $1 LIMIT %d))", table, table, PRUNE_ROWS);
	PGresult *r;
	int rc = -1;

	pg_params_int(&p, cut_s);
	r = pg_query(c, sql, &p, "pruning rollups", err, errlen);
	if (r != NULL) {
		rc = atoi(PQcmdTuples(r)) >= PRUNE_ROWS ? 0 : 1;
		PQclear(r);
	}
	pg_params_free(&p);
	free(sql);
	return rc;
}

/* Runs the current phase's step. Returns 1 (phase over), 0 (more) or -1. */
static int retention_phase(struct pg_retention *rt, PGconn *c, struct pg_days *d,
                           int64_t now_us, char *err, size_t errlen)
{
	uint64_t raw_ms = __atomic_load_n(&rt->raw_ms, __ATOMIC_RELAXED);
	uint64_t keep_ms = __atomic_load_n(&rt->rollups_ms, __ATOMIC_RELAXED);
	int64_t now_s = now_us / US, minute_keep_s = ROLLUP_MINUTE_KEEP_S;

	switch (rt->phase) {
	case R_AHEAD:
		return step_ahead(c, d, now_us, err, errlen);
	case R_RAW:
		return raw_ms > 0 ? step_raw(c, d, now_us - (int64_t)raw_ms * 1000, err, errlen) : 1;
	case R_MINUTE:
		if (keep_ms > 0 && (int64_t)(keep_ms / 1000) < minute_keep_s)
			minute_keep_s = (int64_t)(keep_ms / 1000);
		return step_rollup(c, "rollup_minute", now_s - minute_keep_s - 60, err, errlen);
	case R_HOUR:
		return keep_ms > 0 ? step_rollup(c, "rollup_hour", now_s - (int64_t)(keep_ms / 1000) -
		                                 3600, err, errlen) : 1;
	case R_DAY:
		return keep_ms > 0 ? step_rollup(c, "rollup_day", now_s - (int64_t)(keep_ms / 1000) -
		                                 DAY_S, err, errlen) : 1;
	}
	return 1;
}

void pg_retention_step(struct pg_retention *rt, PGconn *c, struct pg_days *d, int64_t now_us)
{
	char err[256] = "";
	int rc;

	if (rt->phase == R_IDLE) {
		if (now_us < rt->next_pass_us)
			return;
		rt->phase = R_AHEAD;
		rt->next_pass_us = now_us + (int64_t)PRUNE_EVERY_S * US;
	}
	if (PQstatus(c) != CONNECTION_OK)
		return;
	rc = retention_phase(rt, c, d, now_us, err, sizeof(err));
	if (rc < 0) {
		log_warn("store: pruning failed, retrying at the next pass", "error", err);
		rt->phase = R_IDLE;
	} else if (rc == 1) {
		rt->phase = rt->phase == R_DAY ? R_IDLE : rt->phase + 1;
	}
}
