/* probe_fixture.h — one probe run on a private loop, shared by the unit tests
 * of the probe types (tcp, tls, icmp, dns): the loop, a resolver, the check
 * under test and the result its run handed back. Header-only: every unit test
 * is one program. */
#ifndef PHAROS_PROBE_FIXTURE_H
#define PHAROS_PROBE_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "core/loop.h"
#include "core/resolver.h"
#include "core/util.h"
#include "probes/check.h"
#include "probes/dns.h"
#include "probes/probe.h"
#include "probes/result.h"
#include "unit.h"

struct probe_fixture {
	struct loop *loop;
	struct probe_env env;
	struct check check;
	struct probe_result result;
	int done;                   /* how many times the run called back */
};

static inline void probe_fixture_on_done(struct probe_run *run, struct probe_result *r, void *arg)
{
	struct probe_fixture *f = arg;

	(void)run;
	probe_result_copy(&f->result, r);
	f->done++;
}

/* A new loop and resolver (resolver_server "host:port", NULL: the system's)
 * and an empty check of type named name. */
static inline void probe_fixture_init(struct probe_fixture *f, const char *resolver_server,
                                      const char *name, enum check_type type, uint64_t timeout_ms)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	f->loop = loop_new();
	f->env.loop = f->loop;
	f->env.resolver = resolver_new(f->loop, resolver_server, 2000, err, sizeof(err));
	assert_non_null(f->env.resolver);
	check_init(&f->check);
	f->check.name = xstrdup(name);
	f->check.group = xstrdup("");
	f->check.type = type;
	f->check.timeout_ms = timeout_ms;
}

/* Frees what init made (and the dns probes' shared resolvers), after
 * checking that every fd and timer of every run is gone from the loop. */
static inline void probe_fixture_fini(struct probe_fixture *f)
{
	probe_result_clear(&f->result);
	check_clear(&f->check);
	resolver_free(f->env.resolver);
	probe_dns_cleanup();
	assert_int_equal(loop_active_count(f->loop), 0);
	loop_free(f->loop);
}

/* Runs one probe of f->check to its end (10 s at most): exactly one call
 * back, never from inside probe_start. The result of an earlier run is
 * dropped first. */
static inline void probe_fixture_run(struct probe_fixture *f)
{
	uint64_t deadline = util_mono_ms() + 10000;

	probe_result_clear(&f->result);
	memset(&f->result, 0, sizeof(f->result));
	f->done = 0;
	probe_start(&f->env, &f->check, probe_fixture_on_done, f);
	assert_int_equal(f->done, 0);
	while (!f->done && util_mono_ms() < deadline)
		loop_run_once(f->loop, 100);
	assert_int_equal(f->done, 1);
}

static inline json_t *probe_fixture_detail(const struct probe_fixture *f, const char *key)
{
	return json_object_get(f->result.details, key);
}

static inline const char *probe_fixture_detail_str(const struct probe_fixture *f, const char *key)
{
	return json_string_value(probe_fixture_detail(f, key));
}

/* The first assertion whose description starts with prefix, or NULL. */
static inline const struct probe_assertion *probe_fixture_assertion(const struct probe_fixture *f,
                                                                    const char *prefix)
{
	for (size_t i = 0; i < f->result.n_assertions; i++)
		if (strncmp(f->result.assertions[i].what, prefix, strlen(prefix)) == 0)
			return &f->result.assertions[i];
	return NULL;
}

#endif
