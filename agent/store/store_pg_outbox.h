/* store_pg_outbox.h — the alert rows both writers of PostgreSQL share
 * (store_pg_outbox.c): one notification into the outbox, alert state and
 * history, and the lease periods of a fleet's deliveries. */
#ifndef PHAROS_STORE_PG_OUTBOX_H
#define PHAROS_STORE_PG_OUTBOX_H

#include <stdint.h>

#include "alerts/outbox.h"
#include "store/pg_conn.h"

#define PG_LEASE_S "20"         /* a delivery lease; renewed every 5 s */
#define PG_LIVE_S "15"          /* an agent is live while seen this recently */
#define PG_GONE_S "120"         /* unseen this long: its locations no longer count */

/* An alert instance's state upsert ($1 rule, $2 check, $3 state, $4 since_us,
 * $5 fired_us, $6 last_sent_us, $7 alert_id, $8 value) and a history line
 * ($1 rule, $2 check, $3 alert_id, $4 from, $5 to, $6 ts_us, $7 value): the
 * same rows for a single agent's alert unit and a fleet's decision. */
extern const char pg_alert_state_upsert_sql[];
extern const char pg_alert_history_insert_sql[];

/* Inserts r (ON CONFLICT (key) DO NOTHING), leased to lease_owner (NULL: not
 * leased) or to the agent holding an older undelivered row of the same alert
 * and notifier; *id is the new id, 0 when the key existed, -1 when the row
 * went to another agent. Runs p and empties it. Returns 0 or -1 with err. */
int pg_insert_notification(PGconn *c, struct pg_params *p, const struct outbox_row *r,
                           const char *lease_owner, int64_t *id, char *err, size_t errlen);

#endif
