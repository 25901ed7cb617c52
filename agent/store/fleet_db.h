/* fleet_db.h — the fleet's membership rows in PostgreSQL (table fleet_agents,
 * migration 6), over a connection of their own so that a heartbeat never
 * waits behind the writer's batch. Every time is the database's clock: an
 * agent is live while last_seen > now() - FLEET_DB_LIVE_S seconds, and that
 * comparison is made by the database, never by comparing agents' clocks.
 *
 * Blocking calls (libpq): call them from the fleet thread (agent/fleet.c),
 * never from the loop. Not thread-safe: one thread uses one fleet_db. */
#ifndef PHAROS_FLEET_DB_H
#define PHAROS_FLEET_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_DB_LIVE_S 15          /* a member without a heartbeat this long is down */
#define FLEET_DB_FORGET_S 86400     /* rows older than this are left out of the list */
#define FLEET_DB_TEXT_MAX 128       /* location, instance, version, listen: cut to fit */

/* This agent, as it registers. */
struct fleet_db_self {
	const char *location;       /* agent.location: the row's key */
	const char *instance;       /* random per process: tells a restart from a duplicate */
	const char *version;        /* PHAROS_VERSION */
	const char *listen;         /* agent.listen, for people reading the list */
};

/* One row, as the database judged it when read. */
struct fleet_member {
	char location[FLEET_DB_TEXT_MAX];
	char instance[FLEET_DB_TEXT_MAX];
	char version[FLEET_DB_TEXT_MAX];
	char listen[FLEET_DB_TEXT_MAX];
	int64_t last_seen_us;       /* wall clock (the database's), Unix µs */
	int64_t started_us;
	bool live;                  /* last_seen within FLEET_DB_LIVE_S of the database's now() */
	int checks;                 /* checks it ran at its last heartbeat (its own count) */
};

struct fleet_db;

/* A handle for uri; connects at once, and again (with the connection's
 * reset) at every call while the database is away. NULL only when out of
 * memory; a first connection that fails is reported by the first call. */
struct fleet_db *fleet_db_new(const char *uri);
void fleet_db_free(struct fleet_db *db);

/* Inserts or refreshes self's row (last_seen = now(), checks). A live row of
 * the same location with another instance is not touched: returns 1 and
 * fills other (may be NULL) with it. Returns 0 registered, -1 with err when
 * the database failed. */
int fleet_db_heartbeat(struct fleet_db *db, const struct fleet_db_self *self, int checks,
                       struct fleet_member *other, char *err, size_t errlen);

/* Every row seen within FLEET_DB_FORGET_S, ordered by location, in a new
 * array (*out, *n; free(*out)). Returns 0, or -1 with err. */
int fleet_db_members(struct fleet_db *db, struct fleet_member **out, size_t *n, char *err,
                     size_t errlen);

/* A clean stop: marks self's row down at once (when it is still self's), so
 * the others take its "any" checks over at their next read. Returns 0 or -1. */
int fleet_db_leave(struct fleet_db *db, const struct fleet_db_self *self, char *err,
                   size_t errlen);

/* The SQL of migration 6 (store_pg_schema.c applies it with the others). */
extern const char fleet_db_schema_sql[];

#endif
