/* store_pg_fleet.c — the PostgreSQL store's read of the fleet's latest
 * results (fleet_latest, written with every batch by store_pg.c): only the
 * rows that changed since the caller's previous read, so that an agent can
 * refresh its view of 100,000 checks at 3 locations every few seconds.
 *
 * "Changed since" is decided by the database, never by a clock: every row
 * carries the id of the transaction that wrote it (txid), and a read notes
 * the oldest transaction still running when it looked (the xmin of its
 * snapshot). Every transaction below that had finished, so all it wrote was
 * seen; the next read asks for txid >= that mark only. A batch committing
 * late (a slow probe, a buffered partition) is thus never missed. */
#include <stdlib.h>

#include "core/log.h"
#include "store/store_pg_read.h"

/* The mark comes with every row (one snapshot for both); the LEFT JOIN
 * gives a row of NULLs when nothing changed. */
static const char fleet_sql[] =
	"WITH mark AS (SELECT txid_snapshot_xmin(txid_current_snapshot()) AS xmin)"
	" SELECT mark.xmin, f.check_name, f.location, f.ts_us, f.ok, f.error, f.message,"
	" f.duration_us, f.run_id FROM mark LEFT JOIN fleet_latest f ON f.txid >= $1";

struct fleet_read {
	store_fleet_fn *fn;
	void *arg;
	int64_t mark;
};

static void fleet_rows(void *arg, const PGresult *res)
{
	struct fleet_read *fr = arg;

	for (int i = 0; i < PQntuples(res); i++) {
		struct store_fleet_row row;

		fr->mark = pg_int(res, i, 0, fr->mark);
		if (PQgetisnull(res, i, 1))
			continue;
		row.check = pg_text(res, i, 1);
		row.location = pg_text(res, i, 2);
		row.ts_us = pg_int(res, i, 3, 0);
		row.ok = pg_bool(res, i, 4);
		row.error = pg_text(res, i, 5);
		row.message = pg_text(res, i, 6);
		row.duration_us = pg_int(res, i, 7, 0);
		row.run_id = pg_text(res, i, 8);
		fr->fn(fr->arg, &row);
	}
}

/* Reads through a cursor (pg_read_each): the first read of a large fleet
 * is hundreds of thousands of rows, never held as one PGresult. */
int pg_fleet_latest(struct store_reader *base, int64_t *cursor, store_fleet_fn *fn, void *arg)
{
	struct fleet_read fr = { .fn = fn, .arg = arg, .mark = *cursor };
	struct pg_params p = { 0 };
	int rc;

	pg_params_int(&p, *cursor);
	rc = pg_read_each((struct pg_reader *)base, fleet_sql, &p, "fleet results", fleet_rows, &fr);
	pg_params_free(&p);
	if (rc == 0)
		*cursor = fr.mark;
	return rc;
}
