"""consistency = session against a replica that lags on purpose
(MASTER_DELAY): every read that follows a write in the same session sees
it, and most reads are still served by the replica (it waits for the
session's GTID with MASTER_GTID_WAIT; only on timeout does the writer
answer).  A pair of its own, since the delay would slow every other test."""

import re
import threading
import time

import pytest

from conftest import Manx, free_port, own_pair, render_config

pytestmark = pytest.mark.manx_only

THREADS, ROUNDS = 50, 20


@pytest.fixture(scope="module")
def dpair():
    p = own_pair("DELAY", "delay-pair", 13507, 13508)
    try:
        # The second server applies the first one's writes a second late.
        c = p.connect(port=p.port2)
        with c.cursor() as cur:
            cur.execute("STOP SLAVE")
            cur.execute("CHANGE MASTER TO MASTER_DELAY = 1")
            cur.execute("START SLAVE")
        c.close()
        w = p.connect()
        with w.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS cons")
            cur.execute("CREATE TABLE cons (id INT PRIMARY KEY, v INT)")
        w.close()
        time.sleep(2.5)  # the delayed replica must have the table
        yield p
    finally:
        p.sh("stop")


def start_manx(pair, tmp, consistency):
    tmp.mkdir()
    port, aport = free_port(), free_port()
    text = render_config(pair, tmp, port, aport, max_con=120, min_con=2,
                         datahost_extra={"balance": 3, "consistency": consistency,
                                         "consistency_timeout": "5s"})
    m = Manx(pair, tmp, text, port, aport)
    m.start()
    # Reads need the replica to be known up.
    end = time.monotonic() + 5
    while "host hostS1" not in m.log() and time.monotonic() < end:
        time.sleep(0.05)
    time.sleep(0.2)
    return m


def rounds(m, base, threads, n):
    """Each thread: insert a row, read it back at once; returns stale count."""
    stale, errors = [0], []

    def work(t):
        try:
            c = m.connect()
            with c.cursor() as cur:
                for i in range(n):
                    key = base + t * 1000 + i
                    cur.execute("INSERT INTO cons VALUES (%s, %s)", (key, i))
                    cur.execute("SELECT v FROM cons WHERE id = %s", (key,))
                    if cur.fetchone() != (i,):
                        stale[0] += 1
            c.close()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors[:3]
    return stale[0]


def stop(m):
    rc = m.terminate()
    rep = m.sanitizer_report()
    assert rep is None, rep
    assert rc == 0, m.log()[-3000:]


def test_eventual_reads_are_stale_on_a_lagging_replica(dpair, tmp_path):
    """The control: without consistency = session the delay shows."""
    m = start_manx(dpair, tmp_path / "eventual", "eventual")
    try:
        assert rounds(m, 1_000_000, 5, 4) > 0
    finally:
        stop(m)


def test_session_reads_see_own_writes_mostly_on_the_replica(dpair, tmp_path):
    m = start_manx(dpair, tmp_path / "session", "session")
    try:
        t0 = time.monotonic()
        stale = rounds(m, 2_000_000, THREADS, ROUNDS)
        took = time.monotonic() - t0
        log = m.log()
        reads = re.findall(r"READ -> S-\d+ (\w+) ", log)
        on_replica = sum(1 for h in reads if h == "hostS1")
        fallbacks = log.count("reading from the writer")
        print(f"{THREADS * ROUNDS} rounds in {took:.1f} s: {stale} stale, "
              f"{on_replica} of {len(reads)} reads on the replica, {fallbacks} fell back to the writer")
        assert stale == 0
        assert len(reads) >= THREADS * ROUNDS
        assert on_replica >= 0.5 * THREADS * ROUNDS
    finally:
        stop(m)


def set_delay(pair, seconds, sql_thread_only=False):
    c = pair.connect(port=pair.port2)
    with c.cursor() as cur:
        cur.execute("STOP SLAVE")
        cur.execute(f"CHANGE MASTER TO MASTER_DELAY = {int(seconds)}")
        cur.execute("START SLAVE")
    c.close()


def replica_reads(m, n=10):
    """Runs n reads; returns the hosts that served them (from the log)."""
    mark = len(m.log())
    c = m.connect()
    with c.cursor() as cur:
        for _ in range(n):
            cur.execute("SELECT COUNT(*) FROM cons")
    c.close()
    return re.findall(r"READ -> S-\d+ (\w+) ", m.log()[mark:])


def wait_hosts(m, want, timeout=30):
    end = time.monotonic() + timeout
    hosts = []
    while time.monotonic() < end:
        hosts = replica_reads(m, 4)
        if want(hosts):
            return hosts
        time.sleep(0.3)
    return hosts


def test_switch_type_2_skips_lagging_and_stopped_replicas(dpair, tmp_path):
    (tmp_path / "st2").mkdir()
    port, aport = free_port(), free_port()
    text = render_config(dpair, tmp_path / "st2", port, aport, max_con=20, min_con=1,
                         datahost_extra={"balance": 3, "switch_type": 2, "slave_threshold": 2})
    m = Manx(dpair, tmp_path / "st2", text, port, aport)
    m.start()
    stop_writes = threading.Event()

    def writes():
        c = dpair.connect()
        i = 0
        with c.cursor() as cur:
            while not stop_writes.is_set():
                i += 1
                cur.execute("INSERT INTO cons VALUES (%s, 0)", (5_000_000 + i,))
                time.sleep(0.1)
        c.close()

    w = threading.Thread(target=writes, daemon=True)
    try:
        set_delay(dpair, 0)
        assert set(wait_hosts(m, lambda h: h and set(h) == {"hostS1"})) == {"hostS1"}
        # Lagging beyond slave_threshold: reads leave the replica...
        set_delay(dpair, 8)
        w.start()
        assert "hostS1" not in wait_hosts(m, lambda h: h and "hostS1" not in h)
        # ...and come back once it has caught up.
        set_delay(dpair, 0)
        assert set(wait_hosts(m, lambda h: h and set(h) == {"hostS1"})) == {"hostS1"}
        # Replication stopped: no reads there until it runs again.
        c = dpair.connect(port=dpair.port2)
        with c.cursor() as cur:
            cur.execute("STOP SLAVE SQL_THREAD")
        assert "hostS1" not in wait_hosts(m, lambda h: h and "hostS1" not in h)
        with c.cursor() as cur:
            cur.execute("START SLAVE SQL_THREAD")
        c.close()
        assert set(wait_hosts(m, lambda h: h and set(h) == {"hostS1"})) == {"hostS1"}
        assert "replication is not running" in m.log()
    finally:
        stop_writes.set()
        w.join(10) if w.is_alive() else None
        set_delay(dpair, 1)
        stop(m)
