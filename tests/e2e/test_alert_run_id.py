"""End-to-end: an alert event names the probe run that caused it. The
run_id in GET /api/v1/alerts and in the "alert state changed" log line is the
id of a failed run of the check, as GET /api/v1/checks/NAME/results lists it;
the signed webhook body carries it beside SPEC 2.3's members."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
from alerting import detection_bound_s, rig, wait_delivered, wait_state  # noqa: E402,F401


def test_firing_alert_names_the_run_that_caused_it(store, rig):
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()

    # The API's run_id comes from the engine's view, published every 250 ms:
    # null for that long after the database shows the state.
    def firing():
        d = a.alert("down", "api")
        return d if d and d["state"] == "firing" and d["run_id"] else None
    d = U.wait_until(firing, detection_bound_s() + 5, what="down firing with its run_id")
    assert re.fullmatch(r"[0-9a-f]{16}", d["run_id"] or ""), d
    failed = {r["run_id"] for r in a.get_json("/api/v1/checks/api/results?limit=20") if not r["ok"]}
    assert d["run_id"] in failed, (d, failed)

    line = U.wait_until(lambda: next((ln for ln in a.logs().splitlines()
                                      if "alert state changed" in ln and "to=firing" in ln), None),
                        5, what="the firing line in the log")
    assert "run_id=%s" % d["run_id"] in line, line
    wait_delivered(rig.hook, "firing")      # the receiver checks the body's members
    body = next(r.json for r in rig.hook.requests if r.json and r.json.get("type") == "alert.firing")
    assert body.get("run_id") in failed, (body, failed)
