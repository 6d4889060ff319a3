"""Heartbeat and switch-over against a real MariaDB pair of its own (the
tests kill and freeze servers, so they do not share the session pair):
kill -9 and kill -STOP of the active writeHost, dnindex.properties written
and read back, no automatic switch back, switch_type = -1."""

import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import Manx, free_port, killable_pair, poll, render_config, server_pid, wait_port

pytestmark = pytest.mark.manx_only

PERIOD_MS, TIMEOUT_MS, RETRIES, RETRY_MS = 1000, 1000, 3, 200


@pytest.fixture(scope="module")
def fpair():
    yield from killable_pair("FAILOVER", "failover-pair", 13407, 13408)



def start_one(pair, n):
    """Start server n of the pair alone (pair.sh starts both).  Detached
    like pair.sh does it, so the server is not this process's child (a
    zombie would look alive to pair.sh stop)."""
    d = pair.base / f"s{n}"
    (d / "mysqld.pid").unlink(missing_ok=True)
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    subprocess.run(["sh", "-c", f"setsid nohup {shlex.quote(mariadbd)} --defaults-file={shlex.quote(str(d / 'my.cnf'))}"
                    f" </dev/null >>{shlex.quote(str(d / 'stdout.log'))} 2>&1 &"], check=True)
    port = pair.port1 if n == 1 else pair.port2
    assert wait_port("127.0.0.1", port, 60), f"s{n} did not listen on {port}"


def ensure_running(pair):
    for n in (1, 2):
        pid = server_pid(pair, n)
        if pid:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
    r = pair.sh("start")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture
def fmanx(fpair, tmp_path):
    """Factory for manx processes on the failover pair; all are stopped at
    teardown and must exit 0 without sanitizer reports."""
    made = []

    def make(datahost_extra=None, state=None, start=True, manx_extra=None, users_extra="", max_con=50):
        tmp = tmp_path / f"manx{len(made)}"
        tmp.mkdir()
        port, aport = free_port(), free_port()
        extra = {"heartbeat_period": f"{PERIOD_MS}ms", "heartbeat_timeout": f"{TIMEOUT_MS}ms",
                 "heartbeat_retries": RETRIES, "heartbeat_retry_interval": f"{RETRY_MS}ms",
                 "rejoin_delay": "1s"}
        extra.update(datahost_extra or {})
        text = render_config(fpair, tmp, port, aport, manx_extra=manx_extra, datahost_extra=extra,
                             users_extra=users_extra, max_con=max_con, min_con=0)
        if state is not None:
            text = text.replace(f"state_dir = {tmp}/state", f"state_dir = {state}")
        m = Manx(fpair, tmp, text, port, aport)
        made.append(m)
        if start:
            m.start()
        return m

    yield make
    for m in made:
        rc = m.terminate()
        rep = m.sanitizer_report()
        assert rep is None, rep
        assert rc == 0, f"manx exited with {rc}; log tail:\n{m.log()[-3000:]}"
    ensure_running(fpair)


class Writer(threading.Thread):
    """Inserts through manx every 20 ms for at most `seconds`, reconnecting
    after errors; records (time, server_id) of each success and each error."""

    def __init__(self, m, seconds):
        super().__init__(daemon=True)
        self.m, self.seconds = m, seconds
        self.ok, self.errors = [], []
        self.stop = threading.Event()

    def run(self):
        conn = None
        end = time.monotonic() + self.seconds
        while time.monotonic() < end and not self.stop.is_set():
            try:
                if conn is None:
                    conn = self.m.connect(connect_timeout=3, read_timeout=5, write_timeout=5)
                cur = conn.cursor()
                cur.execute("INSERT INTO fo(t) VALUES (%s)", (time.time(),))
                cur.execute("SELECT @@server_id")
                self.ok.append((time.monotonic(), cur.fetchone()[0]))
            except Exception as e:  # noqa: BLE001 - every error is data here
                self.errors.append((time.monotonic(), str(e)))
                try:
                    if conn is not None:
                        conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
            time.sleep(0.02)

    def first_ok_on(self, server_id, after):
        for t, sid in self.ok:
            if t >= after and sid == server_id:
                return t
        return None


def make_table(m):
    c = m.connect()
    c.cursor().execute("CREATE TABLE IF NOT EXISTS fo(id INT AUTO_INCREMENT PRIMARY KEY, t DOUBLE)")
    c.close()


def dnindex(m, state=None):
    p = Path(state or (m.tmp / "state")) / "dnindex.properties"
    return p.read_text() if p.exists() else None


def writer_server_id(m):
    c = m.connect(connect_timeout=5, read_timeout=5)
    cur = c.cursor()
    cur.execute("SELECT @@server_id")
    sid = cur.fetchone()[0]
    c.close()
    return sid



def test_kill9_writer_switches_and_persists(fpair, fmanx, tmp_path):
    state = tmp_path / "shared-state"
    m = fmanx(state=state)
    make_table(m)
    assert writer_server_id(m) == 88
    w = Writer(m, 20)
    w.start()
    time.sleep(1.5)
    t_kill = time.monotonic()
    os.kill(server_pid(fpair, 1), signal.SIGKILL)
    assert poll(lambda: w.first_ok_on(89, t_kill) is not None, 15)
    w.stop.set()
    w.join(10)
    outage = w.first_ok_on(89, t_kill) - t_kill
    bound = RETRIES * PERIOD_MS / 1000 + TIMEOUT_MS / 1000 + 1
    print(f"kill -9: writes back on the second writeHost after {outage:.2f} s (bound {bound} s), "
          f"{len(w.errors)} failed statements")
    assert outage <= bound, (outage, w.errors[:5])
    text = dnindex(m, state)
    assert text is not None and "localhost1=1" in text and text.startswith("#update")
    assert "writes switched from hostM1" in m.log()

    # A restarted manx resumes on the persisted index.
    assert m.terminate() == 0
    m2 = fmanx(state=state)
    assert writer_server_id(m2) == 89

    # The old writer comes back: no automatic switch back.
    ensure_running(fpair)
    assert poll(lambda: "hostM1 127.0.0.1:%d is UP" % fpair.port1 in m2.log(), 10)
    time.sleep(2)
    assert writer_server_id(m2) == 89
    assert "localhost1=1" in dnindex(m2, state)


def test_stop_writer_detected_by_timeout_no_flapping(fpair, fmanx):
    m = fmanx()
    make_table(m)
    assert writer_server_id(m) == 88
    pid = server_pid(fpair, 1)
    # A statement running on the writer when it freezes must fail, not hang.
    res = {}

    def long_query():
        c = m.connect(read_timeout=30)
        t0 = time.monotonic()
        try:
            c.cursor().execute("SELECT SLEEP(25)")
            res["outcome"] = "completed"
        except Exception as e:  # noqa: BLE001
            res["outcome"] = str(e)
        res["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=long_query, daemon=True)
    t.start()
    time.sleep(0.5)
    t_stop = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        assert poll(lambda: "writes switched from hostM1" in m.log(), 15)
        switched = time.monotonic() - t_stop
        bound = PERIOD_MS / 1000 + RETRIES * (TIMEOUT_MS + RETRY_MS) / 1000 + 1
        print(f"kill -STOP: writes switched after {switched:.2f} s (bound {bound:.1f} s)")
        assert switched <= bound
        assert "timeout" in m.log()
        assert writer_server_id(m) == 89
        t.join(10)
        assert res.get("outcome") not in (None, "completed"), res
        assert "1927" in res["outcome"], res
        assert res["elapsed"] < 20, res
    finally:
        os.kill(pid, signal.SIGCONT)
    # Back from SIGSTOP: it comes UP again but writes stay where they are.
    assert poll(lambda: m.log().count("is UP again") >= 1, 15)
    time.sleep(2)
    assert writer_server_id(m) == 89
    assert m.log().count("writes switched") == 1


def test_waiting_for_a_frozen_writer_fails_once_it_is_down(fpair, fmanx):
    """A session waiting for a pooled connection to the writer when the
    writer freezes gets its error once the heartbeat marks the writer DOWN,
    not after pool_wait_timeout or connect_timeout (both 60 s here): with
    agreed switches (coordination) writes can be routed to a writer the
    heartbeat already calls down."""
    from coordfix import console_rows
    m = fmanx(manx_extra={"pool_wait_timeout": "60s", "connect_timeout": "60s"}, max_con=1,
              users_extra="\n[admin]\nuser = admin\npassword = admin\n")
    make_table(m)
    holder = m.connect()
    holder.cursor().execute("BEGIN")
    holder.cursor().execute("INSERT INTO fo(t) VALUES (1)")   # hostM1's only connection, pinned
    res = {}

    def waiter():
        c = m.connect(read_timeout=90)
        try:
            c.cursor().execute("INSERT INTO fo(t) VALUES (2)")
            res["outcome"] = "completed"
        except Exception as e:  # noqa: BLE001
            res["outcome"] = str(e)
        res["at"] = time.monotonic()

    t = threading.Thread(target=waiter, daemon=True)
    t.start()

    def waiting():
        rows = console_rows(m, "show @@datasource")[1]
        return any(r["NAME"] == "hostM1" and r["WAITING"] == "1" for r in rows)
    assert poll(waiting, 10), "the second session never waited for hostM1"
    pid = server_pid(fpair, 1)
    t_stop = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        t.join(40)
        assert res.get("outcome") not in (None, "completed"), res
        assert "DOWN" in res["outcome"], res
        took = res["at"] - t_stop
        bound = PERIOD_MS / 1000 + RETRIES * (TIMEOUT_MS + RETRY_MS) / 1000 + 2
        print(f"waiter failed {took:.2f} s after the writer froze (bound {bound:.1f} s)")
        assert took <= bound, took
    finally:
        os.kill(pid, signal.SIGCONT)
        holder.close()


def test_switch_type_never(fpair, fmanx):
    m = fmanx(datahost_extra={"switch_type": -1})
    make_table(m)
    os.kill(server_pid(fpair, 1), signal.SIGKILL)
    assert poll(lambda: "switch_type = -1, not switching" in m.log(), 10)
    with pytest.raises(Exception) as ei:
        writer_server_id(m)
    assert "1105" in str(ei.value) or "1927" in str(ei.value), ei.value
    assert dnindex(m) is None


def test_corrupt_dnindex_is_reported_and_ignored(fpair, fmanx, tmp_path):
    state = tmp_path / "bad-state"
    state.mkdir()
    (state / "dnindex.properties").write_text("#update\nnosuchhost=1\nlocalhost1=7\ngarbage\n")
    m = fmanx(state=state)
    log = m.log()
    assert "unknown dataHost 'nosuchhost'" in log
    assert "index '7' out of range" in log
    assert "not a name=index line" in log
    assert writer_server_id(m) == 88


def test_dnindex_from_mycat_is_honoured(fpair, fmanx, tmp_path):
    state = tmp_path / "mycat-state"
    state.mkdir()
    (state / "dnindex.properties").write_text("#update\n#Tue Sep 12 10:25:35 CST 2023\nlocalhost1=1\n")
    m = fmanx(state=state)
    assert writer_server_id(m) == 89


def test_manual_switch_with_sighup(fpair, fmanx):
    """The operator's way back: edit dnindex.properties, send SIGHUP."""
    m = fmanx()
    assert writer_server_id(m) == 88
    (m.tmp / "state" / "dnindex.properties").write_text("#update\nlocalhost1=1\n")
    m.proc.send_signal(signal.SIGHUP)
    assert poll(lambda: "writes moved by" in m.log(), 5)
    assert writer_server_id(m) == 89
    # A file that no longer mentions the dataHost changes nothing.
    (m.tmp / "state" / "dnindex.properties").write_text("#update\n")
    m.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert writer_server_id(m) == 89


@pytest.mark.parametrize("drop", [False, True])
def test_readhosts_of_a_dead_writer(fpair, fmanx, drop):
    """Mycat's trap fixed: hostS1 (a healthy server) keeps serving reads when
    its writeHost hostM1 dies, unless drop_reads_of_dead_writer asks for
    Mycat's behaviour."""
    import re
    m = fmanx(datahost_extra={"balance": 1, "drop_reads_of_dead_writer": str(drop).lower()})
    make_table(m)
    os.kill(server_pid(fpair, 1), signal.SIGKILL)
    assert poll(lambda: "writes switched from hostM1" in m.log(), 10)
    assert poll(lambda: "host hostS2 127.0.0.1:%d is DOWN" % fpair.port1 in m.log(), 10)
    mark = len(m.log())
    c = m.connect()
    with c.cursor() as cur:
        for _ in range(12):
            cur.execute("SELECT COUNT(*) FROM fo")
    c.close()
    hosts = set(re.findall(r"READ -> S-\d+ (\w+) ", m.log()[mark:]))
    assert hosts and "hostM1" not in hosts and "hostS2" not in hosts, hosts
    if drop:
        assert hosts == {"hostM2"}, hosts
    else:
        assert "hostS1" in hosts, hosts


def test_double_failure_writes_return_when_rejoin_delay_ends(fpair, fmanx):
    """Issue 8: the writer dies, then the standby, then the first writer
    returns.  Nothing is up to take writes until hostM1 has been up for
    rejoin_delay; the switch must happen when that delay ends, not at the
    next UP/DOWN transition (which may never come: hostM2 stays dead)."""
    rejoin = 3.0
    m = fmanx(datahost_extra={"rejoin_delay": f"{int(rejoin * 1000)}ms"})
    make_table(m)
    assert writer_server_id(m) == 88
    os.kill(server_pid(fpair, 1), signal.SIGKILL)
    assert poll(lambda: "writes switched from hostM1" in m.log(), 10), m.log()[-3000:]
    assert writer_server_id(m) == 89
    os.kill(server_pid(fpair, 2), signal.SIGKILL)
    assert poll(lambda: "host hostM2 127.0.0.1:%d is DOWN" % fpair.port2 in m.log(), 10)
    with pytest.raises(Exception):
        writer_server_id(m)

    start_one(fpair, 1)
    up = "host hostM1 127.0.0.1:%d is UP again" % fpair.port1
    assert poll(lambda: up in m.log(), 30), m.log()[-3000:]
    t_up = time.monotonic()
    sid, t_ok = None, None
    while time.monotonic() < t_up + rejoin + 3:
        try:
            sid = writer_server_id(m)
            t_ok = time.monotonic()
            break
        except Exception:  # noqa: BLE001 - writes are expected to fail until then
            time.sleep(0.1)
    print(f"double failure: writes back on hostM1 {t_ok - t_up if t_ok else -1:.2f} s after it came UP "
          f"(rejoin_delay {rejoin} s)")
    assert sid == 88, (sid, m.log()[-3000:])
    # Not before the delay (the UP line is seen up to a poll step late).
    assert t_ok - t_up >= rejoin - 0.5, t_ok - t_up
    assert "writes switched from hostM2" in m.log()
    assert poll(lambda: "localhost1=0" in (dnindex(m) or ""), 5)
