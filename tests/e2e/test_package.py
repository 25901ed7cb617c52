"""The Debian package (`make deb`): lintian finds no errors; as root it
installs with dpkg -i, `pharos check-config` accepts the installed
/etc/pharos/pharos.conf, `pharos version` runs, the user and state directory
exist, the unit verifies; dpkg --purge removes it all again."""

import glob
import os
import shutil
import subprocess

import pytest

import e2eutil as U

# One worker builds the package once and runs dpkg: one dpkg at a time.
pytestmark = pytest.mark.xdist_group("package")

PKG = "pharos"


def run(args, timeout=120, check=True, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=U.REPO, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s exited with %s:\n%s\n%s" % (" ".join(args), r.returncode,
                                                             r.stdout[-3000:], r.stderr[-3000:]))
    return r


def installed(pkg=PKG):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.endswith(" installed")


@pytest.fixture(scope="module")
def deb():
    for tool in ("dpkg-deb", "dpkg", "make", "strip"):
        if shutil.which(tool) is None:
            pytest.skip("%s is missing: the package cannot be built here" % tool)
    for old in glob.glob(os.path.join(U.REPO, "build", "pharos_*.deb")):
        os.unlink(old)
    r = run(["make", "--no-print-directory", "-j%d" % (os.cpu_count() or 2), "deb"], timeout=300)
    path = r.stdout.strip().splitlines()[-1]
    assert path.endswith(".deb") and os.path.exists(path), r.stdout
    return path


def test_contents(deb):
    listing = run(["dpkg-deb", "-c", deb]).stdout
    for f in ("./usr/bin/pharos", "./etc/pharos/pharos.conf", "./lib/systemd/system/pharos.service",
              "./usr/share/man/man1/pharos.1.gz", "./usr/share/man/man5/pharos.conf.5.gz",
              "./usr/share/doc/pharos/copyright", "./usr/share/doc/pharos/changelog.Debian.gz"):
        assert f in listing, "%s missing:\n%s" % (f, listing)
    assert "root/root" in listing and "1000/" not in listing
    control = run(["dpkg-deb", "-f", deb]).stdout
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    for dep in ("libcurl4", "libc-ares2", "libmicrohttpd12", "libsqlite3-0", "libconfig9",
                "libjansson4", "libssl3", "libpcre2-8-0", "adduser"):
        assert dep in depends, "Depends lacks %s: %s" % (dep, control)
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert conffiles == ["/etc/pharos/pharos.conf"]


def test_lintian_no_errors(deb):
    if shutil.which("lintian") is None:
        pytest.skip("lintian is missing (apt-get install lintian)")
    r = run(["lintian", "--allow-root", deb], check=False, timeout=180)
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    assert errors == [], "lintian errors:\n%s" % r.stdout


def test_man_pages_render(deb):
    if shutil.which("man") is None:
        pytest.skip("man is missing (apt-get install man-db)")
    for page in ("packaging/pharos.1", "packaging/pharos.conf.5"):
        r = run(["man", "--warnings", "-l", page], env=dict(os.environ, MANWIDTH="80", MANPAGER="cat",
                                                           PAGER="cat"))
        assert "pharos" in r.stdout
        assert r.stderr.strip() == "", "%s: %s" % (page, r.stderr)


def test_install_check_config_version_purge(deb):
    if os.geteuid() != 0:
        pytest.skip("installing the package needs root")
    if installed():
        pytest.skip("a pharos package is already installed on this machine: not touching it")
    try:
        run(["dpkg", "-i", deb], timeout=120)
        assert installed()
        r = run(["/usr/bin/pharos", "check-config", "-c", "/etc/pharos/pharos.conf"])
        assert r.stdout.startswith("ok: "), r.stdout
        r = run(["/usr/bin/pharos", "version"])
        assert "pharos " in r.stdout and "libmicrohttpd" in r.stdout
        # The system user and its state directory.
        r = run(["getent", "passwd", "pharos"])
        assert ":/var/lib/pharos:" in r.stdout
        st = os.stat("/var/lib/pharos")
        assert st.st_uid == int(r.stdout.split(":")[2])
        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", PKG]).stdout
        assert "/etc/pharos/pharos.conf" in conffiles
        assert os.path.exists("/usr/share/man/man1/pharos.1.gz")
        if shutil.which("systemd-analyze"):
            r = run(["systemd-analyze", "verify", "/lib/systemd/system/pharos.service"], check=False)
            # In some containers systemd-analyze cannot run at all: only a
            # complaint about the unit itself counts.
            assert "pharos.service:" not in r.stderr, r.stderr
    finally:
        purge = None
        if installed() or os.path.exists("/etc/pharos/pharos.conf"):
            purge = run(["dpkg", "--purge", PKG], timeout=120, check=False)
    assert not installed()
    # A purge says nothing but dpkg's own lines: no warning of a maintainer script.
    out = purge.stdout + purge.stderr
    assert "warning" not in out.lower() and "deluser" not in out, out
    assert not os.path.exists("/var/lib/pharos")
    assert not os.path.exists("/etc/pharos/pharos.conf")
    assert subprocess.run(["getent", "passwd", "pharos"], capture_output=True).returncode != 0


def test_make_install_destdir(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is missing")
    if not os.path.exists(U.PHAROS):
        pytest.skip("./pharos is not built")
    dest = str(tmp_path / "root")
    run(["make", "--no-print-directory", "-o", "pharos", "install", "DESTDIR=" + dest, "PREFIX=/usr"])
    for f in ("usr/bin/pharos", "usr/share/man/man1/pharos.1", "usr/share/man/man5/pharos.conf.5",
              "usr/share/doc/pharos/examples/pharos.conf"):
        assert os.path.exists(os.path.join(dest, f)), f
    r = run([os.path.join(dest, "usr/bin/pharos"), "check-config", "-c",
             os.path.join(dest, "usr/share/doc/pharos/examples/pharos.conf")])
    assert r.stdout.startswith("ok: ")
    run(["make", "--no-print-directory", "uninstall", "DESTDIR=" + dest, "PREFIX=/usr"])
    assert not os.path.exists(os.path.join(dest, "usr/bin/pharos"))
