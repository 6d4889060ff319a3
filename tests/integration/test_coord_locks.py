"""Several manx, one decision without a new service (issue 13,
`coordination = backend_locks`; names from /work/notes/coord-spec.md):
the instance holding GET_LOCK('manx:<dataHost>') on a majority of the
writeHosts it can reach decides; it records each switch in
manx_coord.writers on every host it reaches, and the others follow the
highest epoch they read there.

Two manx, kill -9 of the writer under a write load through both: one
decider only, both follow to the same new writer, the switch is recorded
once, no acknowledged insert lost.  The decider manx killed: the other
takes the locks and handles the next failure."""

import time

import pytest

from conftest import sync_pair, wait_for
from coordfix import (SERVER_IDS, Cluster, WriteLoad, coord_pair_fixture, coordination, kill_server, make_table,
                      port_range, quiet, restore_pair, rows_on, short_name, sql_on, wait_coord, wait_writer)

pytestmark = pytest.mark.manx_only

PORTS = port_range(600, 100)
LOCKS = {"coordination": "backend_locks"}


@pytest.fixture(scope="module")
def cpair():
    yield from coord_pair_fixture()


@pytest.fixture
def fresh(cpair, tmp_path, request):
    """Both servers up and in sync, no manx_coord left by an earlier test,
    a load table and a Cluster (stopped at teardown)."""
    from conftest import _stop_manxes
    restore_pair(cpair)
    for n in (1, 2):
        sql_on(cpair, n, ["SET sql_log_bin = 0", "DROP DATABASE IF EXISTS manx_coord"], db=None)
    table = make_table(cpair, "locks_" + short_name(request))
    cl = Cluster(cpair, tmp_path, PORTS)
    try:
        yield cl, table
    finally:
        _stop_manxes(cl.all)


def add(cl, name):
    return cl.add(name, dict(LOCKS, instance_name=name))


def one_decider(ms, timeout=15):
    """Waits until exactly one instance decides (it names itself; a lock
    does not say which instance holds it, so the others show "" or its
    name); returns it."""
    def agreed():
        rows = {m.name: quiet(coordination, m) for m in ms}
        if None in rows.values():
            return None
        ds = [n for n, r in rows.items() if r["I_DECIDE"] == "1"]
        if len(ds) == 1 and all(r["DECIDER"] in (ds[0], "") for r in rows.values()) \
                and rows[ds[0]]["DECIDER"] == ds[0]:
            return ds[0]
        return None
    d = wait_for(agreed, timeout, "exactly one backend_locks decider")
    return next(m for m in ms if m.name == d)


def writer_row(pair, n):
    """The newest manx_coord.writers row for localhost1 on server n: (idx, epoch, by) or None."""
    rows = sql_on(pair, n, "SELECT idx, epoch, by_instance FROM manx_coord.writers WHERE datahost = 'localhost1' "
                  "ORDER BY epoch DESC LIMIT 1",
                  db=None)
    return rows[0] if rows else None


def replication_errors(pair, n):
    """(Last_IO_Errno, Last_SQL_Errno, Slave_SQL_Running) of server n."""
    import pymysql
    c = pymysql.connect(host=pair.host, port=pair.port1 if n == 1 else pair.port2, user=pair.root_user,
                        password=pair.root_password, connect_timeout=5, cursorclass=pymysql.cursors.DictCursor)
    try:
        with c.cursor() as cur:
            cur.execute("SHOW SLAVE STATUS")
            r = cur.fetchone()
            return (r["Last_IO_Errno"], r["Last_SQL_Errno"], r["Slave_SQL_Running"])
    finally:
        c.close()


def kill_and_check(cpair, ms, table, decider):
    # The record is written on both masters, which replicate it to each
    # other: that must never stop replication (it did, with one row per
    # dataHost and row-based binlogs).
    wait_for(lambda: quiet(writer_row, cpair, 1) and quiet(writer_row, cpair, 2), 10, "epoch 1 on both servers")
    sync_pair(cpair)
    assert [replication_errors(cpair, n)[1:] for n in (1, 2)] == [(0, "Yes"), (0, "Yes")]
    load = WriteLoad(ms, table, threads_per=2, seconds=40, max_rows=4000).start()
    for m in ms:
        load.wait_acks(5, 10, sid=SERVER_IDS[1], inst=m.name)
    t_kill = time.monotonic()
    kill_server(cpair, 1)
    wait_writer(ms, "hostM2", 12)
    print(f"backend_locks: {len(ms)} instances on hostM2 {time.monotonic() - t_kill:.2f} s after kill -9")
    wait_coord(ms, lambda r: r["WRITER"] == "hostM2" and r["WRITER_INDEX"] == "1" and r["SWITCHES_APPLIED"] == "1",
               5, "every instance on hostM2 with one switch applied")
    assert one_decider(ms, 5) is decider, "the decider changed during the switch"
    row = writer_row(cpair, 2)
    assert row is not None and row[0] == 1 and row[2] == decider.name, row
    rev = coordination(decider)["WRITER_REV"]
    assert rev == str(row[1]), (rev, row)
    for m in ms:
        assert coordination(m)["WRITER_REV"] == rev
        load.wait_acks(3, 10, after=time.monotonic(), sid=SERVER_IDS[2], inst=m.name)
    load.stop()
    on_new = rows_on(cpair, 2, table)
    assert all(rid in on_new for rid, sid, _, _ in load.snapshot() if sid == SERVER_IDS[2])
    restore_pair(cpair, reset_read_only=False)
    assert not load.missing_on(cpair, 2)
    # hostM1 back (its heartbeat UP again in every instance): no switch back,
    # and it learned the recorded switch too (the decider writes the row on
    # every host it reaches).
    wait_for(lambda: all(m.log().count("is UP again") >= 1 for m in ms), 10, "hostM1 UP again everywhere")
    wait_for(lambda: quiet(writer_row, cpair, 1) == row, 10, "the switch recorded on hostM1 too")
    wait_writer(ms, "hostM2", 1)
    assert writer_row(cpair, 2) == row
    return row


def test_locks_kill9_writer_two_manx(fresh, cpair):
    cl, table = fresh
    ms = [add(cl, n) for n in ("manx-a", "manx-b")]
    wait_coord(ms, lambda r: r["MODE"] == "backend_locks" and r["WRITER"] == "hostM1" and r["WRITER_VIEW"] == "UP",
               15, "both instances on hostM1 in backend_locks mode")
    decider = one_decider(ms)
    kill_and_check(cpair, ms, table, decider)


def test_locks_decider_manx_killed(fresh, cpair):
    cl, table = fresh
    ms = [add(cl, n) for n in ("manx-a", "manx-b")]
    wait_coord(ms, lambda r: r["MODE"] == "backend_locks" and r["WRITER_VIEW"] == "UP", 15, "backend_locks mode")
    d = one_decider(ms)
    other = next(m for m in ms if m is not d)
    t0 = time.monotonic()
    cl.kill(d)
    # The server drops a dead client's locks with its connection.
    new = one_decider([other], 10)
    print(f"backend_locks: {other.name} decider {time.monotonic() - t0:.2f} s after {d.name} was killed")
    kill_and_check(cpair, [other], table, new)
