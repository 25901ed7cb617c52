/* shard.h — the probe threads: checks sharded over N loops, so the probing
 * ceiling is not one thread's.
 *
 * With one thread (agent.threads = 1) there is one scheduler, on the main
 * loop, and nothing here adds a hop. With N > 1, each of N worker threads
 * runs its own loop with its own curl multi, resolver, timers and
 * scheduler, and owns the checks whose name hashes to it (one owner per
 * check, stable across reloads); the main loop keeps a scheduler for the
 * heartbeat checks (passive: pinged through the HTTP API). A worker hands
 * every result to the main loop (loop_post), where the result callback runs
 * as with one thread: store, alert engine, publishing stay single-threaded.
 * What a worker handed over and the main loop did not take yet is bounded
 * (backlog.h): beyond it the worker holds its runs (skipped for overload)
 * rather than piling up results; a finished result is never dropped.
 *
 * Every function here is called on the main loop's thread. */
#ifndef PHAROS_SHARD_H
#define PHAROS_SHARD_H

#include <stdint.h>

#include "sched.h"

struct shards;

/* The default (agent.threads unset) for the config the agent starts with:
 * one probe thread for every 2,000 probes a second its checks ask for (sum
 * of 1 / interval over the checks that probe) or every 20,000 checks,
 * whichever is more, at least one and at most one per core. */
int shards_default_threads(const struct check *checks, size_t n_checks);

/* The arithmetic of shards_default_threads, for tests. */
int shards_threads_for(long cores, size_t n_checks, double probes_per_s);

/* n_threads <= 1: one scheduler on main_env's loop. The result callback fn
 * is always called on the main loop. Threads do not run until
 * shards_start (so the first conf and the seeding happen single-threaded),
 * and no check falls due before it: first due times count from the start
 * (sched_start), so a slow start-up is not lag.
 * NULL with err filled when a worker's resolver cannot start. */
struct shards *shards_new(const struct probe_env *main_env, int n_threads,
                          sched_result_fn *fn, void *arg, char *err, size_t errlen);
int shards_start(struct shards *sh);
/* Stops the worker loops and frees everything; every run must be over
 * (shards_stop and shards_abort_all first). Results the workers handed
 * over and the main loop did not run yet run here (one pass of the main
 * loop), before the workers are freed. */
void shards_free(struct shards *sh);

int shards_threads(const struct shards *sh);
/* The scheduler of the main loop: heartbeat checks (and every check with
 * one thread). */
struct sched *shards_main(struct shards *sh);
/* The scheduler that owns c, and the loop it runs on. */
struct sched *shards_sched_for(struct shards *sh, const struct check *c, struct loop **loop);

/* sched_set_conf on every scheduler, each on its own thread; returns when
 * all are done. */
void shards_set_conf(struct shards *sh, struct conf *conf);
void shards_stop(struct shards *sh);
void shards_abort_all(struct shards *sh);
bool shards_idle(struct shards *sh);
/* Every check's state (conf: the conf in force) and the summed statistics. */
struct snapshot *shards_snapshot(struct shards *sh, struct conf *conf);
void shards_get_stats(struct shards *sh, struct sched_stats *out);
/* Transfers in flight over every probe loop (for the stats line). */
int shards_http_in_flight(struct shards *sh);

#endif
