"""A config split over files (SPEC §2.0): `include` globs and names relative to
the main file's folder, errors reported at the included file's own lines,
names unique across files, SIGHUP re-reading every file; and the timeout
rule: an inherited defaults.timeout longer than a check's interval is cut to
it (`probe` shows it), one written longer than the interval is an error."""

import os
import re
import signal

import e2eutil as U


def tcp_check(name, port, **kw):
    c = {"name": name, "type": "tcp", "host": "127.0.0.1", "port": port}
    c.update(kw)
    return c


def checks_file(checks):
    return "checks = %s;\n" % U.lc(list(checks))


def main_file(workdir, include, checks=(), agent=None, defaults=None, extra=""):
    """The main config in workdir, with `include = [...]` first."""
    text = "include = %s;\n" % U.lc(list(include)) + U.render_config(
        checks, agent=agent, defaults=defaults or {"interval": "30s", "timeout": "5s"}, extra=extra)
    return U.write_file(os.path.join(workdir, "main.conf"), text)


def errors_of(stderr):
    """[(file, line, message)] of the FILE:LINE: lines."""
    return [(m.group(1), int(m.group(2)), m.group(3))
            for m in (re.match(r"(\S+?):(\d+): (.+)$", l) for l in stderr.splitlines()) if m]


# --- check-config ---------------------------------------------------------------------------

def test_split_config_is_one_config(cli, tcp):
    d = cli.workdir
    U.write_file(os.path.join(d, "conf.d", "b.conf"), checks_file([tcp_check("b1", tcp.echo.port)]) +
                 'alerts = ( { name = "b-down"; checks = "b1"; when = "consecutive_failures >= 3"; } );\n')
    U.write_file(os.path.join(d, "conf.d", "a.conf"), checks_file([tcp_check("a1", tcp.echo.port),
                                                                   tcp_check("a2", tcp.echo.port,
                                                                       depends_on="main1")]))
    U.write_file(os.path.join(d, "conf.d", "notes.txt"), "not a config: the glob does not match it\n")
    path = main_file(d, ["conf.d/*.conf", "empty.d/*.conf"], [tcp_check("main1", tcp.echo.port)],
                     extra='alerts = ( { name = "all"; checks = "*"; when = "consecutive_failures >= 3"; } );\n')
    r = cli.run("check-config", "-c", path)
    assert r.rc == 0, r
    assert "4 checks, 2 rules" in r.stdout + r.stderr, r


def test_error_at_the_included_files_line(cli, tcp):
    d = cli.workdir
    U.write_file(os.path.join(d, "conf.d", "team.conf"),
                 "checks = (\n"
                 '  { name = "ok"; type = "tcp"; host = "127.0.0.1"; port = 1; },\n'
                 '  { name = "bad"; type = "tcp"; host = "127.0.0.1"; port = 1; timout = "1s"; }\n'
                 ");\n"
                 'agent = { title = "no"; };\n')
    path = main_file(d, ["conf.d/*.conf"], [tcp_check("main1", 1)])
    r = cli.run("check-config", "-c", path)
    assert r.rc == 2, r
    errs = errors_of(r.stderr)
    team = os.path.join(d, "conf.d", "team.conf")
    assert any(f == team and line == 3 and "timout" in m and "did you mean" in m for f, line, m in errs), r
    assert any(f == team and line == 5 and '"agent" belongs in the main configuration file' in m
               for f, line, m in errs), r
    assert not any(f == path for f, _, _ in errs), r


def test_duplicate_name_across_files(cli):
    d = cli.workdir
    U.write_file(os.path.join(d, "conf.d", "x.conf"),
                 '# team x\n\nchecks = ( { name = "dup"; type = "tcp"; host = "127.0.0.1"; port = 1; } );\n')
    path = main_file(d, ["conf.d/x.conf"], [tcp_check("dup", 1)])
    r = cli.run("check-config", "-c", path)
    assert r.rc == 2, r
    x = os.path.join(d, "conf.d", "x.conf")
    errs = errors_of(r.stderr)
    assert any(f == x and line == 3 and 'duplicate check name "dup"' in m and path in m
               for f, line, m in errs), r


def test_missing_named_file_is_an_error_a_glob_matching_nothing_is_not(cli):
    d = cli.workdir
    ok = main_file(d, ["nothing-here/*.conf"], [tcp_check("c", 1)])
    r = cli.run("check-config", "-c", ok)
    assert r.rc == 0, r
    bad = main_file(d, ["nothing-here/*.conf", "missing.conf"], [tcp_check("c", 1)])
    r = cli.run("check-config", "-c", bad)
    assert r.rc == 2, r
    errs = errors_of(r.stderr)
    assert any(f == bad and line == 1 and "missing.conf" in m and "No such file" in m for f, line, m in errs), r


def test_at_include_stays_refused(cli):
    d = cli.workdir
    U.write_file(os.path.join(d, "conf.d", "x.conf"), '@include "/etc/passwd"\n')
    path = main_file(d, ["conf.d/*.conf"], [tcp_check("c", 1)])
    r = cli.run("check-config", "-c", path)
    assert r.rc == 2, r
    assert any(f.endswith("x.conf") and line == 1 and "@include is not supported" in m
               for f, line, m in errors_of(r.stderr)), r


# --- reload ---------------------------------------------------------------------------------

def test_reload_reads_a_new_included_file(start_agent, tcp):
    a = start_agent([tcp_check("main1", tcp.echo.port)])
    confd = os.path.join(a.workdir, "conf.d")
    os.makedirs(confd, exist_ok=True)
    with open(a.config) as f:
        text = f.read()
    U.write_file(a.config, 'include = [ "conf.d/*.conf" ];\n' + text)
    U.write_file(os.path.join(confd, "new.conf"), checks_file([tcp_check("from-include", tcp.echo.port,
                                                                   interval="1s")]))
    n = a.logs().count("configuration reloaded")
    a.proc.send_signal(signal.SIGHUP)
    U.wait_until(lambda: a.logs().count("configuration reloaded") > n, 10, what="the reload")
    U.wait_until(lambda: "from-include" in a.checks(), 10, what="the included check")
    U.wait_until(lambda: a.checks()["from-include"]["state"] == "up", 10, what="the included check to run")

    # A broken included file: the reload is refused, with its FILE:LINE, and
    # the running config stays.
    bad = os.path.join(confd, "zz-bad.conf")
    U.write_file(bad, "checks = (\n  { name = \"x\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 0; }\n);\n")
    a.proc.send_signal(signal.SIGHUP)
    U.wait_until(lambda: bad + ":2:" in a.logs(), 10, what="the included file's error in the log")
    assert "from-include" in a.checks()


# --- the timeout rule -----------------------------------------------------------------------

def test_inherited_timeout_is_cut_to_the_interval(cli, tcp):
    check = tcp_check("fast", tcp.echo.port, interval="2s")
    r, doc = cli.probe(check, defaults={"interval": "30s", "timeout": "10s"})
    assert r.rc == 0, r
    assert doc["timeout_ms"] == 2000 and doc["interval_ms"] == 2000, r
    r, _ = cli.probe(check, json_out=False, defaults={"interval": "30s", "timeout": "10s"})
    assert re.search(r"^timeout\s+2s\b", r.stdout, re.M), r


def test_written_timeout_longer_than_interval_is_an_error(cli):
    path = cli.config(checks=[tcp_check("slow", 1, interval="2s", timeout="3s")],
                      defaults={"interval": "30s", "timeout": "1s"})
    r = cli.run("check-config", "-c", path)
    assert r.rc == 2, r
    assert any(f == path and 'timeout "3s" is longer than interval "2s"' in m
               for f, _, m in errors_of(r.stderr)), r
