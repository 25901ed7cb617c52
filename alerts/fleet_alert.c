/* fleet_alert.c — the pure part of alerting across locations: counts, the
 * fire / resolve / hold decision, the derived alert id, the value and message
 * naming the failing locations, and the rows of a fleet transition. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/fleet_alert.h"
#include "core/buf.h"

struct fleet_count fleet_count(const struct fleet_location *v, size_t n)
{
	struct fleet_count c = { 0, 0, 0 };

	for (size_t i = 0; i < n; i++) {
		if (!v[i].fresh)
			c.unknown++;
		else if (v[i].firing)
			c.failing++;
		else
			c.passing++;
	}
	return c;
}

enum fleet_verdict fleet_decide(bool firing_now, struct fleet_count c, int min_locations)
{
	int min = min_locations < 1 ? 1 : min_locations;

	if (!firing_now)
		return c.failing >= min ? FLEET_FIRE : FLEET_HOLD;
	return c.failing + c.unknown < min ? FLEET_RESOLVE : FLEET_HOLD;
}

void fleet_alert_id(const char *rule, const char *check, int64_t episode, char out[UTIL_ID_LEN])
{
	char ep[24];
	uint64_t h = UTIL_HASH64_INIT;

	/* NUL separators: ("ab", "c") and ("a", "bc") hash apart. */
	snprintf(ep, sizeof(ep), "%" PRId64, episode);
	h = util_hash64_update(h, rule, strlen(rule) + 1);
	h = util_hash64_update(h, check, strlen(check) + 1);
	h = util_hash64_update(h, ep, strlen(ep));
	snprintf(out, UTIL_ID_LEN, "%016" PRIx64, h);
}

/* Appends the names of the failing locations of v, ", " between them. */
static void failing_names(struct buf *b, const struct fleet_location *v, size_t n)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (!v[i].fresh || !v[i].firing)
			continue;
		buf_printf(b, "%s%s", first ? "" : ", ", v[i].location);
		first = false;
	}
}

char *fleet_value(const struct fleet_location *v, size_t n)
{
	struct fleet_count c = fleet_count(v, n);
	struct buf b = BUF_INIT;

	buf_printf(&b, "%d of %zu locations failing", c.failing, n);
	if (c.failing > 0) {
		buf_printf(&b, ": ");
		failing_names(&b, v, n);
	}
	return buf_steal(&b, NULL);
}

char *fleet_message(const struct fleet_location *v, size_t n, const char *message)
{
	struct fleet_count c = fleet_count(v, n);
	struct buf b = BUF_INIT;

	if (c.failing == 0) {
		buf_printf(&b, "recovered at every location");
		return buf_steal(&b, NULL);
	}
	buf_printf(&b, "failing at ");
	failing_names(&b, v, n);
	if (message != NULL && message[0] != '\0')
		buf_printf(&b, ": %s", message);
	return buf_steal(&b, NULL);
}

size_t fleet_tx_add_event(struct outbox_tx *tx, const struct alert_event *ev,
                          char *const *notify, size_t n_notify, int64_t now_us, int64_t key_n)
{
	size_t first = tx->n_rows;
	size_t added = outbox_tx_add_event(tx, ev, notify, n_notify, now_us);

	for (size_t i = first; i < tx->n_rows; i++) {
		free(tx->rows[i].key);
		tx->rows[i].key = outbox_key(ev->alert_id, ev->kind, key_n, tx->rows[i].notifier);
	}
	return added;
}
