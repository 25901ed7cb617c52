/* fleet.h — this agent as a member of a fleet (SPEC §6): agents on one
 * PostgreSQL database, each with its own agent.location. A thread of its own
 * registers the agent, heartbeats every FLEET_HEARTBEAT_MS and reads the
 * members (store/fleet_db.h: the database's clock decides who is live); the
 * scheduler asks fleet_runs_check() at each due time.
 *
 * On SQLite nothing of this runs: fleet_start() gives no fleet (NULL), and
 * every function below answers for NULL as an agent alone would (it runs
 * every check, its database is fine). */
#ifndef PHAROS_FLEET_H
#define PHAROS_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "store/fleet_db.h"

#define FLEET_HEARTBEAT_MS 5000

struct fleet;

/* With a PostgreSQL agent.database: registers (a live agent with the same
 * location refuses this one: -1, err "agent.location \"x\" is already used by
 * a live agent ..."), reads the members once and starts the thread; *out is
 * the fleet, also returned by fleet_running() from then on. Without one:
 * *out = NULL, 0. A database that does not answer at start is no reason to
 * stop: the thread keeps trying (0). */
int fleet_start(const struct conf *conf, struct fleet **out, char *err, size_t errlen);

/* Stops the thread, marks this agent down in the database (a clean stop:
 * the others take its "any" checks at once) and frees f. NULL is fine. */
void fleet_stop(struct fleet *f);

/* The configuration whose checks the heartbeat counts (takes a reference;
 * the previous one is released). */
void fleet_set_conf(struct fleet *f, struct conf *conf);

/* The fleet of this process, or NULL (SQLite, or not started). Any thread. */
struct fleet *fleet_running(void);

/* Whether this agent runs c now: locations "*": yes; a list: when its own
 * location is listed; "any": when its location wins rendezvous hashing
 * (highest hash of check name and location) among the live members, itself
 * always counted. NULL f: yes. Any thread; no allocation, a short lock. */
bool fleet_runs_check(const struct fleet *f, const struct check *c);

/* Rendezvous hashing itself (pure, for tests and fleet_runs_check): the
 * index in locations[0..n) of the one that runs check name; 0 when n is 0. */
size_t fleet_rendezvous(const char *name, const char *const *locations, size_t n);

/* A copy of the members as last read (live and down ones, location order) in
 * a new array *out (free it); returns how many. NULL f: 0. */
size_t fleet_members(const struct fleet *f, struct fleet_member **out);
/* The live ones only (this agent always among them). */
size_t fleet_live(const struct fleet *f, struct fleet_member **out);

/* Whether the last heartbeat reached the database within 2 heartbeats. NULL
 * f: true. */
bool fleet_database_ok(const struct fleet *f);
/* Wall clock µs since when the database has been out of reach, 0 while it is
 * not (or NULL f). */
int64_t fleet_database_lost_us(const struct fleet *f);

/* This agent's own location (the conf's at start). */
const char *fleet_location(const struct fleet *f);

#endif
