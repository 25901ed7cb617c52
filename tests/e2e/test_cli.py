"""The command line (SPEC §1): help, version, `COMMAND --help` starts nothing,
unknown commands and options exit 2."""

import os
import socket

import pytest

import e2eutil as U


def test_help_exits_0_with_usage(cli):
    r = cli.run("--help", timeout=10)
    assert r.rc == 0, r
    out = (r.stdout + r.stderr).lower()
    assert "usage" in out, r
    for cmd in ("run", "check-config", "probe", "version"):
        assert cmd in out, "--help does not mention %s: %r" % (cmd, r)


@pytest.mark.parametrize("args", [["version"], ["--version"]])
def test_version_names_pharos_and_libraries(cli, args):
    r = cli.run(*args, timeout=10)
    assert r.rc == 0, r
    out = r.stdout.lower()
    assert "pharos" in out, r
    assert "libcurl" in out or "curl" in out, r
    # a version number for pharos and the linked libraries
    assert any(ch.isdigit() for ch in out), r
    for lib in ("c-ares", "sqlite", "libmicrohttpd", "jansson", "libconfig"):
        if lib not in out and lib.replace("lib", "") not in out:
            pytest.fail("version does not mention %s: %r" % (lib, r))


@pytest.mark.parametrize("cmd", ["run", "check-config", "probe", "version"])
def test_command_help_starts_nothing(cli, cmd):
    port = U.free_port()
    db = os.path.join(cli.workdir, "must-not-exist.db")
    conf = cli.config(agent={"listen": "127.0.0.1:%d" % port, "database": db},
                      checks=[{"name": "x", "type": "tcp", "host": "127.0.0.1", "port": 9}])
    r = cli.run(cmd, "--help", "-c", conf, timeout=10) if cmd != "version" else cli.run(cmd, "--help", timeout=10)
    assert r.rc == 0, r
    assert r.elapsed < 5, r
    assert "usage" in (r.stdout + r.stderr).lower(), r
    assert not os.path.exists(db), "`%s --help` created the database" % cmd
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), 0.5).close()


def test_unknown_command_exits_2(cli):
    r = cli.run("frobnicate", timeout=10)
    assert r.rc == 2, r
    assert "frobnicate" in r.stderr, r
    assert r.stdout == "", r


def test_no_command_exits_2(cli):
    r = cli.run(timeout=10)
    assert r.rc == 2, r


def test_unknown_option_exits_2(cli):
    conf = cli.config(checks=[{"name": "x", "type": "tcp", "host": "127.0.0.1", "port": 9}])
    r = cli.run("check-config", "-c", conf, "--no-such-option", timeout=10)
    assert r.rc == 2, r


def test_config_from_environment(cli):
    conf = cli.config(checks=[{"name": "x", "type": "tcp", "host": "127.0.0.1", "port": 9},
                              {"name": "y", "type": "tcp", "host": "127.0.0.1", "port": 10}])
    r = cli.run("check-config", timeout=10, env={"PHAROS_CONFIG": conf})
    assert r.rc == 0, r
    assert r.stdout.strip() == "ok: 2 checks, 0 rules, 0 notifiers", r


def test_missing_config_file_exits_2(cli):
    path = os.path.join(cli.workdir, "nope", "pharos.conf")
    r = cli.run("check-config", "-c", path, timeout=10)
    assert r.rc == 2, r
    assert path in r.stderr, r
