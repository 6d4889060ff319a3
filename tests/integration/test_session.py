"""Session state and the backend pool: with fewer backend connections than
clients, each client's USE / SET NAMES / autocommit / sql_mode / wait_timeout
must hold for its later statements whichever pooled connection runs them;
and a client that finds the pool exhausted waits, then gets a clear error."""

import threading
import time

import pymysql
import pytest

MULTI_USER = """
[user multi]
password = 123456
schemas = aiurt-platform, other
"""


def _modes(s):
    return set(filter(None, s.split(",")))


def test_session_state_replay(manx):
    m = manx(max_con=2, min_con=1, users_extra=MULTI_USER)
    user = "multi"
    other = "other_db" if m.direct else "other"
    wanted = [
        # (database to USE, names, autocommit, sql_mode, wait_timeout)
        (m.db, "latin1", 1, "ANSI_QUOTES", 1001),
        (other, "utf8mb4", 0, "STRICT_ALL_TABLES,NO_ZERO_DATE", 1002),
        (m.db, "ascii", 1, "", 1003),
        (other, "latin2", 1, "PIPES_AS_CONCAT,ONLY_FULL_GROUP_BY", 1004),
    ]
    conns = [m.connect(user=user) for _ in wanted]
    try:
        for c, (db, names, ac, mode, wt) in zip(conns, wanted):
            with c.cursor() as cur:
                cur.execute(f"use `{db}`")
                cur.execute(f"set names {names}")
                cur.execute(f"set autocommit = {ac}")
                cur.execute(f"set sql_mode = '{mode}'")
                cur.execute(f"set session wait_timeout = {wt}")
        backend_ids = set()
        # Interleave: every round each client checks its own state, so the
        # statements of four sessions take turns on two backend connections.
        for rnd in range(5):
            for c, (db, names, ac, mode, wt) in zip(conns, wanted):
                with c.cursor() as cur:
                    cur.execute("select database(), @@character_set_client, @@autocommit, "
                                "@@sql_mode, @@wait_timeout, connection_id()")
                    got = cur.fetchone()
                    backend_ids.add(got[5])
                    dbs = {db, "other_db"} if db == other else {db, m.database}
                    assert got[0] in dbs, (rnd, got)
                    assert got[1] == names, (rnd, got)
                    assert got[2] == ac, (rnd, got)
                    assert _modes(got[3]) == _modes(mode), (rnd, got)
                    assert got[4] == wt, (rnd, got)
                    if not ac:
                        cur.execute("commit")
        if not m.direct:
            # Four sessions never had more than two backend connections.
            assert len(backend_ids) <= 2, backend_ids
    finally:
        for c in conns:
            c.close()


def test_session_state_survives_other_clients(manx, backend, table):
    """A session's settings do not leak into another client's statements."""
    m = manx(max_con=1, min_con=1)
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (d date)")
    a = m.connect()
    b = m.connect()
    try:
        with a.cursor() as ca, b.cursor() as cb:
            ca.execute("set sql_mode = 'PIPES_AS_CONCAT'")
            ca.execute("set time_zone = '+05:00'")
            cb.execute("set sql_mode = 'STRICT_ALL_TABLES'")
            for _ in range(3):
                ca.execute("select 'a' || 'b', @@time_zone")
                assert ca.fetchone() == ("ab", "+05:00")
                cb.execute("select @@sql_mode, @@time_zone")
                assert cb.fetchone() == ("STRICT_ALL_TABLES", "SYSTEM")
                with pytest.raises(pymysql.err.MySQLError) as e:
                    cb.execute(f"insert into `{table}` values ('not a date')")
                assert e.value.args[0] == 1292
    finally:
        a.close()
        b.close()


def test_transaction_isolation_between_clients(manx, backend, table):
    m = manx(max_con=3, min_con=1)
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, v int)")
        cur.execute(f"insert into `{table}` values (1, 10)")
    a, b = m.connect(), m.connect()
    try:
        with a.cursor() as ca, b.cursor() as cb:
            ca.execute("begin")
            ca.execute(f"update `{table}` set v = 20 where id = 1")
            cb.execute(f"select v from `{table}` where id = 1")
            assert cb.fetchone() == (10,)
            ca.execute("rollback")
            ca.execute(f"select v from `{table}` where id = 1")
            assert ca.fetchone() == (10,)
            ca.execute("set autocommit = 0")
            ca.execute(f"update `{table}` set v = 30 where id = 1")
            cb.execute(f"select v from `{table}` where id = 1")
            assert cb.fetchone() == (10,)
            ca.execute("commit")
            cb.execute(f"select v from `{table}` where id = 1")
            assert cb.fetchone() == (30,)
    finally:
        a.close()
        b.close()


@pytest.mark.manx_only
def test_pool_exhausted_then_error(manx, backend, table):
    # One worker: manx splits max_con between its workers.
    m = manx(max_con=2, min_con=1, manx_extra={"pool_wait_timeout": 1000, "workers": 1})
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, v int)")
        cur.execute(f"insert into `{table}` values (1, 0), (2, 0), (3, 0)")
    holders = [m.connect(), m.connect()]
    waiter = m.connect()
    try:
        for i, h in enumerate(holders):
            with h.cursor() as cur:
                cur.execute("begin")
                cur.execute(f"update `{table}` set v = v + 1 where id = %s", (i + 2,))
        t0 = time.monotonic()
        with waiter.cursor() as cur:
            with pytest.raises(pymysql.err.MySQLError) as e:
                cur.execute(f"update `{table}` set v = v + 1 where id = 1")
        elapsed = time.monotonic() - t0
        assert e.value.args[0] == 1040, e.value.args
        assert "pool" in e.value.args[1].lower(), e.value.args
        assert 0.8 <= elapsed <= 10, elapsed
        # The holders are unaffected and can finish.
        for h in holders:
            with h.cursor() as cur:
                cur.execute("commit")
        # After the error the waiting session is still usable.
        with waiter.cursor() as cur:
            cur.execute("select v from `%s` where id = 1" % table)
            assert cur.fetchone() == (0,)
    finally:
        for c in holders + [waiter]:
            c.close()


@pytest.mark.manx_only
def test_pool_waiter_proceeds_when_freed(manx, backend, table):
    m = manx(max_con=2, min_con=1, manx_extra={"pool_wait_timeout": 3000, "workers": 1})
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, v int)")
        cur.execute(f"insert into `{table}` values (1, 0), (2, 0), (3, 0)")
    holders = [m.connect(), m.connect()]
    waiter = m.connect()
    result = {}
    try:
        for i, h in enumerate(holders):
            with h.cursor() as cur:
                cur.execute("begin")
                cur.execute(f"update `{table}` set v = v + 1 where id = %s", (i + 2,))

        def wait_query():
            t0 = time.monotonic()
            try:
                with waiter.cursor() as cur:
                    cur.execute(f"update `{table}` set v = v + 1 where id = 1")
                    result["rows"] = cur.rowcount
            except Exception as e:  # noqa: BLE001 - checked below
                result["error"] = e
            result["elapsed"] = time.monotonic() - t0

        th = threading.Thread(target=wait_query)
        th.start()
        time.sleep(0.5)
        assert th.is_alive(), result      # it is waiting for a connection
        with holders[0].cursor() as cur:
            cur.execute("commit")
        th.join(15)
        assert not th.is_alive()
        assert "error" not in result, result
        assert result["rows"] == 1
        assert result["elapsed"] < 2.9, result
        with holders[1].cursor() as cur:
            cur.execute("commit")
        with backend.cursor() as cur:
            cur.execute(f"select sum(v) from `{table}`")
            assert cur.fetchone() == (3,)
    finally:
        for c in holders + [waiter]:
            c.close()


def test_last_insert_id_follows_the_session(manx, backend, table):
    """Two sessions share one pooled backend connection: each one's
    LAST_INSERT_ID() is its own insert's, as on a connection of its own."""
    m = manx(manx_extra={"workers": 1}, max_con=1, min_con=1)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    a, b = m.connect(), m.connect()
    ids = {}
    for name, c in (("a", a), ("b", b), ("a2", a)):
        with c.cursor() as cur:
            cur.execute(f"INSERT INTO `{table}`(v) VALUES (1)")
            ids[name] = cur.lastrowid
    for name, c in (("b", b), ("a2", a), ("b", b)):
        with c.cursor() as cur:
            cur.execute("SELECT LAST_INSERT_ID(), @@identity")
            assert cur.fetchone() == (ids[name], ids[name]), (name, ids)
    a.close()
    b.close()
