"""coordination = backend_locks and fence = read_only, the small checks
(issue 13; the big coordination suites are test_coord_*.py): two manx in
front of one pair of their own agree through GET_LOCK and
manx_coord.writers, exactly one decides, a kill -9 of the writer moves both
and is recorded as epoch 2 (fencing: test_coord_fence.py)."""

import os
import signal
import subprocess

import pymysql
import pytest

from conftest import Manx, free_port, killable_pair, poll, render_config, server_pid, wait_for

pytestmark = pytest.mark.manx_only

ADMIN = "\n[admin]\nuser = admin\npassword = admin\n"
HB = {"heartbeat_period": "1000ms", "heartbeat_timeout": "1000ms", "heartbeat_retries": 3,
      "heartbeat_retry_interval": "200ms", "rejoin_delay": "1s"}


@pytest.fixture(scope="module")
def lpair():
    yield from killable_pair("LOCKS", "locks-pair", 13607, 13608)



def ensure_running(pair):
    r = pair.sh("start")
    assert r.returncode == 0, r.stdout + r.stderr


def direct(pair, n, **kw):
    return pymysql.connect(host="127.0.0.1", port=pair.port1 if n == 1 else pair.port2,
                           user=kw.pop("user", "root"), password=kw.pop("password", "123456"),
                           connect_timeout=5, read_timeout=10, autocommit=True, **kw)


def query(pair, n, sql, **kw):
    c = direct(pair, n, **kw)
    try:
        with c.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        c.close()


def reset_backends(pair):
    """No coordination record, no read_only, no lock left by an earlier test."""
    for n in (1, 2):
        query(pair, n, "SET GLOBAL read_only = OFF")
    query(pair, 1, "DROP DATABASE IF EXISTS manx_coord")
    poll(lambda: not query(pair, 2, "SHOW DATABASES LIKE 'manx_coord'"), 10)
    query(pair, 2, "DROP DATABASE IF EXISTS manx_coord")


@pytest.fixture
def lmanx(lpair, tmp_path):
    made = []

    def make(name, manx_extra=None, datahost_extra=None):
        tmp = tmp_path / name
        tmp.mkdir()
        port, aport = free_port(), free_port()
        dh = dict(HB)
        dh.update(datahost_extra or {})
        extra = {"instance_name": name}
        extra.update(manx_extra or {})
        text = render_config(lpair, tmp, port, aport, manx_extra=extra, datahost_extra=dh, users_extra=ADMIN)
        m = Manx(lpair, tmp, text, port, aport)
        made.append(m)
        m.start()
        return m

    reset_backends(lpair)
    yield make
    problems = []
    for m in made:
        rc = m.terminate()
        rep = m.sanitizer_report()
        if rep or rc != 0:
            problems.append(f"{m.tmp.name}: exit {rc}\n{rep or m.log()[-3000:]}")
    ensure_running(lpair)
    for n in (1, 2):
        query(lpair, n, "SET GLOBAL read_only = OFF")
    assert not problems, "\n".join(problems)


def console(m, sql):
    """The rows of a console statement as dicts (the mariadb CLI, batch mode)."""
    r = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(m.admin_port), "-u", "admin",
                        "-padmin", "--connect-timeout=5", "-B", "-e", sql],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, (sql, r.stderr)
    lines = r.stdout.rstrip("\n").split("\n")
    cols = lines[0].split("\t")
    return [dict(zip(cols, line.split("\t"))) for line in lines[1:]]


def coord(m):
    rows = console(m, "show @@coordination")
    assert len(rows) == 1, rows
    return rows[0]


def active_writer(m):
    return console(m, "show @@datahost")[0]["ACTIVE_WRITEHOST"]


def record(pair, n):
    try:
        rows = query(pair, n, "SELECT idx, epoch, by_instance FROM manx_coord.writers WHERE datahost = 'localhost1' "
                     "ORDER BY epoch DESC LIMIT 1")
    except pymysql.err.ProgrammingError:
        return None
    return rows[0] if rows else None


def test_backend_locks_one_decider_and_kill9_writer(lpair, lmanx):
    locks = {"coordination": "backend_locks"}
    a, b = lmanx("manx-a", locks), lmanx("manx-b", locks)

    def settled():
        rows = [coord(a), coord(b)]
        return (all(r["STATE"] == "SYNCED" and r["WRITER"] == "hostM1" for r in rows)
                and sorted(r["I_DECIDE"] for r in rows) == ["0", "1"])

    wait_for(settled, 30, "one decider, both SYNCED on hostM1")
    rows = {m.tmp.name: coord(m) for m in (a, b)}
    for name, r in rows.items():
        assert r["MODE"] == "backend_locks" and r["INSTANCE"] == name, r
        assert r["WRITER_INDEX"] == "0" and r["WRITER_REV"] == "1" and r["WRITER_VIEW"] == "UP", r
    decider = [n for n, r in rows.items() if r["I_DECIDE"] == "1"][0]
    assert rows[decider]["DECIDER"] == decider
    # The first record: epoch 1, the writer in use, on both servers.
    assert poll(lambda: record(lpair, 1) == (0, 1, decider) and record(lpair, 2) == (0, 1, decider), 10)
    # The decider's heartbeat connections hold the lock on both servers.
    for n in (1, 2):
        assert query(lpair, n, "SELECT IS_USED_LOCK('manx:localhost1') IS NOT NULL")[0][0] == 1

    os.kill(server_pid(lpair, 1), signal.SIGKILL)
    wait_for(lambda: active_writer(a) == "hostM2" and active_writer(b) == "hostM2", 20,
             "both instances send writes to hostM2")
    assert record(lpair, 2) == (1, 2, decider)
    for m in (a, b):
        r = coord(m)
        assert r["WRITER"] == "hostM2" and r["WRITER_REV"] == "2", r
    follower = a if decider == "manx-b" else b
    assert "not switching: instance does not hold the lock on a majority" in follower.log()
    assert coord(follower)["SWITCHES_APPLIED"] == "1"
    assert "as agreed through backend_locks (revision 2" in follower.log()

    # The old writer comes back: it gets the newest record, writes stay.
    ensure_running(lpair)
    assert poll(lambda: record(lpair, 1) == (1, 2, decider), 20), record(lpair, 1)
    assert active_writer(a) == "hostM2" and active_writer(b) == "hostM2"
    assert sorted(coord(m)["I_DECIDE"] for m in (a, b)) == ["0", "1"]

