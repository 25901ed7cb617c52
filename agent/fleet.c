/* fleet.c — this agent as a member of a fleet (fleet.h): the membership
 * thread (register, heartbeat, read the members, every 5 s, over a
 * connection of its own), the view of the live members it publishes under a
 * short mutex, and the answer to "does this agent run that check now"
 * (rendezvous hashing for "any", the list for a list).
 *
 * Why no coordinator: every agent computes the same owner for an "any" check
 * from the same inputs (the check's name and the live locations, which the
 * database's clock decides), so the agents agree without talking to each
 * other. Around a membership change two agents may briefly disagree (one has
 * read the new list, the other not yet): a check then runs twice, or once
 * late, for at most one heartbeat. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/database.h"
#include "core/log.h"
#include "core/util.h"
#include "fleet.h"

struct fleet {
	char *location, *instance, *listen;
	struct fleet_db *db;            /* the fleet thread's only */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;           /* guards everything below */
	pthread_cond_t wake;
	bool stopping;
	struct conf *conf;              /* whose checks the heartbeat counts */
	struct fleet_member *members;   /* as last read: live and down */
	size_t n_members;
	uint64_t *live_hash;            /* hashes of the live locations, self among them */
	const char **live_loc;          /* into members[] or location */
	size_t n_live;
	int self_live;                  /* index of self in live_loc */
	bool db_ok;
	int64_t last_ok_mono_ms;        /* last heartbeat that reached the database */
	int64_t lost_since_us;          /* wall clock; 0 while db_ok */
};

static struct fleet *running_fleet;     /* atomic: fleet_running() */

/* --- rendezvous hashing ------------------------------------------------------ */

/* splitmix64's finaliser: FNV-1a's low bits are weak, so the pair is mixed
 * before scores are compared. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t score(uint64_t name_hash, uint64_t location_hash)
{
	return mix64(name_hash ^ mix64(location_hash));
}

/* Whether (s, loc) beats (best_s, best_loc): the higher score, then the
 * smaller location (a tie every agent breaks the same way). */
static bool beats(uint64_t s, const char *loc, uint64_t best_s, const char *best_loc)
{
	return s > best_s || (s == best_s && strcmp(loc, best_loc) < 0);
}

size_t fleet_rendezvous(const char *name, const char *const *locations, size_t n)
{
	uint64_t nh = util_hash64(name), best_s = 0;
	size_t best = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t s = score(nh, util_hash64(locations[i]));

		if (i == 0 || beats(s, locations[i], best_s, locations[best])) {
			best = i;
			best_s = s;
		}
	}
	return best;
}

bool fleet_runs_check(const struct fleet *cf, const struct check *c)
{
	struct fleet *f = (struct fleet *)cf;
	uint64_t nh, best_s = 0;
	size_t best = 0;
	bool mine;

	if (f == NULL || c->locations_mode == CHECK_LOC_ALL)
		return true;
	if (c->locations_mode == CHECK_LOC_LIST) {
		for (size_t i = 0; i < c->n_locations; i++)
			if (strcmp(c->locations[i], f->location) == 0)
				return true;
		return false;
	}
	nh = util_hash64(c->name);
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_live; i++) {
		uint64_t s = score(nh, f->live_hash[i]);

		if (i == 0 || beats(s, f->live_loc[i], best_s, f->live_loc[best])) {
			best = i;
			best_s = s;
		}
	}
	mine = f->n_live == 0 || (int)best == f->self_live;
	pthread_mutex_unlock(&f->lock);
	return mine;
}

/* --- the view ---------------------------------------------------------------- */

/* Installs members (taken over) and the live set built from them, self
 * always in it. With none live (the database out of reach too long): self
 * alone, so this agent runs every "any" check rather than none. */
static void view_install(struct fleet *f, struct fleet_member *members, size_t n)
{
	size_t n_live = 0;
	uint64_t *hash = xcalloc(n + 1, sizeof(*hash));
	const char **loc = xcalloc(n + 1, sizeof(*loc));
	int self = -1;
	struct fleet_member *old_members;
	uint64_t *old_hash;
	const char **old_loc;

	for (size_t i = 0; i < n; i++) {
		bool is_self = strcmp(members[i].location, f->location) == 0;

		if (!members[i].live && !is_self)
			continue;
		if (is_self)
			self = (int)n_live;
		loc[n_live] = members[i].location;
		hash[n_live++] = util_hash64(members[i].location);
	}
	if (self < 0) {
		self = (int)n_live;
		loc[n_live] = f->location;
		hash[n_live++] = util_hash64(f->location);
	}
	pthread_mutex_lock(&f->lock);
	old_members = f->members;
	old_hash = f->live_hash;
	old_loc = f->live_loc;
	f->members = members;
	f->n_members = n;
	f->live_hash = hash;
	f->live_loc = loc;
	f->n_live = n_live;
	f->self_live = self;
	pthread_mutex_unlock(&f->lock);
	free(old_members);
	free(old_hash);
	free(old_loc);
}

/* "a,b,c": the live locations, for the log. */
static void live_list(struct fleet *f, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_live && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", f->live_loc[i]);
	pthread_mutex_unlock(&f->lock);
}

/* --- the membership thread --------------------------------------------------- */

static int64_t mono_ms(void)
{
	return (int64_t)util_mono_us() / 1000;
}

/* The checks of the current conf this agent runs now. */
static int count_owned(struct fleet *f)
{
	struct conf *conf;
	int n = 0;

	pthread_mutex_lock(&f->lock);
	conf = conf_ref(f->conf);
	pthread_mutex_unlock(&f->lock);
	for (size_t i = 0; conf != NULL && i < conf->n_checks; i++)
		n += fleet_runs_check(f, &conf->checks[i]);
	conf_unref(conf);
	return n;
}

static void set_db_state(struct fleet *f, bool ok, const char *err)
{
	bool was;

	pthread_mutex_lock(&f->lock);
	was = f->db_ok;
	f->db_ok = ok;
	if (ok) {
		f->last_ok_mono_ms = mono_ms();
		f->lost_since_us = 0;
	} else if (f->lost_since_us == 0) {
		f->lost_since_us = util_wall_us();
	}
	pthread_mutex_unlock(&f->lock);
	if (was && !ok)
		log_warn("fleet: the database is out of reach; probing goes on", "error", err);
	else if (!was && ok)
		log_info("fleet: the database answers again");
}

/* One heartbeat and one read of the members. Returns 0, 1 when a live
 * agent holds this location (other filled), -1 when the database failed. */
static int fleet_round(struct fleet *f, struct fleet_member *other)
{
	struct fleet_db_self self = { .location = f->location, .instance = f->instance,
	                              .version = PHAROS_VERSION, .listen = f->listen };
	struct fleet_member *members = NULL;
	char err[512] = "", before[1024], after[1024];
	size_t n = 0;
	int rc;

	rc = fleet_db_heartbeat(f->db, &self, count_owned(f), other, err, sizeof(err));
	if (rc == 0 && fleet_db_members(f->db, &members, &n, err, sizeof(err)) != 0)
		rc = -1;
	set_db_state(f, rc == 0, err);
	if (rc != 0) {
		/* Out of reach longer than a member lives: alone until it answers. */
		if (mono_ms() - f->last_ok_mono_ms > FLEET_DB_LIVE_S * 1000) {
			n = fleet_members(f, &members);
			for (size_t i = 0; i < n; i++)
				members[i].live = false;
			view_install(f, members, n);
		}
		return rc;
	}
	live_list(f, before, sizeof(before));
	view_install(f, members, n);
	live_list(f, after, sizeof(after));
	if (strcmp(before, after) != 0)
		log_info("fleet: live agents", "location", f->location, "live", after);
	return 0;
}

/* Seconds to the next round: a heartbeat period, backing off to 2 of them
 * while the database keeps failing (each round reconnects). No more: the
 * others count this agent's locations only while its heartbeat is recent,
 * so a long backoff would keep it out of the fleet after the database
 * returned. */
static int next_round_s(int fails)
{
	int k = fails <= 1 ? 1 : 2;

	return k * FLEET_HEARTBEAT_MS / 1000;
}

static void *fleet_thread(void *arg)
{
	struct fleet *f = arg;
	struct fleet_member other;
	bool warned = false;
	int fails = 0, rc;

	pthread_setname_np(pthread_self(), "pharos-fleet");
	pthread_mutex_lock(&f->lock);
	while (!f->stopping) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += next_round_s(fails);
		pthread_cond_timedwait(&f->wake, &f->lock, &until);
		if (f->stopping)
			break;
		pthread_mutex_unlock(&f->lock);
		rc = fleet_round(f, &other);
		fails = rc < 0 ? fails + 1 : 0;
		if (rc == 1 && !warned) {
			log_error("fleet: another live agent took this agent's location; give each agent "
			          "its own agent.location", "location", f->location, "other", other.instance);
			warned = true;
		}
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* --- public ------------------------------------------------------------------ */

static void fleet_free(struct fleet *f)
{
	fleet_db_free(f->db);
	conf_unref(f->conf);
	free(f->members);
	free(f->live_hash);
	free(f->live_loc);
	free(f->location);
	free(f->instance);
	free(f->listen);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->wake);
	free(f);
}

/* The instance: the host and the listen address, which no two running
 * agents share, and which a restart keeps (so an agent restarted at once
 * after a crash is not refused as its own duplicate). */
static char *instance_name(const struct conf *conf)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		util_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	return xasprintf("%s %s", host, conf->agent.listen);
}

int fleet_start(const struct conf *conf, struct fleet **out, char *err, size_t errlen)
{
	struct fleet_member other;
	struct fleet *f;
	int rc;

	*out = NULL;
	if (database_kind(conf->agent.database, NULL, 0) != DATABASE_POSTGRESQL)
		return 0;
	f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	f->location = xstrdup(conf->agent.location);
	f->instance = instance_name(conf);
	f->listen = xstrdup(conf->agent.listen);
	f->db_ok = true;
	f->last_ok_mono_ms = mono_ms();
	f->db = fleet_db_new(conf->agent.database);
	view_install(f, NULL, 0);
	rc = fleet_round(f, &other);
	if (rc == 1) {
		int64_t ago = (util_wall_us() - other.last_seen_us) / 1000000;

		snprintf(err, errlen, "agent.location \"%s\" is already used by a live agent (%s, last "
		         "seen %llds ago): give each agent of a fleet its own location", f->location,
		         other.instance, (long long)(ago > 0 ? ago : 0));
		fleet_free(f);
		return -1;
	}
	if (pthread_create(&f->thread, NULL, fleet_thread, f) != 0) {
		snprintf(err, errlen, "cannot start the fleet thread");
		fleet_free(f);
		return -1;
	}
	f->started = true;
	__atomic_store_n(&running_fleet, f, __ATOMIC_RELEASE);
	log_info("fleet: joined", "location", f->location, "database_ok", rc == 0 ? "true" : "false");
	*out = f;
	return 0;
}

void fleet_stop(struct fleet *f)
{
	struct fleet_db_self self;
	char err[256];

	if (f == NULL)
		return;
	__atomic_store_n(&running_fleet, NULL, __ATOMIC_RELEASE);
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
	if (f->started)
		pthread_join(f->thread, NULL);
	self = (struct fleet_db_self){ .location = f->location, .instance = f->instance,
	                               .version = PHAROS_VERSION, .listen = f->listen };
	if (fleet_db_leave(f->db, &self, err, sizeof(err)) != 0)
		log_warn("fleet: could not mark this agent down; the others see it down within 15 s",
		         "error", err);
	fleet_free(f);
}

void fleet_set_conf(struct fleet *f, struct conf *conf)
{
	struct conf *old;

	if (f == NULL)
		return;
	conf_ref(conf);
	pthread_mutex_lock(&f->lock);
	old = f->conf;
	f->conf = conf;
	pthread_mutex_unlock(&f->lock);
	conf_unref(old);
}

struct fleet *fleet_running(void)
{
	return __atomic_load_n(&running_fleet, __ATOMIC_ACQUIRE);
}

size_t fleet_members(const struct fleet *cf, struct fleet_member **out)
{
	struct fleet *f = (struct fleet *)cf;
	size_t n;

	*out = NULL;
	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->lock);
	n = f->n_members;
	*out = xcalloc(n + 1, sizeof(**out));
	if (n > 0)
		memcpy(*out, f->members, n * sizeof(**out));
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t fleet_live(const struct fleet *f, struct fleet_member **out)
{
	size_t n = fleet_members(f, out), k = 0;

	for (size_t i = 0; i < n; i++)
		if ((*out)[i].live || strcmp((*out)[i].location, f->location) == 0)
			(*out)[k++] = (*out)[i];
	return k;
}

bool fleet_database_ok(const struct fleet *cf)
{
	struct fleet *f = (struct fleet *)cf;
	bool ok;

	if (f == NULL)
		return true;
	pthread_mutex_lock(&f->lock);
	ok = f->db_ok && mono_ms() - f->last_ok_mono_ms <= 2 * FLEET_HEARTBEAT_MS + 1000;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

int64_t fleet_database_lost_us(const struct fleet *cf)
{
	struct fleet *f = (struct fleet *)cf;
	int64_t since;

	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->lock);
	since = f->lost_since_us;
	/* A heartbeat stuck in libpq has not failed yet: lost since it was due. */
	if (since == 0 && mono_ms() - f->last_ok_mono_ms > 2 * FLEET_HEARTBEAT_MS + 1000)
		since = util_wall_us() - (mono_ms() - f->last_ok_mono_ms) * 1000;
	pthread_mutex_unlock(&f->lock);
	return since;
}

const char *fleet_location(const struct fleet *f)
{
	return f != NULL ? f->location : "";
}
