"""agent.source_address (SPEC §6): every probe type leaves from the configured
address: http (the target sees it), tcp and tls (the listener's peer), dns
(the server sees the query come from it), icmp (bound: an address this host
does not have fails the run in the agent's words), and the running agent's
probes too."""

import json
import os
import socket
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
import fleet_util as F  # noqa: E402

SOURCE = "127.0.0.2"


@pytest.fixture
def fleet_nginx(workdir):
    n = F.FleetNginx(workdir).start()
    yield n
    n.stop()


def probe(cli, check, source=SOURCE):
    """`pharos probe --json` on a config with agent.source_address."""
    text = U.render_config([check], agent={"source_address": source},
                           defaults={"interval": "5s", "timeout": "2s"})
    path = cli.config(text=text)
    r = cli.run("probe", "-c", path, check["name"], "--json")
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        raise AssertionError("probe --json did not print JSON: %r" % r)


class PeerRecorder:
    """A TCP (or UDP) listener on 127.0.0.1 that records where each
    connection (datagram) came from and then hangs up (stays silent)."""

    def __init__(self, kind=socket.SOCK_STREAM):
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.kind = kind
        self.peers = []
        if kind == socket.SOCK_STREAM:
            self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop_flag = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop_flag:
            try:
                if self.kind == socket.SOCK_STREAM:
                    c, addr = self.sock.accept()
                    self.peers.append(addr[0])
                    c.close()
                else:
                    _, addr = self.sock.recvfrom(4096)
                    self.peers.append(addr[0])
            except OSError:
                continue

    def close(self):
        self.stop_flag = True
        self.t.join(2)
        self.sock.close()


def test_http_sent_from_source_address(cli, fleet_nginx):
    check = {"name": "who", "type": "http", "url": fleet_nginx.url("/who"),
             "expect": {"headers": ["X-Client-Addr: ^127\\.0\\.0\\.2$"]}}
    r, doc = probe(cli, check)
    assert r.rc == 0, r
    assert doc["ok"] is True, doc
    assert fleet_nginx.hits("/who").get(SOURCE) == 1, fleet_nginx.requests()


def test_http_without_source_address_unchanged(cli, fleet_nginx):
    check = {"name": "who", "type": "http", "url": fleet_nginx.url("/who"),
             "expect": {"headers": ["X-Client-Addr: ^127\\.0\\.0\\.1$"]}}
    r, doc = cli.probe(check, defaults={"interval": "5s", "timeout": "2s"})
    assert r.rc == 0, r


def test_tcp_and_tls_sent_from_source_address(cli):
    rec = PeerRecorder()
    try:
        r, doc = probe(cli, {"name": "t", "type": "tcp", "host": "127.0.0.1", "port": rec.port})
        assert doc["ok"] is True, doc
        r, doc = probe(cli, {"name": "s", "type": "tls", "host": "127.0.0.1", "port": rec.port})
        assert doc["ok"] is False     # no TLS server: only the connection matters
        U.wait_until(lambda: len(rec.peers) >= 2, 5, what="both connections")
        assert rec.peers[:2] == [SOURCE, SOURCE], rec.peers
    finally:
        rec.close()


def test_dns_sent_from_source_address(cli):
    rec = PeerRecorder(socket.SOCK_DGRAM)
    try:
        r, doc = probe(cli, {"name": "d", "type": "dns", "query": "example.com",
                             "server": "127.0.0.1:%d" % rec.port})
        assert doc["ok"] is False     # the recorder never answers
        U.wait_until(lambda: rec.peers, 5, what="a DNS query")
        assert set(rec.peers) == {SOURCE}, rec.peers
    finally:
        rec.close()


def test_source_address_not_on_this_host_is_the_agents_error(cli):
    rec = PeerRecorder()
    try:
        r, doc = probe(cli, {"name": "t", "type": "tcp", "host": "127.0.0.1", "port": rec.port},
                       source="192.0.2.10")
        assert doc["ok"] is False, doc
        assert "cannot send from source_address 192.0.2.10" in doc["message"], doc
        assert rec.peers == []
    finally:
        rec.close()


def test_icmp_bound_to_source_address(cli):
    r, doc = probe(cli, {"name": "p", "type": "icmp", "host": "127.0.0.1", "count": 1},
                   source="192.0.2.10")
    if "not permitted" in doc.get("message", ""):
        pytest.skip("ICMP not permitted here")
    assert doc["ok"] is False, doc
    assert "source_address 192.0.2.10" in doc["message"], doc
    r, doc = probe(cli, {"name": "p", "type": "icmp", "host": "127.0.0.1", "count": 1})
    assert doc["ok"] is True, doc


def test_ipv4_source_for_an_ipv6_target_says_so(cli):
    r, doc = probe(cli, {"name": "t", "type": "tcp", "host": "::1", "port": 9})
    assert doc["ok"] is False, doc
    # An IPv4 source resolves names to IPv4 only; a literal says why it cannot.
    assert "IPv6" in doc["message"], doc


def test_running_agent_sends_from_source_address(workdir, fleet_nginx):
    a = F.FleetAgent(workdir, os.path.join(workdir, "a.db"),
                     F.AgentSpec("solo", SOURCE, [{"name": "web", "type": "http",
                                                   "url": fleet_nginx.url("/web")}]))
    a.start()
    try:
        U.wait_until(lambda: fleet_nginx.hits("/web").get(SOURCE, 0) >= 2, 15,
                     what="two runs from %s" % SOURCE)
        assert set(fleet_nginx.hits("/web")) == {SOURCE}
    finally:
        assert a.stop()[0] == 0


def test_source_address_must_be_an_ip(cli):
    path = cli.config(text='agent = {\n  source_address = "eth0";\n};\n')
    r = cli.run("check-config", "-c", path)
    assert r.rc != 0
    assert ('2: "source_address" in agent must be an IP address of this host like '
            '"192.0.2.10" or "2001:db8::10" (got "eth0")') in r.stderr + r.stdout, r
