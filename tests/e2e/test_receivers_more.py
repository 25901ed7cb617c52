"""End-to-end: the newer receivers (SPEC §2.3 "More receivers", issue 15)
driven by the real ./pharos against strict local fakes (receivers_more.py,
smtp_receiver.py): `email` (a real SMTP server: STARTTLS, SMTPS, AUTH),
`teams`, `discord`, `opsgenie` and `ntfy`: a firing/resolved pair each,
retries on 5xx and 429 (Discord's Retry-After and JSON retry_after),
permanent failures going dead, `notify-test`, `template` with quotes and
newlines in the values, the same `value` at every receiver, no secret in
logs, API or page; and the W3C `traceparent` on http probes.

The whole module is skipped until `pharos check-config` accepts a `teams`
notifier, i.e. until the C side of issue 15 lands."""

import os
import re
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
from alerting import (LOCATION, SECRETS, detection_bound_s, rig,  # noqa: E402,F401
                      wait_state)
from alerting import kind_of as old_kind_of  # noqa: E402
from receivers_more import (DiscordReceiver, JsonReceiver, NtfyReceiver,  # noqa: E402
                            OpsgenieReceiver, SmtpReceiver, TeamsReceiver)


def _supported():
    """True when ./pharos accepts a `teams` notifier (the C side is there)."""
    if not os.path.exists(U.PHAROS):
        return False
    with tempfile.TemporaryDirectory(prefix="pharos-e2e-probe-") as d:
        conf = U.write_file(os.path.join(d, "teams.conf"),
                            'checks = ();\nnotifiers = ( { name = "t"; type = "teams"; '
                            'url = "https://example.invalid/workflows/x"; } );\n')
        try:
            return U.run_pharos(["check-config", "-c", conf], timeout=30, cwd=d).rc == 0
        except (AssertionError, OSError):
            return False


pytestmark = pytest.mark.skipif(not _supported(), reason="./pharos does not know the `teams` "
                                "notifier yet (issue 15: email, teams, discord, opsgenie, ntfy, "
                                "template, traceparent)")

# Secrets, given to pharos through the environment only.
TEAMS_SIG = "e2eTeamsSig-Wq83nVz0pLm"
DISCORD_TOKEN = "e2eDiscordT0ken-Hh27LkQ"
OPSGENIE_KEY = "e2e0pSg3n1e-4f1d-9a7b-Kc55aa01"
NTFY_TOKEN = "tk_e2eNtfyT0kenRt61"
SMTP_USER, SMTP_PASSWORD = "pharos-e2e", "e2e-smtp-Pw-Jx42"
MORE_SECRETS = (TEAMS_SIG, DISCORD_TOKEN, OPSGENIE_KEY, NTFY_TOKEN, SMTP_PASSWORD)
ENV = {"teams": "PHAROS_E2E_TEAMS_URL", "discord": "PHAROS_E2E_DISCORD_URL",
       "opsgenie": "PHAROS_E2E_OPSGENIE_KEY", "ntfy": "PHAROS_E2E_NTFY_TOKEN",
       "email": "PHAROS_E2E_SMTP_PASSWORD"}
MAIL_FROM, MAIL_TO = "pharos@example.test", ["oncall@example.test", "ops@example.test"]
NEW = ("teams", "discord", "opsgenie", "ntfy", "email")
# "how long it was down", in whatever words and form: "down for 4s", "after 1m 5s",
# "Duration: 00:01:05", "lasted 2 minutes" (a bare time of day does not count)
DURATION = re.compile(r"(?i)\b(for|after|lasted|duration:?|down)\s+"
                      r"(\d+(\.\d+)?\s*(ms|s|sec|seconds?|m|min|minutes?|h|hours?)\b|\d+:\d\d(:\d\d)?\b)")


# --- the world: the rig's receivers plus the five new ones --------------------------

class More:
    """The five new fakes next to the rig's Slack, PagerDuty and webhook ones."""

    def __init__(self, rig, email_mode="starttls"):
        self.rig = rig
        self.teams = TeamsReceiver(TEAMS_SIG)
        self.discord = DiscordReceiver(DISCORD_TOKEN)
        self.opsgenie = OpsgenieReceiver(OPSGENIE_KEY)
        self.ntfy = NtfyReceiver(token=NTFY_TOKEN)
        self.email = SmtpReceiver(mode=email_mode, auth=(SMTP_USER, SMTP_PASSWORD),
                                  sender=MAIL_FROM, rcpts=MAIL_TO)
        self.extra = []
        rig.env.update({ENV["teams"]: self.teams.url(), ENV["discord"]: self.discord.url(),
                        ENV["opsgenie"]: OPSGENIE_KEY, ENV["ntfy"]: NTFY_TOKEN,
                        ENV["email"]: SMTP_PASSWORD})

    def rcv(self, name):
        return getattr(self, name)

    @property
    def receivers(self):
        return [self.teams, self.discord, self.opsgenie, self.ntfy, self.email] + self.extra

    def notifier(self, name, **kw):
        """The notifier config of one new type; its name is the type's name."""
        n = {"name": name, "type": name}
        if name in ("teams", "discord"):
            n["url"] = "${env:%s}" % ENV[name]
        elif name == "opsgenie":
            n.update(api_key="${env:%s}" % ENV[name], url=self.opsgenie.url())
        elif name == "ntfy":
            n.update(url=self.ntfy.url(), token="${env:%s}" % ENV[name])
        else:
            n.update(url=self.email.url(), to=list(MAIL_TO), username=SMTP_USER,
                     password="${env:%s}" % ENV[name])
            n["from"] = MAIL_FROM
            if self.email.ca_file:
                n["ca_file"] = self.email.ca_file
        n.update(kw)
        return n

    def start(self, names, checks=None, rule_kw=None, notifier_kw=None, agent_extra=None,
              notifiers=None):
        nk = notifier_kw or {}
        ns = notifiers if notifiers is not None else [self.notifier(n, **nk.get(n, {})) for n in names]
        rule = self.rig.rule(notify=[n["name"] for n in ns], **(rule_kw or {}))
        return self.rig.start(checks=checks, rules=[rule], notifiers=ns, agent_extra=agent_extra)

    def assert_no_secret(self, text, where):
        for s in MORE_SECRETS + SECRETS:
            assert s not in text, "a secret (%s...) leaked into %s" % (s[:6], where)

    def assert_nothing_leaks(self, agent):
        for path in ("/api/v1/notifications", "/api/v1/alerts", "/api/v1/checks", "/",
                     "/check/api", "/metrics"):
            self.assert_no_secret(agent.get(path).text, "GET " + path)

    def close(self):
        problems = []
        for a in self.rig.agents:           # stopped first, so that their logs are complete
            try:
                a.stop(15)
            except AssertionError as e:
                problems.append(str(e))
            try:
                self.assert_no_secret(a.all_logs(), "the agent log")
            except AssertionError as e:
                problems.append(str(e))
        for r in self.receivers:
            r.close()
            if r.failures:
                problems.append("%s saw non-conforming requests:\n%s" % (r.name, "\n".join(r.failures)))
        return problems


@pytest.fixture
def more(rig, request):
    m = More(rig, getattr(request, "param", "starttls"))
    yield m
    problems = m.close()
    if problems:
        request.node._e2e_failed = True
        pytest.fail("\n".join(problems))


def kind(rcv, req):
    return rcv.kind_of(req) if hasattr(rcv, "kind_of") else old_kind_of(req)


def accepted(rcv, k):
    return [r for r in rcv.snapshot() if r.answer == rcv.success_status and kind(rcv, r) == k]


def wait_kind(rcv, k, count=1, timeout=None):
    timeout = timeout or detection_bound_s() + 10
    return rcv.wait_for(lambda r: r.answer == rcv.success_status and kind(rcv, r) == k, count,
                        timeout, what="%d %s notification(s) accepted" % (count, k))


def answered(req):
    """A request the fake has answered (it is logged before its answer is set)."""
    return req.answer is not None


def rows_of(agent, notifier):
    return [r for r in agent.notifications() if r["notifier"] == notifier]


def outage(more, a, name):
    """Target down until the firing notification arrives, then up until the
    resolved one does; returns (firing, resolved) as the receiver saw them."""
    rcv = more.rcv(name)
    wait_state(a, "api", "up")
    more.rig.target.down()
    fire = wait_kind(rcv, "firing")[0]
    more.rig.target.up()
    res = wait_kind(rcv, "resolved")[0]
    return fire, res


def link_in(obj, suffix="/check/api"):
    """True when some string in a JSON value is an http(s) URL ending with suffix."""
    if isinstance(obj, str):
        return bool(re.match(r"^https?://", obj)) and obj.endswith(suffix)
    if isinstance(obj, dict):
        return any(link_in(v, suffix) for v in obj.values())
    if isinstance(obj, list):
        return any(link_in(v, suffix) for v in obj)
    return False


# --- one firing/resolved pair per receiver ---------------------------------------

def check_pair(more, name, fire, res):
    """What each receiver's firing and resolved notifications must say."""
    rcv = more.rcv(name)
    if name == "teams":
        ft = "\n".join(rcv.texts(fire) + ["%s: %s" % f for f in rcv.facts(fire).items()])
        rt = "\n".join(rcv.texts(res))
        for w in ("down", "api", "critical", "FIRING"):
            assert w in ft, (w, ft)
        assert "503" in ft, ft
        assert "RESOLVED" in rt and "FIRING" not in rt, rt
        assert link_in(fire.json), fire.json
    elif name == "discord":
        fe, re_ = fire.json["embeds"][0], res.json["embeds"][0]
        assert "down" in fe["title"] and "api" in fe["title"], fe
        assert fe["url"].endswith("/check/api"), fe
        assert fe["color"] != re_["color"], "firing and resolved embeds look the same"
        assert "RESOLVED" in re_["title"], re_
    elif name == "opsgenie":
        j = fire.json
        assert j["alias"] == "pharos:down:api" and j["priority"] == "P1", j
        assert j["source"] == LOCATION, j
        assert "down" in j["message"] and "api" in j["message"], j
        assert link_in(j) or "/check/api" in j.get("description", ""), j
        assert rcv.action(res) == ("close", "pharos:down:api"), res.path
    elif name == "ntfy":
        assert rcv.priority(fire) == 5 and rcv.priority(res) is not None
        t = rcv.title(fire)
        assert "down" in t and "api" in t and "RESOLVED" in rcv.title(res), (t, rcv.title(res))
        click = fire.headers.get("click") or fire.headers.get("x-click")
        assert click and click.endswith("/check/api"), fire.headers
        assert "503" in rcv.body_text(fire)
        assert DURATION.search(rcv.body_text(res)), "the resolved message does not say how long: %r" \
            % rcv.body_text(res)
    else:
        assert fire.subject == "[FIRING] down \u2014 api" and res.subject == "[RESOLVED] down \u2014 api"
        assert res.header("In-Reply-To") == fire.message_id, (res.header("In-Reply-To"), fire.message_id)
        assert fire.message_id in res.header("References").split()
        assert fire.tls and fire.login == SMTP_USER
        for w in ("down", "api", "critical", "503"):
            assert w in fire.text, (w, fire.text)
        assert re.search(r'href="https?://[^"]*/check/api"', fire.html), fire.html
        assert DURATION.search(res.text), "the resolved mail does not say how long: %r" % res.text
    assert fire.key and res.key and fire.key != res.key


@pytest.mark.parametrize("name", NEW)
def test_firing_then_resolved(more, name):
    rcv = more.rcv(name)
    if name in ("opsgenie", "ntfy"):
        rcv.expect_severity = "critical"
    a = more.start([name])
    fire, res = outage(more, a, name)
    check_pair(more, name, fire, res)
    assert rcv.value_of(fire) == "2", rcv.value_of(fire)
    rows = U.wait_until(lambda: (lambda rows: rows if len(rows) == 2 and all(
        r["state"] == "delivered" and r["attempts"] == 1 for r in rows) else None)(rows_of(a, name)),
        5, what="both notifications delivered at the first attempt")
    assert {r["kind"] for r in rows} == {"firing", "resolved"}
    assert len(rcv.snapshot()) == 2, rcv.snapshot()
    more.assert_nothing_leaks(a)


@pytest.mark.parametrize("more", ["smtps"], indirect=True)
def test_email_over_smtps(more):
    a = more.start(["email"])
    fire, res = outage(more, a, "email")
    check_pair(more, "email", fire, res)


def test_email_without_tls_only_when_told(more, rig):
    """smtp:// needs STARTTLS unless starttls = false: against a server that
    offers none, notify-test fails; with starttls = false it is delivered."""
    plain = SmtpReceiver(mode="plain", sender=MAIL_FROM, rcpts=MAIL_TO, name="plain-smtp")
    more.extra.append(plain)
    base = {"name": "mail", "type": "email", "url": plain.url(), "to": list(MAIL_TO), "timeout": "5s"}
    base["from"] = MAIL_FROM
    conf = rig.agent(checks=[], rules=[], notifiers=[base, dict(base, name="mail-plain", starttls=False)]).config
    r = rig.pharos(["notify-test", "-c", conf, "mail"])
    assert r.rc == 1 and "NOT DELIVERED" in r.stdout, r
    assert plain.snapshot() == []
    r = rig.pharos(["notify-test", "-c", conf, "mail-plain"])
    assert r.rc == 0 and "DELIVERED" in r.stdout, r
    m = plain.snapshot()
    assert len(m) == 1 and m[0].kind == "test" and not m[0].tls, m


# --- retries, 429, dead letters -----------------------------------------------------

@pytest.mark.parametrize("name", NEW)
def test_retried_after_a_server_error(more, name):
    rcv = more.rcv(name)
    rcv.script([451 if name == "email" else 503, "ok"])
    a = more.start([name])
    wait_state(a, "api", "up")
    more.rig.target.down()
    reqs = rcv.wait_for(answered, 2, timeout=detection_bound_s() + 15, what="the failure and the retry")
    assert reqs[0].answer != rcv.success_status and reqs[1].answer == rcv.success_status, reqs
    assert reqs[0].key == reqs[1].key, "a retry must keep the idempotency key (Message-ID)"
    U.wait_until(lambda: [(r["state"], r["attempts"]) for r in rows_of(a, name)] == [("delivered", 2)],
                 5, what="delivered at the second attempt")
    more.assert_nothing_leaks(a)


RATE_LIMITS = ["teams", "opsgenie", "ntfy", "discord-header+json", "discord-json"]


@pytest.mark.parametrize("case", RATE_LIMITS)
def test_429_waits_as_told(more, case):
    name = case.split("-")[0]
    rcv = more.rcv(name)
    wait_s = 2.0
    if case == "discord-header+json":
        rcv.rate_limit(2, header=True, body=True)
    elif case == "discord-json":
        wait_s = 2.5                      # only the JSON body says so, in float seconds
        rcv.rate_limit(wait_s, header=False, body=True)
    else:
        rcv.script([(429, 2)])
    a = more.start([name])
    wait_state(a, "api", "up")
    more.rig.target.down()
    first, second = rcv.wait_for(answered, 2, timeout=detection_bound_s() + 15, what="the 429 and the retry")[:2]
    assert first.answer == 429 and second.answer == rcv.success_status, (first, second)
    assert first.key == second.key
    gap = second.t - first.t_answered
    assert wait_s <= gap < wait_s + 3.0, "%s: retried %.3fs after being told %.1fs" % (case, gap, wait_s)


@pytest.mark.parametrize("name", NEW)
def test_permanent_refusal_goes_dead(more, name):
    rcv = more.rcv(name)
    rcv.fail(554 if name == "email" else 400)
    a = more.start([name])
    wait_state(a, "api", "up")
    more.rig.target.down()
    dead = U.wait_until(lambda: [r for r in rows_of(a, name) if r["state"] == "dead"],
                        detection_bound_s() + 10, what="the notification dead")
    assert dead[0]["attempts"] == 1 and dead[0]["last_error"], dead
    assert len(rcv.snapshot()) == 1
    more.assert_nothing_leaks(a)


@pytest.mark.parametrize("name", NEW)
def test_unreachable_receiver_leaks_nothing(more, name):
    """Connections refused: the attempts fail, are retried, and what the
    agent says about them (API rows, log, page) holds no secret."""
    more.rcv(name).refuse()
    a = more.start([name])
    wait_state(a, "api", "up")
    more.rig.target.down()
    rows = U.wait_until(lambda: [r for r in rows_of(a, name) if r["attempts"] >= 2 and r["last_error"]],
                        detection_bound_s() + 15, what="two failed attempts")
    assert rows[0]["state"] == "pending", rows
    more.assert_nothing_leaks(a)


# --- notify-test ---------------------------------------------------------------------

@pytest.mark.parametrize("name", NEW)
def test_notify_test(more, rig, name):
    rcv = more.rcv(name)
    conf = rig.agent(checks=[], rules=[], notifiers=[more.notifier(name)]).config
    r = rig.pharos(["notify-test", "-c", conf, name], timeout=30)
    more.assert_no_secret(r.stdout + r.stderr, "notify-test output")
    assert r.rc == 0 and "DELIVERED" in r.stdout and "NOT DELIVERED" not in r.stdout, r
    reqs = rcv.snapshot()
    assert len(reqs) == 1 and reqs[0].answer == rcv.success_status, reqs
    assert kind(rcv, reqs[0]) == "test", reqs[0]
    if name == "email":
        assert reqs[0].subject.startswith("[TEST] "), reqs[0].subject
    else:
        assert reqs[0].key in r.stdout, (reqs[0].key, r.stdout)
    if name == "opsgenie":
        assert reqs[0].json["alias"].startswith("pharos:notify-test:"), reqs[0].json
    for other in more.receivers + list(rig.receivers):
        if other is not rcv:
            assert other.snapshot() == [], "%s was called too" % other.name


@pytest.mark.parametrize("name", NEW)
def test_notify_test_fails_when_refused(more, rig, name):
    rcv = more.rcv(name)
    rcv.fail(554 if name == "email" else 500)
    conf = rig.agent(checks=[], rules=[], notifiers=[more.notifier(name, timeout="3s")]).config
    r = rig.pharos(["notify-test", "-c", conf, name], timeout=30)
    more.assert_no_secret(r.stdout + r.stderr, "notify-test output")
    assert r.rc == 1 and "NOT DELIVERED" in r.stdout, r
    rcv.answer_ok()


# --- the same value everywhere ----------------------------------------------------------

def old_value(rcv, req):
    """The value as the Slack, PagerDuty or webhook fake received it."""
    j = req.json
    if rcv.kind == "slack":
        m = re.search(r"\*Value\*\n([^\n]*)", rcv.all_text(j))
        return m.group(1).strip("`") if m else None
    if rcv.kind == "pagerduty":
        return j["payload"]["custom_details"].get("value")
    return j.get("value")


def test_every_receiver_shows_the_same_value(more, rig):
    more.opsgenie.expect_severity = more.ntfy.expect_severity = "critical"
    ns = rig.notifiers() + [more.notifier(n) for n in NEW]
    a = more.start(NEW, notifiers=ns, rule_kw={"when": "consecutive_failures >= 3"})
    wait_state(a, "api", "up")
    rig.target.down()
    values = {}
    for rcv in list(rig.receivers) + more.receivers:
        req = wait_kind(rcv, "firing", timeout=detection_bound_s() + 15)[0]
        values[rcv.name] = rcv.value_of(req) if hasattr(rcv, "value_of") else old_value(rcv, req)
    ref = values["webhook"]
    assert ref == "3", values
    assert all(v == ref for v in values.values()), "values differ between receivers: %r" % values
    rig.target.up()
    for rcv in (rig.hook, more.teams, more.discord, more.ntfy, more.email):
        req = wait_kind(rcv, "resolved")[0]
        v = rcv.value_of(req) if hasattr(rcv, "value_of") else req.json["value"]
        assert v == ref, "%s: the resolved notification shows value %r, firing %r" % (rcv.name, v, ref)
    more.assert_nothing_leaks(a)


# --- templates --------------------------------------------------------------------------

GROUP = 'Pay "ments"\nX-Injected: yes'
WHERE = 'dc "eu" \\ 1'
PHRASE = 'say "hi"\nnow'


class _QuoteHandler(BaseHTTPRequestHandler):
    """200 always; the body holds PHRASE while up, so the check's failure
    message (body_contains "...": not found) carries quotes and a newline."""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        body = ("all good: %s\n" % PHRASE if self.server.up else "nothing here\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def quote_target():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _QuoteHandler)
    srv.daemon_threads, srv.up = True, True
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def render(tmpl, values):
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], tmpl)


def squash(s):
    return " ".join(s.split())


HOOK_BODY = ('{"text": "{{rule}}|{{check}}|{{group}}|{{severity}}|{{value}}|{{message}}|{{url}}|'
             '{{location}}", "state": "{{state}}", "literal": "a \\"quoted\\" word"}')
SLACK_T = {"title": "{{state}}: {{rule}} on {{check}} at {{location}}",
           "body": "{{message}}\n-- group {{group}} value {{value}}"}
NTFY_T = {"title": "{{rule}} on {{check}} ({{group}}) at {{location}}",
          "body": "{{message}}\nValue: {{value}}\n-- {{group}}"}


def test_templates_escape_quotes_and_newlines(more, rig, quote_target):
    plain = JsonReceiver(name="mattermost")
    more.extra.append(plain)
    more.ntfy.expect_severity = "critical"
    check = rig.check(url="http://127.0.0.1:%d/" % quote_target.server_address[1], group=GROUP,
                      expect={"body_contains": PHRASE})
    ns = [rig.notifiers()[2],                                   # audit: the plain webhook, the reference
          {"name": "mm", "type": "webhook", "url": plain.url("/hooks/mm"), "template": {"body": HOOK_BODY}},
          dict(rig.notifiers()[0], template=SLACK_T),
          more.notifier("ntfy", template=NTFY_T)]
    a = more.start([], checks=[check], notifiers=ns, agent_extra={"location": WHERE})
    wait_state(a, "api", "up")
    quote_target.up = False
    w = wait_kind(rig.hook, "firing")[0].json
    assert PHRASE in w["message"], w
    vals = {k: w[k] for k in ("rule", "check", "severity", "value", "message", "url")}
    vals.update(group=GROUP, location=WHERE)

    j = plain.wait_for(None, 1, timeout=10)[0].json          # the fake checked it is JSON
    assert j["text"] == "|".join(vals[k] for k in ("rule", "check", "group", "severity", "value",
                                                   "message", "url", "location")), j
    assert j["state"].lower() == "firing" and j["literal"] == 'a "quoted" word', j

    s = wait_kind(rig.slack, "firing")[0].json
    text = rig.slack.all_text(s)
    title = render(SLACK_T["title"], dict(vals, state="firing"))
    assert squash(title).lower() in squash(text).lower(), (title, text)
    assert render(SLACK_T["body"], vals) in text, text

    n = wait_kind(more.ntfy, "firing")[0]
    assert "x-injected" not in n.headers, "a newline in a value made a header: %r" % n.headers
    assert squash(more.ntfy.title(n)) == squash(render(NTFY_T["title"], vals)), more.ntfy.title(n)
    assert more.ntfy.body_text(n).strip() == render(NTFY_T["body"], vals).strip()

    quote_target.up = True
    j = plain.wait_for(lambda r: str((r.json or {}).get("state")).lower() == "resolved", 1, timeout=15)[0].json
    assert j["literal"] == 'a "quoted" word'


def test_template_error_is_a_config_error_at_its_line(cli):
    path = cli.config('checks = ();\nnotifiers = (\n'
                      '  { name = "mm"; type = "webhook"; url = "http://127.0.0.1:1/";\n'
                      '    template = { body = "{\\"x\\": \\"{{nope}}\\"}"; }; }\n);\n')
    r = cli.run("check-config", "-c", path)
    assert r.rc == 2, r
    assert "%s:4:" % path in r.stderr and "nope" in r.stderr, r


def test_opsgenie_eu_endpoint_is_accepted(cli):
    path = cli.config('checks = ();\nnotifiers = ( { name = "og"; type = "opsgenie"; '
                      'api_key = "k"; url = "eu"; } );\n')
    r = cli.run("check-config", "-c", path)
    assert r.rc == 0, r
    r = cli.run("check-config", "-c", cli.config('checks = ();\nnotifiers = ( { name = "og"; '
                                                 'type = "opsgenie"; } );\n'))
    assert r.rc == 2 and "api_key" in r.stderr, r


# --- traceparent -------------------------------------------------------------------------

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")


def traceparents(target, marker):
    """The traceparent headers (None when absent) of the target's requests to marker."""
    out = []
    for _method, path, headers in list(target.requests):
        if marker in path:
            h = {k.lower(): v for k, v in headers.items()}
            out.append(h.get("traceparent"))
    return out


def parse_traceparent(v):
    m = TRACEPARENT.match(v or "")
    assert m, "traceparent %r is not 00-<32 hex>-<16 hex>-01" % v
    assert set(m.group(1)) != {"0"} and set(m.group(2)) != {"0"}, "all-zero id in %r" % v
    return m.group(1), m.group(2)


def test_probe_sends_traceparent_and_shows_the_trace_id(cli, target):
    seen = []
    for i in range(3):
        marker = "tp-probe-%d-%d" % (os.getpid(), i)
        r, doc = cli.probe({"name": "traced", "type": "http", "url": target.url("/ok?" + marker),
                            "timeout": "5s"})
        assert r.rc == 0, r
        tps = traceparents(target, marker)
        assert len(tps) == 1, tps
        trace_id, span_id = parse_traceparent(tps[0])
        assert doc.get("trace_id") == trace_id, "probe --json trace_id %r, header %r" % (
            doc.get("trace_id"), tps[0])
        seen.append((trace_id, span_id))
    assert len({t for t, _ in seen}) == 3, "trace ids repeat across runs: %r" % seen
    assert len({s for _, s in seen}) == 3, "span ids repeat across runs: %r" % seen


def test_trace_false_leaves_it_out(cli, target):
    marker = "tp-off-%d" % os.getpid()
    r, doc = cli.probe({"name": "untraced", "type": "http", "url": target.url("/ok?" + marker),
                        "timeout": "5s", "trace": False})
    assert r.rc == 0, r
    assert traceparents(target, marker) == [None]
    assert doc.get("trace_id") in (None, ""), doc


def test_every_run_of_the_agent_has_its_own_trace(start_agent, target):
    marker = "tp-run-%d" % os.getpid()
    a = start_agent([{"name": "traced", "type": "http", "url": target.url("/ok?" + marker),
                      "interval": "1s", "timeout": "800ms"}])
    U.wait_until(lambda: len(traceparents(target, marker)) >= 3, 10, what="three traced runs")
    ids = [parse_traceparent(v)[0] for v in traceparents(target, marker)]
    assert len(set(ids)) == len(ids), "trace ids repeat across runs: %r" % ids
    rows = U.wait_until(lambda: [r for r in a.get_json("/api/v1/checks/traced/results")
                                 if r.get("trace_id")], 5, what="results with a trace_id")
    assert {r["trace_id"] for r in rows} <= set(ids), (rows, ids)
