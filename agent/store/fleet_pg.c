/* fleet_pg.c — the fleet's membership rows in PostgreSQL (fleet_db.h): the
 * heartbeat upsert that is also the registration (and refuses a live
 * duplicate location), the list of members as the database's clock judges
 * them, and leaving on a clean stop. One connection of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/database.h"
#include "core/util.h"
#include "store/fleet_db.h"
#include "store/pg_conn.h"

#define LIVE "interval '15 seconds'"    /* FLEET_DB_LIVE_S */
/* PG_GONE_S (store_pg_outbox.h): a location unseen this long no longer
 * counts in the fleet's alerting; a clean stop dates its row that far back,
 * so its conditions stop counting at once instead of holding as unknown. */
#define GONE "interval '120 seconds'"
#define US_OF(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

const char fleet_db_schema_sql[] =
	"CREATE TABLE fleet_agents ("
	" location text PRIMARY KEY,"
	" instance text NOT NULL,"          /* random per process */
	" version text,"
	" started_at timestamptz,"
	" last_seen timestamptz NOT NULL,"  /* the database's now() at the last heartbeat */
	" checks int,"
	" listen text);";

struct fleet_db {
	char *uri;
	PGconn *c;                          /* NULL until a connection succeeded */
};

struct fleet_db *fleet_db_new(const char *uri)
{
	struct fleet_db *db = xcalloc(1, sizeof(*db));
	char err[256];

	db->uri = xstrdup(uri);
	db->c = pg_connect(uri, err, sizeof(err));     /* a failure is told by the first call */
	return db;
}

void fleet_db_free(struct fleet_db *db)
{
	if (db == NULL)
		return;
	if (db->c != NULL)
		PQfinish(db->c);
	free(db->uri);
	free(db);
}

/* Connected (again, after a failure: libpq's reset). No session setting is
 * made, so a pooler in transaction mode serves it too; a stuck server holds
 * only this thread, and fleet_database_ok() tells it by the time. 0, or -1
 * with err. */
static int db_ready(struct fleet_db *db, char *err, size_t errlen)
{
	char display[512];

	if (db->c == NULL) {
		db->c = pg_connect(db->uri, err, errlen);
		return db->c != NULL ? 0 : -1;
	}
	return pg_ensure(db->c, database_display(db->uri, display, sizeof(display)), err, errlen);
}

static void copy_text(char *dst, const PGresult *r, int row, int col)
{
	util_strlcpy(dst, pg_text(r, row, col), FLEET_DB_TEXT_MAX);
}

#define MEMBER_COLS \
	"location, instance, coalesce(version, ''), coalesce(listen, ''), " US_OF("last_seen") ", " \
	"coalesce(" US_OF("started_at") ", 0), last_seen > now() - " LIVE ", coalesce(checks, 0)"

static void member_from(struct fleet_member *m, const PGresult *r, int row)
{
	memset(m, 0, sizeof(*m));
	copy_text(m->location, r, row, 0);
	copy_text(m->instance, r, row, 1);
	copy_text(m->version, r, row, 2);
	copy_text(m->listen, r, row, 3);
	m->last_seen_us = pg_int(r, row, 4, 0);
	m->started_us = pg_int(r, row, 5, 0);
	m->live = pg_bool(r, row, 6);
	m->checks = (int)pg_int(r, row, 7, 0);
}

/* The row that holds self's location now, into other. */
static void read_other(struct fleet_db *db, const char *location, struct fleet_member *other)
{
	struct pg_params p = { 0 };
	char err[256];
	PGresult *r;

	if (other == NULL)
		return;
	memset(other, 0, sizeof(*other));
	pg_params_text(&p, location);
	r = pg_query(db->c, "SELECT " MEMBER_COLS " FROM fleet_agents WHERE location = $1", &p,
	             "fleet: reading a member", err, sizeof(err));
	if (r != NULL && PQntuples(r) == 1)
		member_from(other, r, 0);
	PQclear(r);
	pg_params_free(&p);
}

int fleet_db_heartbeat(struct fleet_db *db, const struct fleet_db_self *self, int checks,
                       struct fleet_member *other, char *err, size_t errlen)
{
	/* The row is taken over only when it is ours (a heartbeat, or a restart
	 * that kept the instance) or its owner is down by the database's clock:
	 * two agents started at once with one location cannot both win. */
	static const char sql[] =
		"INSERT INTO fleet_agents (location, instance, version, started_at, last_seen, checks, listen)"
		" VALUES ($1, $2, $3, now(), now(), $4, $5)"
		" ON CONFLICT (location) DO UPDATE SET instance = excluded.instance,"
		" version = excluded.version, checks = excluded.checks, listen = excluded.listen,"
		" started_at = CASE WHEN fleet_agents.instance = excluded.instance"
		"              THEN fleet_agents.started_at ELSE now() END,"
		" last_seen = now()"
		" WHERE fleet_agents.instance = excluded.instance"
		"    OR fleet_agents.last_seen <= now() - " LIVE
		" RETURNING instance";
	struct pg_params p = { 0 };
	PGresult *r;
	int rc;

	if (db_ready(db, err, errlen) != 0)
		return -1;
	pg_params_text(&p, self->location);
	pg_params_text(&p, self->instance);
	pg_params_text(&p, self->version);
	pg_params_int(&p, checks);
	pg_params_text(&p, self->listen);
	r = pg_query(db->c, sql, &p, "fleet: heartbeat", err, errlen);
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	rc = PQntuples(r) == 1 ? 0 : 1;
	PQclear(r);
	if (rc == 1)
		read_other(db, self->location, other);
	return rc;
}

int fleet_db_members(struct fleet_db *db, struct fleet_member **out, size_t *n, char *err,
                     size_t errlen)
{
	PGresult *r;
	int rows;

	*out = NULL;
	*n = 0;
	if (db_ready(db, err, errlen) != 0)
		return -1;
	r = pg_query(db->c, "SELECT " MEMBER_COLS " FROM fleet_agents"
	             " WHERE last_seen > now() - interval '86400 seconds' ORDER BY location", NULL,
	             "fleet: reading the members", err, errlen);
	if (r == NULL)
		return -1;
	rows = PQntuples(r);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		member_from(&(*out)[i], r, i);
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

int fleet_db_leave(struct fleet_db *db, const struct fleet_db_self *self, char *err, size_t errlen)
{
	struct pg_params p = { 0 };
	PGresult *r;

	if (db_ready(db, err, errlen) != 0)
		return -1;
	pg_params_text(&p, self->location);
	pg_params_text(&p, self->instance);
	r = pg_query(db->c, "UPDATE fleet_agents SET last_seen = now() - " GONE
	             " WHERE location = $1 AND instance = $2", &p, "fleet: leaving", err, errlen);
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}
