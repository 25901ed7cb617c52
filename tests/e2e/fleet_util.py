"""fleet: stand-in until part fleet's tests/e2e/fleet_util.py lands (the
integrator keeps one copy): agents of one fleet on one PostgreSQL database,
each with its own location and config, started together.

    uri = pg_server.new_database()
    a = fleet_agent(rig, uri, "ams", checks=[...], rules=[...])
    start_all([a, b, c])"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402


def fleet_agent(rig, uri, location, checks=None, rules=None, notifiers=None, agent_extra=None):
    """An agent of the fleet on database uri, named and located `location`
    (not started)."""
    extra = {"location": location}
    extra.update(agent_extra or {})
    U.set_store(lambda workdir, name: uri)
    try:
        return rig.agent(checks=checks, rules=rules, notifiers=notifiers, name=location,
                         agent_extra=extra)
    finally:
        U.set_store(None)


def start_all(agents, ready_timeout=30):
    """Starts every agent (each waits for its /readyz)."""
    for a in agents:
        a.start(ready_timeout=ready_timeout)
    return agents
