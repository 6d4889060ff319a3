"""Several manx, one decision (issue 13, coordination = etcd; names from
/work/notes/coord-spec.md): manx instances in front of one MariaDB pair
of this module's own agree on the active writeHost through a real etcd
(Debian's etcd-server, on loopback ports of the test's own).

- kill -9 the writer under a write load through three instances: all
  three write to the same new writer, the writer key records exactly one
  switch (version 2), no acknowledged insert is lost;
- kill -9 the decider manx: another instance takes the decider key within
  the lease TTL and handles the next failure;
- one manx blind to the writer (its hostM1 behind a forwarder the test
  stops), as decider and not: no switch, it reports its trouble;
- etcd stopped, and etcd frozen: every instance LOST, writes stay on the
  agreed writer, no switch while etcd is away even with the writer dead;
  etcd back: SYNCED again, then exactly one switch;
- one manx partitioned from etcd (its endpoint behind a frozen
  forwarder): it goes LOST and keeps the last agreed writer, the other
  becomes decider and switches; partition healed: it follows;
- a three-member etcd: one member stopped changes nothing (a switch still
  happens exactly once), two stopped: LOST.

One etcd and one pair per module; each test has its own cluster_name (so
its own keys), its own table, and starts from both servers running and
in sync with read_only OFF."""

import os
import signal
import time

import pytest

from conftest import wait_for
from coordfix import (ETCD_TIMEOUT_S, LEASE_TTL_S, SERVER_HOSTS, SERVER_IDS, Cluster, Etcd, Forwarder, Keys,
                      WriteLoad, check_nothing_lost, check_one_switch, coord_pair_fixture, coordination,
                      etcd_extra, hold, kill_server, make_table, metric, port_range, quiet, restore_pair,
                      settle_etcd, short_name, wait_coord, wait_writer)

pytestmark = pytest.mark.manx_only

PORTS = port_range(200, 300)


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


class Env:
    """One test's world: the pair, etcd, this test's cluster name and keys,
    its table, a Cluster of manx and the forwarders it made."""

    def __init__(self, pair, etcd, tmp_path, name):
        self.pair, self.etcd = pair, etcd
        self.cluster_name = "c_" + name
        self.keys = Keys(etcd, self.cluster_name)
        self.table = make_table(pair, "coord_" + name)
        self.cluster = Cluster(pair, tmp_path, PORTS)
        self.forwarders = []

    def add(self, name, endpoints=None, hosts=None, metrics=False, **more):
        return self.cluster.add(name, etcd_extra(endpoints or self.etcd.endpoints, self.cluster_name, name,
                                                 **more), hosts=hosts, metrics=metrics)

    def forwarder(self, port):
        f = Forwarder("127.0.0.1", port, port=PORTS.take())
        self.forwarders.append(f)
        return f

    def load(self, ms, **kw):
        return WriteLoad(ms, self.table, **kw).start()


@pytest.fixture
def env(cpair, etcd, tmp_path, request):
    from conftest import _stop_manxes
    if etcd.frozen[0]:
        etcd.resume(0)
    if not etcd.running(0):
        etcd.start(0)
    restore_pair(cpair)
    e = Env(cpair, etcd, tmp_path, short_name(request))
    try:
        yield e
    finally:
        for f in e.forwarders:
            f.close()
        if etcd.frozen[0]:
            etcd.resume(0)
        _stop_manxes(e.cluster.all)


def blind_hosts(f):
    """Host addresses that reach server 1 (hostM1 and hostS2) through f."""
    return {h: f.address for h in SERVER_HOSTS[1]}


def test_kill9_writer_three_manx_under_load(env):
    ms = [env.add(n) for n in ("manx-a", "manx-b", "manx-c")]
    settle_etcd(ms, env.keys)
    load = env.load(ms)
    load.wait_acks(10 * len(ms), 10, sid=SERVER_IDS[1])
    t_kill = time.monotonic()
    kill_server(env.pair, 1)
    check_one_switch(env.pair, ms, env.keys, load, t_kill)
    rows = {m.name: coordination(m) for m in ms}
    deciders = [n for n, r in rows.items() if r["I_DECIDE"] == "1"]
    assert len(deciders) == 1, rows
    assert env.keys.writer()[0]["by"] == deciders[0]
    assert int(rows[deciders[0]]["PROPOSALS_WON"]) >= 1, rows
    check_nothing_lost(env.pair, load, ms, env.keys)


def test_kill_the_decider_manx(env):
    ms = [env.add(n) for n in ("manx-a", "manx-b", "manx-c")]
    d = settle_etcd(ms, env.keys)
    dead = next(m for m in ms if m.name == d)
    live = [m for m in ms if m is not dead]
    t0 = time.monotonic()
    env.cluster.kill(dead)
    new = wait_for(lambda: (lambda k: k if k in {m.name for m in live} else None)(quiet(env.keys.decider)),
                   LEASE_TTL_S + 3, f"a live instance holding the decider key after {d} died")
    took = time.monotonic() - t0
    print(f"decider {d} killed: {new} decider after {took:.2f} s (lease TTL {LEASE_TTL_S} s)")
    assert took <= LEASE_TTL_S + 1.5, took
    wait_coord(live, lambda r: r["DECIDER"] == new and r["I_DECIDE"] == ("1" if r["INSTANCE"] == new else "0"),
               3, f"both survivors naming {new} decider")
    # The new decider handles the next failure.
    load = env.load(live)
    load.wait_acks(10, 10, sid=SERVER_IDS[1])
    t_kill = time.monotonic()
    kill_server(env.pair, 1)
    w = check_one_switch(env.pair, live, env.keys, load, t_kill)
    assert w[0]["by"] == new, w
    assert int(coordination(next(m for m in live if m.name == new))["PROPOSALS_WON"]) >= 1
    check_nothing_lost(env.pair, load, live, env.keys)


def test_frozen_decider_manx_comes_back_as_follower(env):
    """A decider paused longer than its lease (a stalled process, a VM
    pause): another instance is elected and switches; the paused one wakes
    up with a stale role and a stale view, must not switch (its
    compare-and-swap names the old term) and follows the agreed writer."""
    ms = [env.add(n) for n in ("manx-a", "manx-b")]
    d = settle_etcd(ms, env.keys)
    frozen = next(m for m in ms if m.name == d)
    other = next(m for m in ms if m is not frozen)
    os.kill(frozen.proc.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: quiet(env.keys.decider) == other.name, LEASE_TTL_S + 3,
                 f"{other.name} holding the decider key while {d} is paused")
        load = env.load([other])
        load.wait_acks(10, 10, sid=SERVER_IDS[1])
        t_kill = time.monotonic()
        kill_server(env.pair, 1)
        w = check_one_switch(env.pair, [other], env.keys, load, t_kill)
        assert w[0]["by"] == other.name, w
    finally:
        os.kill(frozen.proc.pid, signal.SIGCONT)
    wait_coord([frozen], lambda r: r["STATE"] == "SYNCED" and r["WRITER"] == "hostM2" and r["I_DECIDE"] == "0",
               LEASE_TTL_S + 5, f"{d} back in step as a follower")
    wait_writer([frozen], "hostM2", 5)
    assert env.keys.writer()[2] == 2, "the paused decider recorded a switch of its own"
    assert coordination(frozen)["PROPOSALS_WON"] == "0"
    check_nothing_lost(env.pair, load, [other], env.keys)


@pytest.mark.parametrize("blind_decides", [False, True], ids=["blind-follower", "blind-decider"])
def test_one_manx_blind_to_the_writer(env, blind_decides):
    f = env.forwarder(env.pair.port1)
    names = ["manx-a", "manx-b", "manx-c"]
    first = "manx-c" if blind_decides else "manx-a"
    mk = {n: (lambda n=n: env.add(n, hosts=blind_hosts(f) if n == "manx-c" else None)) for n in names}
    # The first one started becomes decider; the others join after.
    ms = {first: mk[first]()}
    wait_for(lambda: quiet(env.keys.decider) == first, 15, f"{first} decider")
    for n in names:
        if n not in ms:
            ms[n] = mk[n]()
    ms = [ms[n] for n in names]
    blind = ms[2]
    assert settle_etcd(ms, env.keys) == first
    load = env.load(ms)
    load.wait_acks(10, 10, sid=SERVER_IDS[1], inst="manx-c")

    f.stop()
    t_cut = time.monotonic()
    wait_for(lambda: (quiet(env.keys.view, "manx-c") or {}).get("hosts", {}).get("hostM1") == "DOWN", 10,
             "manx-c's view key saying hostM1 DOWN")
    row = wait_coord([blind], lambda r: r["WRITER_VIEW"] == "DOWN" and r["NOTE"] != "", 5,
                     "manx-c reporting the writer DOWN and why it does not switch")[blind.name]
    print(f"blind manx-c ({'decider' if blind_decides else 'follower'}): {row['NOTE']!r}")
    t_seen = time.monotonic()

    def unchanged():
        w = quiet(env.keys.writer)
        if w is None or w[2] != 1:
            return f"writer key changed: {w}"
        for m in ms:
            r = quiet(coordination, m)
            if r is not None and (r["WRITER"] != "hostM1" or r["SWITCHES_APPLIED"] != "0"):
                return f"{m.name} moved: {r}"
        if load.count(sid=SERVER_IDS[2]):
            return "an insert landed on hostM2"
        return None

    # Long enough for the decider to have read the view (within a second
    # of the change) and for several heartbeats of everybody.
    hold(3, unchanged, "one blind instance must not cause a switch")
    for m in ms[:2]:
        load.wait_acks(5, 10, after=t_seen, sid=SERVER_IDS[1], inst=m.name,
                       what=f"inserts through {m.name} still on hostM1")
    assert wait_coord([blind], lambda r: True, 1, "")[blind.name]["STATE"] == "SYNCED"

    f.resume()
    wait_coord([blind], lambda r: r["WRITER_VIEW"] == "UP", 10, "manx-c seeing hostM1 again")
    load.wait_acks(3, 10, after=time.monotonic(), sid=SERVER_IDS[1], inst="manx-c",
                   what="inserts through manx-c on hostM1 again")
    unchanged_msg = unchanged()
    assert unchanged_msg is None, unchanged_msg
    print(f"blind for {time.monotonic() - t_cut:.1f} s: {load.count(inst='manx-c', after=t_cut)} inserts "
          f"through manx-c acknowledged meanwhile (after the cut: those before its heartbeat noticed)")
    load.stop()
    assert not load.missing_on(env.pair, 1)


@pytest.mark.parametrize("how", ["stop", "freeze"])
def test_etcd_away(env, how):
    ms = [env.add(n, metrics=True) for n in ("manx-a", "manx-b")]
    settle_etcd(ms, env.keys)
    for m in ms:
        assert metric(m, "manx_coordination_connected") == 1
        assert metric(m, "manx_coordination_lost") == 0
    load = env.load(ms)
    load.wait_acks(10, 10, sid=SERVER_IDS[1])

    t_away = time.monotonic()
    (env.etcd.stop if how == "stop" else env.etcd.freeze)(0)
    wait_coord(ms, lambda r: r["STATE"] == "LOST", ETCD_TIMEOUT_S + 3, "every instance LOST")
    print(f"etcd {how}: LOST after {time.monotonic() - t_away:.2f} s (etcd_timeout {ETCD_TIMEOUT_S} s)")
    for m in ms:
        assert metric(m, "manx_coordination_lost") == 1
        assert metric(m, "manx_coordination_connected") == 0
    # Routing goes on to the agreed writer.
    t_lost = time.monotonic()
    for m in ms:
        load.wait_acks(5, 10, after=t_lost, sid=SERVER_IDS[1], inst=m.name,
                       what=f"inserts through {m.name} on hostM1 while etcd is away")
    wait_coord(ms, lambda r: float(r["LOST_S"] or 0) >= 1, 5, "LOST_S counting")

    # The writer dies while etcd is away: every instance sees it, none switches.
    kill_server(env.pair, 1)
    wait_coord(ms, lambda r: r["WRITER_VIEW"] == "DOWN" and r["NOTE"] != "", 10,
               "every instance seeing hostM1 DOWN and saying why it does not switch")

    def no_switch():
        for m in ms:
            r = quiet(coordination, m)
            if r is not None and (r["WRITER"] != "hostM1" or r["SWITCHES_APPLIED"] != "0"
                                  or r["STATE"] != "LOST"):
                return f"{m.name}: {r}"
        if load.count(sid=SERVER_IDS[2]):
            return "an insert landed on hostM2"
        return None

    hold(3, no_switch, "no switch while etcd is away")
    wait_writer(ms, "hostM1", 1)

    # etcd back: SYNCED again, then exactly one switch.
    t_back = time.monotonic()
    (env.etcd.start if how == "stop" else env.etcd.resume)(0)
    wait_coord(ms, lambda r: r["STATE"] == "SYNCED", 10, "every instance SYNCED again")
    print(f"etcd back: SYNCED after {time.monotonic() - t_back:.2f} s")
    check_one_switch(env.pair, ms, env.keys, load, t_back)
    for m in ms:
        assert metric(m, "manx_coordination_lost") == 0
        assert metric(m, "manx_coordination_connected") == 1
    check_nothing_lost(env.pair, load, ms, env.keys)


def test_one_manx_partitioned_from_etcd(env):
    fe = env.forwarder(env.etcd.client_ports[0])
    # manx-b reaches etcd through fe only, and is the decider.
    b = env.add("manx-b", endpoints=fe.address)
    wait_for(lambda: quiet(env.keys.decider) == "manx-b", 15, "manx-b decider")
    a = env.add("manx-a")
    ms = [a, b]
    assert settle_etcd(ms, env.keys) == "manx-b"
    load = env.load(ms)
    load.wait_acks(10, 10, sid=SERVER_IDS[1])

    t_cut = time.monotonic()
    fe.freeze()
    wait_coord([b], lambda r: r["STATE"] == "LOST", ETCD_TIMEOUT_S + 3, "manx-b LOST")
    wait_for(lambda: quiet(env.keys.decider) == "manx-a", LEASE_TTL_S + 3,
             "manx-a decider once manx-b's lease expired")
    print(f"partitioned decider: manx-a took over after {time.monotonic() - t_cut:.2f} s")
    wait_coord([a], lambda r: r["STATE"] == "SYNCED" and r["I_DECIDE"] == "1", 3, "manx-a deciding")

    t_kill = time.monotonic()
    kill_server(env.pair, 1)
    check_one_switch(env.pair, [a], env.keys, load, t_kill)

    # manx-b does not know: it keeps the last agreed writer.
    def b_kept():
        r = quiet(coordination, b)
        if r is not None and (r["WRITER"] != "hostM1" or r["STATE"] != "LOST" or r["SWITCHES_APPLIED"] != "0"):
            return f"manx-b: {r}"
        if load.count(sid=SERVER_IDS[2], inst="manx-b"):
            return "manx-b wrote to hostM2 without etcd"
        return None

    hold(2, b_kept, "the partitioned instance keeps the last agreed writer")
    wait_writer([b], "hostM1", 1)

    t_heal = time.monotonic()
    fe.resume()
    wait_writer([b], "hostM2", 10)
    print(f"partition healed: manx-b on hostM2 after {time.monotonic() - t_heal:.2f} s")
    wait_coord([b], lambda r: r["STATE"] == "SYNCED" and r["SWITCHES_APPLIED"] == "1"
               and r["WRITER_REV"] == str(env.keys.writer()[1]), 5, "manx-b SYNCED at the agreed revision")
    load.wait_acks(3, 10, after=time.monotonic(), sid=SERVER_IDS[2], inst="manx-b")
    assert env.keys.writer()[2] == 2
    check_nothing_lost(env.pair, load, ms, env.keys)


def test_three_member_etcd(cpair, tmp_path, request):
    from conftest import _stop_manxes
    restore_pair(cpair)
    e3 = Etcd(3, ports=PORTS.take_block(6))
    env = None
    try:
        env = Env(cpair, e3, tmp_path, short_name(request))
        ms = [env.add(n) for n in ("manx-a", "manx-b")]
        settle_etcd(ms, env.keys)

        # The first endpoint of every instance goes away: nothing changes.
        e3.stop(0)

        def not_lost():
            for m in ms:
                r = quiet(coordination, m)
                if r is not None and r["STATE"] == "LOST":
                    return f"{m.name}: {r}"
            return None

        hold(ETCD_TIMEOUT_S + 1, not_lost, "one of three etcd members stopped")
        wait_coord(ms, lambda r: r["STATE"] == "SYNCED", 3, "SYNCED with two of three members")
        load = env.load(ms)
        load.wait_acks(10, 10, sid=SERVER_IDS[1])
        t_kill = time.monotonic()
        kill_server(cpair, 1)
        check_one_switch(cpair, ms, env.keys, load, t_kill)
        load.stop()

        # Two of three: no quorum, LOST.
        e3.stop(1)
        wait_coord(ms, lambda r: r["STATE"] == "LOST", ETCD_TIMEOUT_S + 3, "LOST without an etcd quorum")
        wait_writer(ms, "hostM2", 1)
        restore_pair(cpair)
        assert not load.missing_on(cpair, 2)
    finally:
        try:
            if env is not None:
                _stop_manxes(env.cluster.all)
        finally:
            e3.close()
