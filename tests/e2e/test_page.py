"""The status pages and badges over the wire: GET / and GET /check/NAME in a
real headless Chromium (DOM after the script ran, screenshots kept under
artifacts/status-page/), hostile group names and error messages rendered as
text only, 404s as HTML for pages and JSON for the API, and SVG badges."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import e2eutil as U

CHROMIUM = "/usr/bin/chromium"
EVIL_GROUP = "<script>alert(1)</script>"
EVIL_REASON = "<img src=x onerror=alert(2)><b>broken</b>"
SHOTS = os.path.join(U.ARTIFACTS, "status-page")


class _EvilHandler(BaseHTTPRequestHandler):
    """Answers JSON whose status holds markup; the check expects "ok", so the
    markup ends up in its error message ('... got "<img ...>"')."""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        body = json.dumps({"status": EVIL_REASON}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def evil_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _EvilHandler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d/" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def agent(store, start_agent, target, tcp, evil_server):
    checks = [
        {"name": "web-ok", "type": "http", "url": target.url("/ok"), "group": "web"},
        {"name": "web-html-error", "type": "http", "url": evil_server, "group": EVIL_GROUP,
         "expect": {"json": [{"path": "$.status", "equals": "ok"}]}},
        {"name": "db", "type": "tcp", "host": "127.0.0.1", "port": tcp.refused, "group": "data"},
        {"name": "banner", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port},
    ]
    a = start_agent(checks, agent_extra={"title": "Acme <b>production</b>"},
                    defaults={"interval": "1s", "timeout": "1s"})
    want = {"web-ok": "up", "web-html-error": "down", "db": "down", "banner": "up"}
    U.wait_until(lambda: {n: c["state"] for n, c in a.checks().items()} == want, 20,
                 what="every check to reach its expected state")
    return a


def chromium(url, args, timeout=90):
    """Runs headless Chromium on url with a fresh profile; returns stdout."""
    if not os.path.exists(CHROMIUM):
        print("skipping: %s is missing (Debian package chromium)" % CHROMIUM)
        pytest.skip("%s is missing (Debian package chromium)" % CHROMIUM)
    profile = tempfile.mkdtemp(prefix="pharos-chromium-")
    try:
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + profile] + args + [url],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert p.returncode == 0, "chromium failed (%s): %s" % (p.returncode, p.stderr[-3000:])
    return p.stdout.decode("utf-8", "replace")


def dump_dom(url):
    # The virtual time budget lets the 15 s refresh timer fire (and its
    # fetches finish) before the DOM is dumped.
    return chromium(url, ["--virtual-time-budget=17000", "--dump-dom"])


def screenshot(url, name, size="1280,2000"):
    """Takes a screenshot of url and keeps it as artifacts/status-page/name."""
    fd, tmp = tempfile.mkstemp(prefix="pharos-shot-", suffix=".png")
    os.close(fd)
    try:
        chromium(url, ["--hide-scrollbars", "--screenshot=" + tmp, "--window-size=" + size])
        assert os.path.getsize(tmp) > 1000
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name)
        shutil.copyfile(tmp, path)
    finally:
        os.unlink(tmp)
    return path


def assert_no_markup_leak(html):
    assert EVIL_GROUP not in html
    assert "<img" not in html
    assert "<b>broken</b>" not in html and "<b>production</b>" not in html


def test_status_page_in_browser(agent):
    url = "http://127.0.0.1:%d/" % agent.port
    raw = agent.get("/")
    assert raw.status == 200
    assert raw.headers["content-type"].startswith("text/html")
    assert_no_markup_leak(raw.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw.text

    dom = dump_dom(url)
    assert_no_markup_leak(dom)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    rows = dict(re.findall(r'<li class="check" data-name="([^"]+)" data-state="([^"]+)"', dom))
    assert rows == {"web-ok": "up", "web-html-error": "down", "db": "down", "banner": "up"}
    # state as a word, not only a colour
    assert re.search(r'data-name="db" data-state="down">.*?st-down.*?</span>Down</span>', dom)
    assert re.search(r'data-name="web-ok" data-state="up">.*?st-up.*?</span>Up</span>', dom)
    assert '<h1 id="summary-text">2 checks down</h1>' in dom
    assert "<title>Acme &lt;b&gt;production&lt;/b&gt;</title>" in dom
    # groups by name, the ungrouped last
    order = [dom.index(s) for s in ("&lt;script&gt;alert(1)&lt;/script&gt;</h2>", "<h2>data</h2>",
                                    "<h2>web</h2>", "<h2>Other checks</h2>")]
    assert order == sorted(order)
    # 90 cells per bar, each with a tooltip
    assert len(re.findall(r'<i class="u-[gyorn]"[^>]* title="\d{4}-\d\d-\d\d', dom)) == 4 * 90
    # the script ran: times rewritten, and the refresh replaced "last updated"
    upd = re.search(r'<span id="updated">(.*?)</span>', dom).group(1)
    assert re.search(r'data-utc="\d{4}-\d\d-\d\dT[^"]*Z"', upd), upd
    assert "refresh failed" not in dom
    for name in ("web-ok", "web-html-error", "db", "banner"):
        assert '<a href="/check/%s">%s</a>' % (name, name) in dom

    screenshot(url, "index.png")
    screenshot(url, "index-phone.png", size="390,1400")


def test_check_page_in_browser(agent):
    base = "http://127.0.0.1:%d" % agent.port
    U.wait_until(lambda: len(agent.get_json("/api/v1/checks/web-html-error/results")) >= 2, 10)
    raw = agent.get("/check/web-html-error")
    assert raw.status == 200 and raw.headers["content-type"].startswith("text/html")
    assert_no_markup_leak(raw.text)

    dom = dump_dom(base + "/check/web-html-error")
    assert_no_markup_leak(dom)
    assert '<svg class="chart" id="latency-chart"' in dom
    # a young check: one point per run (buckets, p50 and p95, once there are many)
    assert 'class="ch-p50"' in dom and 'class="ch-pt' in dom
    # incidents, not one row per failed run; the runs themselves below
    assert "<h2>Incidents</h2>" in dom and '<span class="eclass">assertion</span>' in dom
    assert 'class="incident inc-open"' in dom and "down since" in dom
    assert "<h2>Recent runs</h2>" in dom
    escaped = "&lt;img src=x onerror=alert(2)&gt;&lt;b&gt;broken&lt;/b&gt;"
    assert re.search(r'<td class="msg">[^<]*' + re.escape(escaped), dom)
    assert re.search(r'<span class="msg">[^<]*' + re.escape(escaped), dom)  # last run
    assert "Alert history" in dom
    assert "<dt>Target</dt><dd>http://127.0.0.1:" in dom
    assert "<dt>Type</dt><dd>http</dd>" in dom
    assert len(re.findall(r'class="tile u-[gyorn]"><b>[^<]+</b><span>last (24h|7d|30d|90d)</span>',
                          dom)) == 4
    for r in ("24h", "7d", "30d"):
        assert 'href="/check/web-html-error?range=%s"' % r in dom
    assert re.search(r'<span id="check-state"><span class="state st-down">.*?Down</span>', dom)

    week = agent.get("/check/web-ok?range=7d")
    assert week.status == 200
    assert 'class="on" aria-current="page">7d</a>' in week.text
    screenshot(base + "/check/web-html-error", "check.png", size="1280,1600")


def test_not_found_pages(agent):
    r = agent.get("/check/no-such-check")
    assert r.status == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "no check named" in r.text
    r = agent.get("/check/%3Cscript%3E")            # a name the router rejects
    assert r.status == 404 and r.headers["content-type"].startswith("text/html")
    assert "<script>" not in r.text
    r = agent.get("/api/v1/checks/no-such-check")   # the API keeps JSON errors
    assert r.status == 404 and r.json()["error"] == "not_found"
    r = agent.get("/assets/style.css")
    assert r.status == 200 and r.headers["content-type"].startswith("text/css")
    assert "max-age" in r.headers["cache-control"]
    assert agent.get("/assets/page.js").headers["content-type"].startswith("text/javascript")


def badge(agent, path, status=200):
    r = agent.get(path)
    assert r.status == status, (path, r)
    assert r.headers["content-type"] == "image/svg+xml"
    assert r.headers["cache-control"] == "max-age=60"
    root = ET.fromstring(r.body)                     # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    return r.text, texts


def test_badges(agent):
    # results reach the database in batches: wait until they are readable
    U.wait_until(lambda: all(c["uptime"] for c in agent.checks().values()), 10,
                 what="uptime of every check")
    svg, texts = badge(agent, "/badge/web-ok.svg")
    assert texts == ["web-ok", "web-ok", "up", "up"] and 'fill="#4c1"' in svg
    svg, texts = badge(agent, "/badge/db.svg")
    assert texts[2] == "down" and 'fill="#e05d44"' in svg
    for w in ("24h", "7d", "30d", "90d"):
        svg, texts = badge(agent, "/badge/web-ok/uptime/%s.svg" % w)
        assert texts[0] == "uptime " + w and texts[2] == "100.00%"
    svg, texts = badge(agent, "/badge/db/uptime/24h.svg")
    assert texts[2] == "0.00%" and 'fill="#e05d44"' in svg
    svg, texts = badge(agent, "/badge/web-ok.svg?label=%3Cb%3Eapi%3C/b%3E")
    assert texts[0] == "<b>api</b>" and "&lt;b&gt;api&lt;/b&gt;" in svg
    svg, texts = badge(agent, "/badge/nope.svg", 404)
    assert texts[2] == "not found"
    badge(agent, "/badge/nope/uptime/7d.svg", 404)
    badge(agent, "/badge/web-ok", 404)               # without .svg
    head = agent.request("HEAD", "/badge/web-ok.svg")
    assert head.status == 200 and head.body == b""
