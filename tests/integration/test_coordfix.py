"""Self-test of coordfix.py, the coordination tests' fixtures (issue 13):
a real etcd of one and of three members (start, stop, freeze, resume,
get/put through the JSON gateway), the TCP forwarder with a real MySQL
client (refuse, black hole, resume) and N manx instances with
coordination = none over the session pair, one of them reaching hostM1
through a forwarder.  Runs against today's manx: nothing here needs the
coordination code."""

import os
import time

import pymysql
import pytest

from conftest import poll
from coordfix import (SERVER_IDS, Etcd, Forwarder, Keys, WriteLoad, active_writer, check_nothing_lost, cluster_fixture,
                      console_rows, coord_pair_fixture, datahost, kill_server, make_table, port_range, restore_pair,
                      metric, server_pid, sql_on, wait_closed, wait_writer)

pytestmark = pytest.mark.manx_only

PORTS = port_range(100, 100)


@pytest.fixture
def manx_cluster(pair, tmp_path):
    yield from cluster_fixture(pair, tmp_path, PORTS)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_etcd_one_member():
    e = Etcd(1, ports=PORTS.take_block(2))
    try:
        assert e.endpoints == f"127.0.0.1:{e.client_ports[0]}"
        assert e.get("/t/k") is None
        r1 = e.put("/t/k", "v1")
        v, mod, ver = e.get("/t/k")
        assert (v, mod, ver) == (b"v1", r1, 1)
        r2 = e.put("/t/k", b'{"index":1}')
        assert e.get("/t/k") == (b'{"index":1}', r2, 2) and r2 > r1
        assert e.get_json("/t/k")[0] == {"index": 1}
        assert e.keys("/t/") == {"/t/k": b'{"index":1}'}

        # The keys of coord-spec.md, read back as the tests read them (the
        # decider's value raw or as a JSON string).
        k = Keys(e, "shop")
        assert k.writer() is None and k.decider() is None and k.view("manx-a") is None
        e.put("/manx/shop/datahost/localhost1/writer", '{"index":0,"host":"hostM1","epoch":1,"by":"manx-a"}')
        rev = e.put("/manx/shop/datahost/localhost1/writer", '{"index":1,"host":"hostM2","epoch":2,"by":"manx-a"}')
        assert k.writer() == ({"index": 1, "host": "hostM2", "epoch": 2, "by": "manx-a"}, rev, 2)
        e.put("/manx/shop/datahost/localhost1/decider", "manx-b")
        assert k.decider() == "manx-b"
        e.put("/manx/shop/datahost/localhost1/decider", '"manx-c"')
        assert k.decider() == "manx-c"
        e.put("/manx/shop/datahost/localhost1/view/manx-a", '{"hosts":{"hostM1":"DOWN","hostM2":"UP"}}')
        assert k.view("manx-a")["hosts"]["hostM1"] == "DOWN"
        e.put("/manx/shop/instance/manx-a", '{"id":"manx-a","pid":1}')
        assert k.instance("manx-a")["id"] == "manx-a"

        # Frozen: the port still accepts, nothing answers.
        e.freeze(0)
        t0 = time.monotonic()
        with pytest.raises(AssertionError):
            _raw_range(e, timeout=1)
        assert 0.9 <= time.monotonic() - t0 < 3
        e.resume(0)
        assert e.get("/t/k")[2] == 2

        # Stopped: refused; started again on its data dir: the key is there.
        e.stop(0)
        assert not e.running(0) and wait_closed(e.client_ports[0], 1)
        e.start(0)
        assert e.get("/t/k")[2] == 2
        pids = [e.procs[0].pid]
    finally:
        d = e.dir
        e.close()
    assert not d.exists()
    assert not any(alive(p) for p in pids)
    assert wait_closed(e.client_ports[0], 5)


def _raw_range(e, timeout):
    """A range on member 0 even while it is frozen (get() skips frozen
    members): must time out, raising AssertionError."""
    frozen, e.frozen[0] = e.frozen[0], False
    try:
        return e._post("/v3/kv/range", {"key": "L3Qvaw=="}, timeout=timeout, members=[0])
    finally:
        e.frozen[0] = frozen


def test_etcd_three_members_form_and_lose_quorum():
    e = Etcd(3, ports=PORTS.take_block(6))
    try:
        # The constructor already waited for a formed cluster; check again.
        ms = e.members()
        assert sorted(ms) == ["m0", "m1", "m2"]
        assert sorted(u for urls in ms.values() for u in urls) == \
            sorted(f"http://127.0.0.1:{p}" for p in e.client_ports)
        sts = [e.status(i) for i in range(3)]
        assert len({s[0] for s in sts}) == 3 and len({s[1] for s in sts}) == 1, sts
        assert e.endpoints.count(",") == 2

        e.put("/t/x", "1")
        e.stop(0)
        assert e.get("/t/x")[0] == b"1"           # two of three: a quorum
        e.put("/t/x", "2")
        e.stop(1)
        assert poll(lambda: not e.healthy(2), 10)   # one of three: none
        with pytest.raises(AssertionError):
            e.get("/t/x")
        e.start(0)
        assert poll(lambda: e.healthy(2), 10)
        assert e.get("/t/x")[0] == b"2"
    finally:
        e.close()


def test_forwarder_with_a_mysql_client(pair):
    f = Forwarder("127.0.0.1", pair.port1, port=PORTS.take())

    def connect(timeout=2):
        return pymysql.connect(host="127.0.0.1", port=f.port, user="root", password="123456",
                               connect_timeout=timeout, read_timeout=timeout, autocommit=True)

    def server_id(c):
        with c.cursor() as cur:
            cur.execute("SELECT @@server_id")
            return cur.fetchone()[0]

    try:
        c = connect()
        assert server_id(c) == 88
        assert f.accepted == 1 and f.passed > 0

        # Black hole: the open connection's query and a new login hang.
        f.freeze()
        t0 = time.monotonic()
        with pytest.raises(pymysql.err.OperationalError):
            server_id(c)
        assert 0.9 < time.monotonic() - t0 < 3
        t0 = time.monotonic()
        with pytest.raises(pymysql.err.OperationalError):
            connect(timeout=1)
        assert 0.9 < time.monotonic() - t0 < 3

        f.resume()
        c2 = connect()
        assert server_id(c2) == 88

        # Stopped: the open connection breaks at once, a new one is refused.
        f.stop()
        t0 = time.monotonic()
        with pytest.raises(pymysql.err.OperationalError):
            server_id(c2)
        with pytest.raises(pymysql.err.OperationalError) as ei:
            connect()
        assert time.monotonic() - t0 < 1
        assert ei.value.args[0] == 2003, ei.value

        f.resume()
        c3 = connect()
        assert server_id(c3) == 88
        c3.close()
    finally:
        f.close()
    with pytest.raises(pymysql.err.OperationalError):
        connect()


def test_n_manx_route_and_one_goes_blind(pair, manx_cluster, request):
    """Three manx with coordination = none over the session pair, the third
    reaching server 1 (hostM1 and hostS2) through a forwarder: all write
    to hostM1, every acknowledged insert is on both servers; with the
    forwarder stopped the third switches alone to hostM2 -- the very split
    issue 13 is about -- while the others stay."""
    f = Forwarder("127.0.0.1", pair.port1, port=PORTS.take())
    table = make_table(pair, "coordfix_load")
    try:
        a = manx_cluster.add("a")
        b = manx_cluster.add("b", metrics=True)
        c = manx_cluster.add("c", hosts={"hostM1": f.address, "hostS2": f.address})
        ms = [a, b, c]
        assert f"address = {f.address}" in c.config.read_text()
        wait_writer(ms, "hostM1", 10)
        cols, _ = console_rows(a, "show @@datahost")
        assert "ACTIVE_WRITEHOST" in cols

        load = WriteLoad(ms, table, threads_per=2, seconds=20, max_rows=60).start()
        load.wait_acks(30, 15)
        load.stop()
        acked = load.snapshot()
        assert {n for _, _, _, n in acked} == {"a", "b", "c"}
        assert {s for _, s, _, _ in acked} == {88}, acked[:5]
        assert not load.missing_on(pair, 1)
        assert f.passed > 0
        assert metric(b, "manx_offline") == 0
        assert metric(b, "manx_datahost_active_writer_index", datahost="localhost1", writer="hostM1") == 0

        f.stop()
        wait_writer([c], "hostM2", 15)
        assert metric(b, "manx_datahost_active_writer_index", datahost="localhost1", writer="hostM1") == 0
        assert "writes switched from hostM1" in c.log()
        assert active_writer(a) == "hostM1" and active_writer(b) == "hostM1"
        assert datahost(a)["ACTIVE_INDEX"] == "0"
    finally:
        f.close()
        sql_on(pair, 1, f"DROP TABLE IF EXISTS `{table}`")


@pytest.fixture(scope="module")
def cpair():
    yield from coord_pair_fixture()


def test_kill9_with_coordination_none_loses_no_acknowledged_insert(cpair, tmp_path):
    """The kill/restore/check machinery of the coordination tests on
    today's manx: two instances deciding alone both move to hostM2 after
    kill -9 of hostM1 under the write load, and once hostM1 is back and
    replication caught up every acknowledged insert is on hostM2."""
    restore_pair(cpair)
    table = make_table(cpair, "coordfix_kill")
    cl_gen = cluster_fixture(cpair, tmp_path, PORTS)
    cl = next(cl_gen)
    try:
        ms = [cl.add("a"), cl.add("b")]
        wait_writer(ms, "hostM1", 10)
        load = WriteLoad(ms, table, threads_per=2, seconds=30, max_rows=3000).start()
        for m in ms:
            load.wait_acks(5, 10, sid=SERVER_IDS[1], inst=m.name)
        old_pid = server_pid(cpair, 1)
        kill_server(cpair, 1)
        wait_writer(ms, "hostM2", 12)
        t = time.monotonic()
        for m in ms:
            load.wait_acks(3, 10, after=t, sid=SERVER_IDS[2], inst=m.name)
        check_nothing_lost(cpair, load, ms, None)
        assert server_pid(cpair, 1) not in (None, old_pid)
        acked = load.snapshot()
        assert {s for _, s, _, _ in acked} <= {88, 89, None}
        print(f"coordination none: {len(acked)} inserts acknowledged, {len(load.errors)} errors")
    finally:
        next(cl_gen, None)
        restore_pair(cpair)

