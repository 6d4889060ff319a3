"""Fencing the old writer (issue 13, `fence = read_only` on the dataHost;
names from /work/notes/coord-spec.md): after a switch, the old writer,
restarted, gets read_only = ON from the deciding instance, so an
application or a stray proxy that still talks to it cannot write there;
the new writer has read_only = OFF.  With coordination = none (the
instance decides alone) and with etcd (only the decider fences).

A user with READ_ONLY ADMIN (root, ALL PRIVILEGES) may still write on a
read_only server, so the direct writes use an account of this module's
own that has only INSERT and SELECT."""

import re
import time

import pymysql
import pytest

from conftest import poll, wait_for
from coordfix import (SERVER_IDS, Cluster, Etcd, Keys, WriteLoad, coord_pair_fixture, coordination, etcd_extra,
                      kill_server, make_table, port_range, restore_pair, settle_etcd, short_name, sql_on,
                      wait_coord, wait_writer)

pytestmark = pytest.mark.manx_only

PORTS = port_range(500, 100)
FENCED_USER, FENCED_PW = "fenced", "fenced123"


@pytest.fixture(scope="module")
def cpair():
    yield from coord_pair_fixture()


@pytest.fixture(scope="module")
def etcd():
    e = Etcd(1, ports=PORTS.take_block(2))
    try:
        yield e
    finally:
        e.close()


def make_fenced_user(pair):
    """INSERT and SELECT on the test database only, on each server by hand
    (not replicated): no READ_ONLY ADMIN, so read_only stops it."""
    for n in (1, 2):
        for host in ("127.0.0.1", "localhost"):
            c = pymysql.connect(host=pair.host, port=pair.port1 if n == 1 else pair.port2,
                                user=pair.root_user, password=pair.root_password, autocommit=True,
                                connect_timeout=5, read_timeout=20)
            try:
                with c.cursor() as cur:
                    cur.execute("SET sql_log_bin = 0")
                    cur.execute(f"CREATE OR REPLACE USER '{FENCED_USER}'@'{host}' IDENTIFIED BY '{FENCED_PW}'")
                    cur.execute(f"GRANT INSERT, SELECT ON aiurt_platform.* TO '{FENCED_USER}'@'{host}'")
            finally:
                c.close()


def direct_insert(pair, n, table, rid):
    """INSERT as the fenced account on server n directly: None or the
    MySQL error number."""
    c = pymysql.connect(host=pair.host, port=pair.port1 if n == 1 else pair.port2, user=FENCED_USER,
                        password=FENCED_PW, database="aiurt_platform", autocommit=True,
                        connect_timeout=5, read_timeout=10)
    try:
        with c.cursor() as cur:
            cur.execute(f"INSERT INTO `{table}` (id, sid, inst) VALUES (%s, @@server_id, 'direct')", (rid,))
        return None
    except pymysql.err.MySQLError as e:
        return e.args[0]
    finally:
        c.close()


def read_only(pair, n):
    return sql_on(pair, n, "SELECT @@global.read_only", db=None)[0][0]


@pytest.mark.parametrize("mode", ["none", "etcd"])
def test_fence_read_only_old_writer(cpair, etcd, tmp_path, request, mode):
    from conftest import _stop_manxes
    restore_pair(cpair)
    make_fenced_user(cpair)
    name = short_name(request)
    table = make_table(cpair, "fence_" + name)
    assert direct_insert(cpair, 1, table, 1) is None     # the account can write
    cl = Cluster(cpair, tmp_path, PORTS)
    keys = Keys(etcd, "f_" + name)
    try:
        dh = {"fence": "read_only"}
        if mode == "none":
            ms = [cl.add("manx-a", datahost_extra=dh)]
            wait_coord(ms, lambda r: r["MODE"] == "none" and r["STATE"] == "ALONE" and r["I_DECIDE"] == "1"
                       and r["FENCE"] == "read_only" and r["WRITER_VIEW"] == "UP", 15, "manx-a ALONE, fencing")
            decider = ms[0]
        else:
            ms = [cl.add(n, etcd_extra(etcd.endpoints, "f_" + name, n), datahost_extra=dh)
                  for n in ("manx-a", "manx-b")]
            d = settle_etcd(ms, keys)
            wait_coord(ms, lambda r: r["FENCE"] == "read_only", 5, "FENCE read_only on every instance")
            decider = next(m for m in ms if m.name == d)
        # Fenced from the start: the standby writeHost is read_only, the
        # active one is not.
        wait_for(lambda: read_only(cpair, 2) == 1, 10, "read_only = ON on the standby hostM2")
        assert read_only(cpair, 1) == 0
        assert direct_insert(cpair, 2, table, 2) == 1290

        load = WriteLoad(ms, table, threads_per=1, seconds=30, max_rows=3000).start()
        load.wait_acks(5, 10, sid=SERVER_IDS[1])
        kill_server(cpair, 1)
        wait_writer(ms, "hostM2", 12)
        wait_for(lambda: read_only(cpair, 2) == 0, 5, "read_only = OFF on the new writer hostM2")
        load.wait_acks(3, 10, after=time.monotonic(), sid=SERVER_IDS[2])
        assert direct_insert(cpair, 2, table, 3) is None
        load.stop()

        # The old writer comes back: the decider fences it as soon as its
        # heartbeat reaches it.
        restore_pair(cpair, reset_read_only=False)
        t_back = time.monotonic()
        wait_for(lambda: read_only(cpair, 1) == 1, 10, "read_only = ON on the restarted old writer hostM1")
        print(f"fence ({mode}): hostM1 read_only {time.monotonic() - t_back:.2f} s after its restart")
        assert direct_insert(cpair, 1, table, 4) == 1290
        assert direct_insert(cpair, 2, table, 5) is None
        assert read_only(cpair, 2) == 0
        rows = {m.name: coordination(m) for m in ms}
        assert rows[decider.name]["FENCE_STATE"] != "", rows
        for n, r in rows.items():
            assert r["FENCE"] == "read_only", rows
            if n != decider.name:
                assert r["FENCE_STATE"] == "", f"only the decider fences: {rows}"
        assert poll(lambda: "fence:" in decider.log() and "read_only" in decider.log(), 2), "fencing not logged"
        for m in ms:
            if m is not decider:
                assert not re.search(r"dataHost \S+: fence: ", m.log()), f"{m.name} fenced without deciding"
        assert not load.missing_on(cpair, 2)
        if mode == "etcd":
            assert keys.writer()[2] == 2
    finally:
        _stop_manxes(cl.all)
        restore_pair(cpair)


def test_fence_is_off_by_default(cpair, tmp_path, request):
    """Without `fence`, a switch leaves read_only alone (the old writer,
    restarted, stays writable): fencing is opt-in."""
    from conftest import _stop_manxes
    restore_pair(cpair)
    make_fenced_user(cpair)
    table = make_table(cpair, "fence_" + short_name(request))
    cl = Cluster(cpair, tmp_path, PORTS)
    try:
        m = cl.add("manx-a")
        wait_coord([m], lambda r: r["FENCE"] == "none" and r["FENCE_STATE"] == "", 15, "FENCE none")
        kill_server(cpair, 1)
        wait_writer([m], "hostM2", 12)
        restore_pair(cpair, reset_read_only=False)
        wait_for(lambda: "is UP again" in m.log(), 10, "hostM1 UP again in manx's log")
        assert read_only(cpair, 1) == 0 and read_only(cpair, 2) == 0
        assert direct_insert(cpair, 1, table, 1) is None
        assert coordination(m)["FENCE_STATE"] == ""
    finally:
        _stop_manxes(cl.all)
        restore_pair(cpair)
