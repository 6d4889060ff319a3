"""The manx process: command line, config checking, orderly shutdown."""

import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import manx_bin

pytestmark = pytest.mark.manx_only


def _bin():
    return manx_bin()


def _run(*args, timeout=30):
    return subprocess.run([_bin(), *args], capture_output=True, text=True, timeout=timeout)


def test_version_and_help():
    r = _run("--version")
    assert r.returncode == 0, r.stderr
    assert re.search(r"\d+\.\d+\.\d+", r.stdout + r.stderr), r.stdout + r.stderr
    r = _run("--help")
    assert r.returncode == 0, r.stderr
    assert "-c" in r.stdout + r.stderr


def test_bad_option():
    r = _run("--no-such-option")
    assert r.returncode != 0


def test_check_good_config(manx):
    m = manx(start=False)
    r = _run("-c", str(m.config), "--check")
    assert r.returncode == 0, r.stdout + r.stderr


BROKEN = [
    # (what to change, key named in the error)
    (("max_con = 50", "max_con = lots"), "max_con"),
    (("balance = 0", "balance = 9"), "balance"),
    (("datanode = dn1", "datanode = no_such_dn"), "datanode"),
    (("workers = 2", "workers = 2\nno_such_key = 1"), "no_such_key"),
    (("password_hash = *6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9", "password_hash = *XYZ"),
     "password_hash"),
]


@pytest.mark.parametrize("change,key", BROKEN, ids=[b[1] for b in BROKEN])
def test_check_broken_config(manx, change, key):
    m = manx(start=False)
    text = m.config.read_text()
    old, new = change
    assert old in text
    text = text.replace(old, new, 1)
    m.config.write_text(text)
    line = text[:text.index(new)].count("\n") + 1 + new.count("\n")
    r = _run("-c", str(m.config), "--check")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    # "file:line: key: reason"
    mo = re.search(r"(\S*manx\.ini):(\d+): ([\w.-]+): \S.*", out)
    assert mo, out
    assert mo.group(3) == key, out
    # The line of the offending key.
    assert int(mo.group(2)) == line, out


def test_missing_config_file(tmp_path):
    r = _run("-c", str(tmp_path / "nope.ini"), "--check")
    assert r.returncode != 0
    assert "nope.ini" in r.stdout + r.stderr


def test_sigterm_waits_for_running_statement(manx):
    m = manx()
    c = m.connect()
    result = {}

    def run():
        try:
            with c.cursor() as cur:
                cur.execute("select sleep(2), 'done'")
                result["row"] = cur.fetchone()
        except Exception as e:  # noqa: BLE001 - checked below
            result["error"] = e

    th = threading.Thread(target=run)
    th.start()
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        m.proc.send_signal(signal.SIGTERM)
        th.join(20)
        assert not th.is_alive()
        assert result.get("row") == (0, "done"), result
        rc = m.proc.wait(20)
        assert rc == 0, m.log()[-3000:]
        assert time.monotonic() - t0 < 15
    finally:
        c.close()


def test_sigterm_idle_exits_quickly(manx):
    m = manx()
    idle = m.connect()
    try:
        with idle.cursor() as cur:
            cur.execute("select 1")
        t0 = time.monotonic()
        m.proc.send_signal(signal.SIGINT)
        assert m.proc.wait(15) == 0, m.log()[-3000:]
        assert time.monotonic() - t0 < 12
    finally:
        idle.close()


def test_listen_port_busy(manx):
    """A second manx on the same port fails to start with a non-zero exit
    (rather than sharing the port through SO_REUSEPORT and taking a share of
    the clients)."""
    m = manx()
    m2 = manx(start=False)
    text = m2.config.read_text()
    text = re.sub(r"^listen = .*$", f"listen = 127.0.0.1:{m.port}", text, flags=re.M)
    m2.config.write_text(text)
    p = subprocess.Popen([_bin(), "-c", str(m2.config)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, cwd=str(m2.tmp))
    try:
        out, _ = p.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail("second manx on a busy port kept running")
    assert p.returncode != 0, out


def test_sighup_reload_keeps_running_on_a_bad_config(manx):
    import re
    import signal as sig
    import time
    m = manx()
    good = m.config.read_text()

    def hup_and_wait(marker):
        n = m.log().count(marker)
        m.proc.send_signal(sig.SIGHUP)
        end = time.monotonic() + 5
        while m.log().count(marker) <= n and time.monotonic() < end:
            time.sleep(0.05)
        assert m.log().count(marker) > n, m.log()[-2000:]

    def query_ok():
        c = m.connect()
        with c.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
        c.close()

    # A broken file: reported with file:line, and manx keeps serving.
    m.config.write_text(good.replace("[manx]\n", "[manx]\nbogus_key = 1\n", 1))
    hup_and_wait("the running configuration stays")
    assert re.search(r"reload: \S+manx\.ini:2: bogus_key: ", m.log()), m.log()[-1500:]
    query_ok()
    # A change that needs a restart is refused the same way.
    m.config.write_text(re.sub(r"listen = 127\.0\.0\.1:\d+\n", "listen = 127.0.0.1:1\n", good, count=1))
    n = m.log().count("needs a restart")
    hup_and_wait("the running configuration stays")
    assert m.log().count("needs a restart") > n
    query_ok()
    # A good file: log_level takes effect (no more debug lines).
    m.config.write_text(good.replace("log_level = debug", "log_level = warning"))
    hup_and_wait("received SIGHUP")
    time.sleep(0.3)
    mark = len(m.log())
    query_ok()
    time.sleep(0.3)
    assert "DEBUG" not in m.log()[mark:], m.log()[mark:]
