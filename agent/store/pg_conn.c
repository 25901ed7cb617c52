/* pg_conn.c — libpq glue for the PostgreSQL store: connecting with a timeout
 * and a failure in words (never the password), text parameters, statements,
 * and the pure helpers (partition names, VALUES lists). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/database.h"
#include "core/util.h"
#include "store/pg_conn.h"

/* --- pure helpers ------------------------------------------------------------ */

const char *pg_failure_kind(const char *m)
{
	static const struct {
		const char *needle, *kind;
	} kinds[] = {
		{ "could not translate host name", "the host name does not resolve" },
		{ "password authentication failed", "authentication failed" },
		{ "no password supplied", "authentication failed (no password given)" },
		{ "no pg_hba.conf entry", "authentication failed (pg_hba.conf has no entry for this host, user and database)" },
		{ "authentication failed", "authentication failed" },
		{ "role \"", "authentication failed (no such role)" },
		{ "does not exist", "the database does not exist" },
		{ "SSL", "TLS failed" },
		{ "certificate", "TLS failed" },
		{ "Connection refused", "the server cannot be reached (connection refused)" },
		{ "timeout expired", "the server cannot be reached (connect timeout)" },
		{ "No route to host", "the server cannot be reached (no route)" },
		{ "Network is unreachable", "the server cannot be reached (network unreachable)" },
		{ "the database system is starting up", "the server is starting up" },
		{ "the database system is shutting down", "the server is shutting down" },
		{ "server closed the connection", "the server closed the connection" },
		{ "could not connect", "the server cannot be reached" },
	};

	if (m == NULL)
		return "connection failed";
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strstr(m, kinds[i].needle) != NULL)
			return kinds[i].kind;
	return "connection failed";
}

void pg_first_line(const char *msg, char *buf, size_t len)
{
	static const char *const prefixes[] = { "ERROR:  ", "FATAL:  ", "PANIC:  " };
	size_t n;

	if (msg == NULL)
		msg = "";
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(msg, prefixes[i], strlen(prefixes[i])) == 0)
			msg += strlen(prefixes[i]);
	n = strcspn(msg, "\n");
	while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\t' || msg[n - 1] == '\r'))
		n--;
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, msg, n);
	buf[n] = '\0';
}

/* Civil date of a day number (days since 1970-01-01), proleptic Gregorian. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void pg_partition_name(const char *table, int64_t day, char *buf, size_t len)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, len, "%s_p%04d%02d%02d", table, y, m, d);
}

int64_t pg_partition_day(const char *table, const char *name)
{
	size_t tl = strlen(table);
	int y, m, d;
	char tail;

	if (strncmp(name, table, tl) != 0 || strncmp(name + tl, "_p", 2) != 0 ||
	    strlen(name + tl + 2) != 8)
		return -1;
	for (int i = 0; i < 8; i++)
		if (name[tl + 2 + i] < '0' || name[tl + 2 + i] > '9')
			return -1;
	if (sscanf(name + tl + 2, "%4d%2d%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
	    d < 1 || d > 31)
		return -1;
	return days_from_civil(y, m, d);
}

char *pg_values_sql(size_t rows, size_t cols, size_t first)
{
	struct buf b = BUF_INIT;
	size_t k = first;

	for (size_t r = 0; r < rows; r++) {
		buf_adds(&b, r == 0 ? "(" : ",(");
		for (size_t c = 0; c < cols; c++)
			buf_printf(&b, c == 0 ? "$%zu" : ",$%zu", k++);
		buf_addc(&b, ')');
	}
	return buf_steal(&b, NULL);
}

/* --- text parameters ---------------------------------------------------------- */

void pg_params_text(struct pg_params *p, const char *s)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->values = xrealloc(p->values, p->cap * sizeof(*p->values));
	}
	p->values[p->n++] = s;
}

/* Keeps s (allocated) until clear, and adds it. */
static void params_owned(struct pg_params *p, char *s)
{
	if (p->n_owned == p->cap_owned) {
		p->cap_owned = p->cap_owned ? p->cap_owned * 2 : 32;
		p->owned = xrealloc(p->owned, p->cap_owned * sizeof(*p->owned));
	}
	p->owned[p->n_owned++] = s;
	pg_params_text(p, s);
}

void pg_params_clean_text(struct pg_params *p, const char *s)
{
	json_t *j;
	char *copy;

	if (s == NULL) {
		pg_params_text(p, NULL);
		return;
	}
	j = json_string(s);     /* jansson checks UTF-8; PostgreSQL refuses invalid text */
	if (j != NULL) {
		json_decref(j);
		pg_params_text(p, s);
		return;
	}
	copy = xstrdup(s);
	for (char *q = copy; *q != '\0'; q++)
		if ((unsigned char)*q >= 0x80)
			*q = '?';
	params_owned(p, copy);
}

void pg_params_text_copy(struct pg_params *p, const char *s)
{
	size_t before = p->n_owned;

	if (s == NULL) {
		pg_params_text(p, NULL);
		return;
	}
	pg_params_clean_text(p, s);
	if (p->n_owned == before) {     /* valid: not copied yet */
		p->n--;
		params_owned(p, xstrdup(s));
	}
}

void pg_params_int(struct pg_params *p, int64_t v)
{
	params_owned(p, xasprintf("%" PRId64, v));
}

void pg_params_opt_int(struct pg_params *p, int64_t v, int64_t none)
{
	if (v == none)
		pg_params_text(p, NULL);
	else
		pg_params_int(p, v);
}

void pg_params_bool(struct pg_params *p, bool v)
{
	pg_params_text(p, v ? "t" : "f");
}

void pg_params_clear(struct pg_params *p)
{
	for (size_t i = 0; i < p->n_owned; i++)
		free(p->owned[i]);
	p->n_owned = 0;
	p->n = 0;
}

void pg_params_free(struct pg_params *p)
{
	pg_params_clear(p);
	free(p->owned);
	free(p->values);
	memset(p, 0, sizeof(*p));
}

/* --- connections ------------------------------------------------------------- */

/* NOTICEs ("relation already exists, skipping") are expected, not news. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* err = "cannot connect to PostgreSQL at DISPLAY: KIND: first line". */
static void connect_error(const char *display, const char *msg, char *err, size_t errlen)
{
	char line[256];

	pg_first_line(msg, line, sizeof(line));
	snprintf(err, errlen, "cannot connect to PostgreSQL at %s: %s: %s", display,
	         pg_failure_kind(msg), line);
}

PGconn *pg_connect(const char *uri, char *err, size_t errlen)
{
	/* Earlier keywords are defaults: the URI (expanded from dbname) overrides them. */
	const char *const keys[] = { "connect_timeout", "application_name", "keepalives",
	                             "keepalives_idle", "keepalives_interval",
	                             "keepalives_count", "dbname", NULL };
	const char *const vals[] = { PG_CONNECT_TIMEOUT_S, "pharos", "1", "30", "10", "3", uri,
	                             NULL };
	char display[512];
	PGconn *c;

	database_display(uri, display, sizeof(display));
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL) {
		snprintf(err, errlen, "cannot connect to PostgreSQL at %s: out of memory", display);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		connect_error(display, PQerrorMessage(c), err, errlen);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	return c;
}

int pg_ensure(PGconn *c, const char *what, char *err, size_t errlen)
{
	if (PQstatus(c) == CONNECTION_OK)
		return 0;
	PQreset(c);
	if (PQstatus(c) == CONNECTION_OK) {
		PQsetNoticeProcessor(c, quiet_notice, NULL);
		return 0;
	}
	connect_error(what, PQerrorMessage(c), err, errlen);
	return -1;
}

int pg_exec(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);      /* simple protocol: several statements allowed */
	ExecStatusType st = PQresultStatus(r);
	char line[256];

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(r);
		return 0;
	}
	pg_first_line(r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c), line, sizeof(line));
	if (line[0] == '\0')
		pg_first_line(PQerrorMessage(c), line, sizeof(line));
	snprintf(err, errlen, "%s: %s", what, line[0] ? line : "connection lost");
	PQclear(r);
	return -1;
}

PGresult *pg_query(PGconn *c, const char *sql, const struct pg_params *p, const char *what,
                   char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, p ? (int)p->n : 0, NULL, p ? p->values : NULL, NULL,
	                           NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	char line[256];

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	pg_first_line(r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c), line, sizeof(line));
	if (line[0] == '\0')
		pg_first_line(PQerrorMessage(c), line, sizeof(line));
	snprintf(err, errlen, "%s: %s", what, line[0] ? line : "connection lost");
	PQclear(r);
	return NULL;
}

int64_t pg_int(const PGresult *r, int row, int col, int64_t none)
{
	if (PQgetisnull(r, row, col))
		return none;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *pg_text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

bool pg_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}
