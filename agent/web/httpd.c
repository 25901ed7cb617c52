/* httpd.c — the HTTP server's listeners: sockets, libmicrohttpd set-up and
 * its limits, TLS and its reload, start and stop. One request, from its raw
 * target to its answer, is serve.c; the handlers are api.c, metrics.c and
 * the routes the layers above hand in (httpd_ops.routes).
 *
 * Threading: a pool of POLL_THREADS polling threads (epoll) serves every
 * connection; routes that may wait run on worker threads (serve.c). Until
 * 0.1 each connection had its own thread, capped at 64 connections: 64 slow
 * clients then locked /healthz out. Now thousands of idle or slow
 * connections cost a socket and a little memory each, not a thread.
 *
 * Limits, against slow and hostile clients: CONN_LIMIT_MAX connections (less
 * when the open-file limit is low), CONN_PER_IP from one address, and a
 * connection silent for CONN_TIMEOUT_S is closed, so a half-sent request
 * holds its slot for a few seconds only. Health, readiness and metrics can
 * also be served on a listener of their own (agent.health_listen) that a
 * flood of the main port cannot reach.
 *
 * Listening: the socket is created, bound and put to listen here and handed to
 * libmicrohttpd (MHD_OPTION_LISTEN_SOCKET) rather than given as
 * MHD_OPTION_SOCK_ADDR, so a bind failure is reported with its own errno
 * ("cannot listen on 127.0.0.1:9470: Address already in use") instead of a
 * generic failure of MHD_start_daemon(). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web/httpd.h"
#include "web/serve.h"
#include "core/log.h"
#include "core/util.h"

#define CONN_LIMIT_MAX    4096      /* connections of the main listener */
#define CONN_PER_IP       256       /* of them from one client address */
#define CONN_TIMEOUT_S    5         /* a connection silent this long is closed */
#define CONN_MEMORY       (32 * 1024)   /* per connection: request headers must fit */
#define FD_RESERVE        512       /* descriptors kept for probes, SQLite, notifiers */
#define HEALTH_CONN_LIMIT 64        /* connections of agent.health_listen */
#define POLL_THREADS      4
#define LISTEN_BACKLOG    512
#define MHD_LOG_EVERY_MS  1000      /* libmicrohttpd's complaints: one line a second */

/* --- listening --------------------------------------------------------------- */

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" / "*:PORT" (every address) into
 * host (NULL for every address) and port. Returns 0, or -1 with err. */
static int split_listen(const char *addr, char **host, char **port, char *err, size_t errlen)
{
	const char *colon;

	*host = *port = NULL;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (end == NULL || end[1] != ':') {
			snprintf(err, errlen, "bad listen address \"%s\": expected [ADDRESS]:PORT", addr);
			return -1;
		}
		*host = xstrndup(addr + 1, (size_t)(end - addr - 1));
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL || memchr(addr, ':', (size_t)(colon - addr)) != NULL) {
			snprintf(err, errlen, "bad listen address \"%s\": expected HOST:PORT or [ADDRESS]:PORT",
			         addr);
			return -1;
		}
		if (colon > addr && !(colon - addr == 1 && addr[0] == '*'))
			*host = xstrndup(addr, (size_t)(colon - addr));
	}
	if (colon[1] == '\0' || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535) {
		snprintf(err, errlen, "bad listen address \"%s\": bad port", addr);
		free(*host);
		*host = NULL;
		return -1;
	}
	*port = xstrdup(colon + 1);
	return 0;
}

/* A listening TCP socket on addr. Returns the fd, or -1 with err
 * ("cannot listen on ADDRESS: reason"). *v6 tells the family. */
static int open_listener(const char *addr, bool *v6, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char *host = NULL, *port = NULL;
	int fd = -1, one = 1, rc;

	if (split_listen(addr, &host, &port, err, errlen) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, gai_strerror(rc));
		goto out;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: socket: %s", addr, strerror(errno));
		goto out;
	}
	/* Restart without waiting for TIME_WAIT connections to expire. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*v6 = ai->ai_family == AF_INET6;
	if (*v6)        /* "[::]:9470" means IPv6 only, as written */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		fd = -1;
		goto out;
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	free(host);
	free(port);
	return fd;
}

/* --- limits ------------------------------------------------------------------ */

/* The connection limit of the main listener: CONN_LIMIT_MAX, or fewer when
 * the open-file limit leaves less room beside FD_RESERVE. The soft limit is
 * raised to the hard one first (a service's default of 1024 is too low). */
static unsigned conn_limit(void)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024 - FD_RESERVE;
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < CONN_LIMIT_MAX + FD_RESERVE + 256) {
		struct rlimit up = rl;

		up.rlim_cur = rl.rlim_max < CONN_LIMIT_MAX + FD_RESERVE + 256 ? rl.rlim_max
		              : CONN_LIMIT_MAX + FD_RESERVE + 256;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	room = rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE : rl.rlim_cur / 2;
	return room < CONN_LIMIT_MAX ? (unsigned)room : CONN_LIMIT_MAX;
}

/* libmicrohttpd's error messages, into our log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t last_ms;        /* guarded by lock */
	static unsigned suppressed;
	char buf[512], more[16] = "";
	uint64_t now = util_mono_ms();
	bool say;
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/* A client that is not speaking TLS to a TLS listener (a tcp check, a
	 * port scan) is the client's problem, not the agent's: debug, not warn. */
	if (strstr(buf, "andshake") || strstr(buf, "TLS") || strstr(buf, "GnuTLS")) {
		log_debug("httpd: libmicrohttpd", "error", buf);
		return;
	}
	/* A flood (connections past a limit, broken requests) would write a line
	 * per connection: one line a second at most, with a count of the rest. */
	pthread_mutex_lock(&lock);
	say = last_ms == 0 || now - last_ms >= MHD_LOG_EVERY_MS;
	if (say) {
		if (suppressed > 0)
			snprintf(more, sizeof(more), "%u", suppressed);
		last_ms = now;
		suppressed = 0;
	} else {
		suppressed++;
	}
	pthread_mutex_unlock(&lock);
	if (!say)
		return;
	if (more[0] != '\0')
		log_warn("httpd: libmicrohttpd", "error", buf, "suppressed", more);
	else
		log_warn("httpd: libmicrohttpd", "error", buf);
}

/* --- TLS ---------------------------------------------------------------------- */

#define PEM_MAX (1024 * 1024)       /* a certificate chain or key file, at most */

/* The whole of a PEM file, NUL-terminated (libmicrohttpd takes PEM text).
 * Returns NULL with err ("cannot read FILE: reason") on failure. */
static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(PEM_MAX + 1);
	n = fread(buf, 1, PEM_MAX + 1, f);
	if (ferror(f) || n == 0 || n > PEM_MAX) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path,
		         ferror(f) ? strerror(errno) : n == 0 ? "empty file" : "larger than 1 MiB");
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

/* Reads conf's tls_cert and tls_key into *cert / *key (both NULL when TLS is
 * not configured). Returns 0, or -1 with err. */
static int read_tls(const struct conf *conf, char **cert, char **key, char *err, size_t errlen)
{
	*cert = *key = NULL;
	if (conf->agent.tls_cert == NULL || conf->agent.tls_key == NULL)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "agent.tls_cert is set but this libmicrohttpd was built without "
		         "TLS support (GnuTLS): cannot serve HTTPS");
		return -1;
	}
	*cert = read_pem(conf->agent.tls_cert, "tls_cert", err, errlen);
	if (*cert == NULL)
		return -1;
	*key = read_pem(conf->agent.tls_key, "tls_key", err, errlen);
	if (*key == NULL) {
		free(*cert);
		*cert = NULL;
		return -1;
	}
	return 0;
}

/* Frees a private key's text, wiped first. NULL is ignored. */
static void free_key(char *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key, strlen(key));
	free(key);
}

static bool str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* How one daemon is set up: its listener, limits and TLS material. */
struct daemon_setup {
	struct listener *l;
	int fd;
	bool v6;
	unsigned pool;              /* polling threads; 0 or 1: one */
	unsigned limit;             /* connections */
	unsigned per_ip;            /* connections from one address; 0: no cap */
	const char *cert, *key;     /* PEM text; NULL: plain HTTP */
};

#define OPT(o, n, opt, val, ptr) \
	((o)[(n)++] = (struct MHD_OptionItem){ (opt), (intptr_t)(val), (void *)(ptr) })

/* Starts libmicrohttpd as ds says. The socket stays ours when this fails. */
static struct MHD_Daemon *daemon_run(struct httpd *h, const struct daemon_setup *ds)
{
	/* MHD_USE_ITC: needed by MHD_quiesce_daemon, which hands the socket to
	 * the next daemon when a reload changes the certificate; suspend and
	 * resume let slow routes run on workers (serve.c). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
	                 MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem o[16];
	size_t n = 0;

	if (ds->v6)
		flags |= MHD_USE_IPv6;
	if (ds->cert != NULL)
		flags |= MHD_USE_TLS;
	/* The logger goes first: libmicrohttpd uses its own for anything said
	 * while parsing the options before it. */
	OPT(o, n, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h);
	OPT(o, n, MHD_OPTION_LISTEN_SOCKET, ds->fd, NULL);
	if (ds->pool > 1)
		OPT(o, n, MHD_OPTION_THREAD_POOL_SIZE, ds->pool, NULL);
	OPT(o, n, MHD_OPTION_CONNECTION_LIMIT, ds->limit, NULL);
	if (ds->per_ip > 0)
		OPT(o, n, MHD_OPTION_PER_IP_CONNECTION_LIMIT, ds->per_ip, NULL);
	OPT(o, n, MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL);
	OPT(o, n, MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL);
	OPT(o, n, MHD_OPTION_URI_LOG_CALLBACK, serve_on_uri, h);
	OPT(o, n, MHD_OPTION_NOTIFY_COMPLETED, serve_on_completed, h);
	if (ds->cert != NULL) {
		OPT(o, n, MHD_OPTION_HTTPS_MEM_CERT, 0, ds->cert);
		OPT(o, n, MHD_OPTION_HTTPS_MEM_KEY, 0, ds->key);
	}
	OPT(o, n, MHD_OPTION_END, 0, NULL);
	return MHD_start_daemon(flags, 0, NULL, NULL, serve_on_request, ds->l,
	                        MHD_OPTION_ARRAY, o, MHD_OPTION_END);
}

/* Starts the main daemon on the listening socket fd, over TLS when cert and
 * key (PEM text) are given. The socket stays ours when this fails. */
static struct MHD_Daemon *daemon_start(struct httpd *h, int fd, bool v6,
                                       const char *cert, const char *key)
{
	struct daemon_setup ds = {
		.l = &h->main_l, .fd = fd, .v6 = v6, .pool = POLL_THREADS, .limit = h->conn_limit,
		.per_ip = CONN_PER_IP, .cert = cert, .key = key,
	};

	return daemon_run(h, &ds);
}

/* Loads cert and key into a throwaway daemon that has no socket: libmicrohttpd
 * (GnuTLS) parses them and checks that they match. A failed start of a real
 * daemon closes the listening socket it was given, so material is vetted
 * here first. Returns true when they load. */
static bool tls_loads(struct httpd *h, const char *cert, const char *key)
{
	struct MHD_Daemon *d;

	if (cert == NULL)
		return true;
	d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0,
	                     NULL, NULL, serve_on_request, &h->main_l,
	                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	                     MHD_OPTION_HTTPS_MEM_CERT, cert,
	                     MHD_OPTION_HTTPS_MEM_KEY, key,
	                     MHD_OPTION_END);
	if (d == NULL)
		return false;
	MHD_stop_daemon(d);
	return true;
}

/* A daemon replaced by a reload, on its way out. */
struct retiree {
	struct httpd *h;
	struct MHD_Daemon *d;
};

/* A replaced daemon is stopped on its own thread: its suspended connections
 * (an admin run can take a check's timeout) must be resumed first, which
 * must not hold up the loop that called httpd_update_conf. */
static void *retire_daemon(void *arg)
{
	struct retiree *r = arg;

	serve_workers_wait(r->h);
	MHD_stop_daemon(r->d);
	serve_workers_reopen(r->h);     /* the new daemon's slow routes run again */
	free(r);
	return NULL;
}

/* After a reload: when the certificate, the key or TLS on/off changed, a new
 * daemon with the new material takes over the listening socket and the old
 * one finishes its requests and stops. On any failure the old one stays. */
static void httpd_update_tls(struct httpd *h, const struct conf *conf)
{
	char err[512];
	char *cert, *key;
	struct MHD_Daemon *next;
	MHD_socket fd;
	const union MHD_DaemonInfo *info;
	bool v6;
	pthread_t th;
	struct retiree *r;

	if (read_tls(conf, &cert, &key, err, sizeof(err)) != 0) {
		log_error("httpd: reload: keeping the previous TLS settings", "error", err);
		return;
	}
	if (str_same(cert, h->tls_cert_pem) && str_same(key, h->tls_key_pem))
		goto out;
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL) {
		log_error("httpd: reload: cannot change TLS settings (no listening socket); restart pharos");
		goto out;
	}
	fd = info->listen_fd;
	v6 = (MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_FLAGS)->flags & MHD_USE_IPv6) != 0;
	/* Vet the material and start the new daemon before the old one lets go:
	 * if the certificate is refused, the old one keeps serving. */
	if (!tls_loads(h, cert, key)) {
		log_error("httpd: reload: libmicrohttpd rejected the new TLS certificate or key; "
		          "keeping the previous ones", "tls_cert", conf->agent.tls_cert ? conf->agent.tls_cert : "",
		          "tls_key", conf->agent.tls_key ? conf->agent.tls_key : "");
		goto out;
	}
	next = daemon_start(h, fd, v6, cert, key);
	if (next == NULL) {
		log_error("httpd: reload: libmicrohttpd failed to start with the new TLS settings; "
		          "keeping the previous ones");
		goto out;
	}
	if (MHD_quiesce_daemon(h->daemon) == MHD_INVALID_SOCKET)
		log_warn("httpd: reload: the previous listener did not quiesce");
	r = xmalloc(sizeof(*r));
	r->h = h;
	r->d = h->daemon;
	if (pthread_create(&th, NULL, retire_daemon, r) == 0) {
		h->retirers = xrealloc(h->retirers, (h->n_retirers + 1) * sizeof(*h->retirers));
		h->retirers[h->n_retirers++] = th;
	} else {
		free(r);
		serve_workers_wait(h);
		MHD_stop_daemon(h->daemon);
		serve_workers_reopen(h);
	}
	h->daemon = next;
	free(h->tls_cert_pem);
	free_key(h->tls_key_pem);
	h->tls_cert_pem = cert;
	h->tls_key_pem = key;
	cert = key = NULL;
	log_info("httpd: listening", "listen", h->listen, "tls", h->tls_cert_pem ? "on" : "off");
out:
	free(cert);
	free_key(key);
}

/* --- health listener ------------------------------------------------------- */

/* Starts the listener of agent.health_listen, when set: plain HTTP, the
 * health routes only, its own connection budget. Returns 0, or -1 with err. */
static int health_start(struct httpd *h, char *err, size_t errlen)
{
	struct daemon_setup ds = { .l = &h->health_l, .limit = HEALTH_CONN_LIMIT };

	if (h->health_listen == NULL)
		return 0;
	ds.fd = open_listener(h->health_listen, &ds.v6, err, errlen);
	if (ds.fd < 0)
		return -1;
	h->health = daemon_run(h, &ds);
	if (h->health == NULL) {
		snprintf(err, errlen, "cannot listen on %s: libmicrohttpd failed to start",
		         h->health_listen);
		close(ds.fd);
		return -1;
	}
	log_info("httpd: health listener", "listen", h->health_listen);
	return 0;
}

/* --- public ------------------------------------------------------------------ */

/* Binds conf->agent.listen and starts serving. The ops are copied. Returns
 * NULL with err filled when the address is bad, cannot be bound, or
 * libmicrohttpd refuses to start. */
struct httpd *httpd_start(const struct conf *conf, const struct httpd_ops *ops,
                          char *err, size_t errlen)
{
	struct httpd *h;
	bool v6 = false;
	int fd;

	if (conf->agent.listen == NULL || conf->agent.listen[0] == '\0') {
		snprintf(err, errlen, "no listen address");
		return NULL;
	}
	fd = open_listener(conf->agent.listen, &v6, err, errlen);
	if (fd < 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->ops = *ops;
	h->main_l.h = h;
	h->health_l.h = h;
	h->health_l.health_only = true;
	h->conn_limit = conn_limit();
	h->listen = xstrdup(conf->agent.listen);
	h->health_listen = xstrdup(conf->agent.health_listen);
	h->db_path = xstrdup(conf->agent.database);
	h->admin_token = xstrdup(conf->agent.admin_token);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->workers_idle, NULL);
	if (read_tls(conf, &h->tls_cert_pem, &h->tls_key_pem, err, errlen) != 0) {
		close(fd);
		httpd_stop(h);
		return NULL;
	}

	if (!tls_loads(h, h->tls_cert_pem, h->tls_key_pem)) {
		snprintf(err, errlen, "cannot serve HTTPS on %s: libmicrohttpd rejected the "
		         "certificate or key (%s, %s; see the libmicrohttpd error above)",
		         h->listen, conf->agent.tls_cert, conf->agent.tls_key);
		close(fd);
		httpd_stop(h);
		return NULL;
	}
	h->daemon = daemon_start(h, fd, v6, h->tls_cert_pem, h->tls_key_pem);
	if (h->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s: libmicrohttpd failed to start", h->listen);
		close(fd);
		httpd_stop(h);
		return NULL;
	}
	if (health_start(h, err, errlen) != 0) {
		httpd_stop(h);
		return NULL;
	}
	log_info("httpd: listening", "listen", h->listen, "tls", h->tls_cert_pem ? "on" : "off");
	return h;
}

/* Takes the new admin token (or its absence) from conf after a reload. */
void httpd_update_conf(struct httpd *h, const struct conf *conf)
{
	char *token = xstrdup(conf->agent.admin_token);

	pthread_mutex_lock(&h->lock);
	free(h->admin_token);
	h->admin_token = token;
	pthread_mutex_unlock(&h->lock);
	httpd_update_tls(h, conf);
	if (!str_same(conf->agent.health_listen, h->health_listen))
		log_warn("httpd: reload: agent.health_listen changed; it takes effect at the next start",
		         "health_listen", h->health_listen ? h->health_listen : "");
}

/* Stops libmicrohttpd (waiting for requests in progress, an admin run
 * included), closes the pooled readers and frees h. NULL is ignored. */
void httpd_stop(struct httpd *h)
{
	MHD_socket fd = MHD_INVALID_SOCKET;

	if (h == NULL)
		return;
	/* No new connections while the workers finish: a daemon must not be
	 * stopped with a connection suspended. The quiesced socket is ours. */
	if (h->daemon != NULL)
		fd = MHD_quiesce_daemon(h->daemon);
	serve_workers_wait(h);
	if (h->daemon != NULL)
		MHD_stop_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	if (h->health != NULL)
		MHD_stop_daemon(h->health);
	for (size_t i = 0; i < h->n_retirers; i++)
		pthread_join(h->retirers[i], NULL);
	free(h->retirers);
	free(h->tls_cert_pem);
	free_key(h->tls_key_pem);
	serve_readers_close(h);
	pthread_cond_destroy(&h->workers_idle);
	pthread_mutex_destroy(&h->lock);
	free(h->admin_token);
	free(h->health_listen);
	free(h->db_path);
	free(h->listen);
	free(h);
}
