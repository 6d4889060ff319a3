"""Issue 8, the other defects: idle and half-packet clients are
disconnected (and release a pinned backend), a prepared statement with a
Mycat hint survives re-preparing on other backends, a per-address lockout
after repeated wrong passwords, least privilege (backend_user, a READ ONLY
backend session for readonly users), and a lexer disagreement that sent a
DELETE of an ordinary user to the standby master."""

import re
import time

import pymysql
import pytest

import rawmysql as raw
from conftest import on_both, sync_pair, wait_hosts_up

pytestmark = pytest.mark.manx_only


# --- timeouts ----------------------------------------------------------------

def test_idle_client_disconnected(manx):
    m = manx(manx_extra={"client_idle_timeout": 1000})
    with raw.connect(m) as c:
        assert c.query1("SELECT 1") == [(b"1",)]
        t0 = time.monotonic()
        assert c.expect_closed(6), "idle client still connected 6 s after a 1 s client_idle_timeout"
        assert time.monotonic() - t0 >= 0.9
    # A busy client is not idle.
    with raw.connect(m) as c:
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            assert c.query1("SELECT 1") == [(b"1",)]


def half_packet(c):
    """A COM_QUERY header announcing 100 bytes, then only 10 of them."""
    c.send_raw((100).to_bytes(3, "little") + b"\x00" + b"\x03SELECT 1 ")


def test_half_packet_client_disconnected(manx):
    m = manx(manx_extra={"net_read_timeout": 1000})
    with raw.connect(m) as c:
        half_packet(c)
        assert c.expect_closed(6), "client stuck mid-packet still connected 6 s after net_read_timeout"


def test_half_packet_releases_pinned_backend(manx, backend, table):
    m = manx(manx_extra={"net_read_timeout": 1000, "workers": 1, "pool_wait_timeout": 8000},
             max_con=1, min_con=1)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY)")
    with raw.connect(m) as stuck:
        rs = stuck.query(f"BEGIN; INSERT INTO `{table}` VALUES (1)")
        assert rs[-1].kind == "ok", rs              # holds the only backend, in a transaction
        half_packet(stuck)
        other = m.connect(read_timeout=20)
        try:
            with other.cursor() as cur:
                # Waits for the pool until manx drops the stuck client and
                # rolls its transaction back.
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                assert cur.fetchone() == (0,)
        finally:
            other.close()
        assert stuck.expect_closed(6)


# --- prepared statement with a Mycat hint ---------------------------------------

def test_prepared_with_hint_executes_everywhere(manx):
    m = manx(datahost_extra={"balance": 1})
    wait_hosts_up(m, ["hostM1", "hostS1", "hostM2", "hostS2"])
    sessions = [raw.connect(m) for _ in range(3)]
    try:
        stmts = []
        for c in sessions:
            r = c.prepare("/*!mycat:db_type=master*/ SELECT ?")
            assert r.kind == "prepare" and r.n_params == 1, r
            stmts.append(r.stmt_id)
        failures = []
        for i in range(12):
            for c, sid in zip(sessions, stmts):
                r = c.execute(sid, [str(i)])
                if r.kind != "rows" or len(r.rows) != 1:
                    failures.append((i, r))
        assert not failures, failures
    finally:
        for c in sessions:
            c.close()


# --- login lockout ------------------------------------------------------------------

def test_login_lockout(manx):
    m = manx(manx_extra={"max_login_failures": 3, "login_lockout": 2000})
    for _ in range(3):
        with pytest.raises(raw.ServerError) as e:
            raw.connect(m, password="wrong").close()
        assert e.value.errno == 1045
    with pytest.raises(raw.ServerError) as e:
        raw.connect(m).close()                    # the right password
    assert e.value.errno == 1129, e.value
    locked_at = time.monotonic()
    # Locked out for login_lockout (2 s) from then: wait for exactly that
    # configured time, then the right password gets in.
    time.sleep(max(0.0, locked_at + 2.3 - time.monotonic()))
    with raw.connect(m) as c:
        assert c.query1("SELECT 1") == [(b"1",)]
    assert re.search(r"(?i)^.*(lock|block).*127\.0\.0\.1.*$|^.*127\.0\.0\.1.*(lock|block).*$",
                     m.log(), re.M), "no log line names the locked-out address"


# --- least privilege ------------------------------------------------------------------

LP_USERS = """
[user lp]
password = 123456
schemas = aiurt-platform
backend_user = ro_user
backend_password = ro_pw
"""


@pytest.fixture
def ro_account(pair):
    """ro_user with SELECT on aiurt_platform.* only, on both servers
    (created on each with sql_log_bin = 0), dropped afterwards."""
    stmts = ["DROP USER IF EXISTS ro_user@'127.0.0.1', ro_user@'localhost'",
             "CREATE USER ro_user@'127.0.0.1' IDENTIFIED BY 'ro_pw'",
             "CREATE USER ro_user@'localhost' IDENTIFIED BY 'ro_pw'",
             "GRANT SELECT ON aiurt_platform.* TO ro_user@'127.0.0.1'",
             "GRANT SELECT ON aiurt_platform.* TO ro_user@'localhost'"]
    for port in (pair.port1, pair.port2):
        c = pair.connect(port=port, db=None)
        try:
            with c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                for s in stmts:
                    cur.execute(s)
        finally:
            c.close()
    yield "ro_user"
    for port in (pair.port1, pair.port2):
        c = pair.connect(port=port, db=None)
        try:
            with c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute(stmts[0])
        finally:
            c.close()


def test_backend_user_maps_to_account(ro_account, backend, table, manx):
    m = manx(users_extra=LP_USERS)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (a INT)")
    with raw.connect(m, "lp") as c:
        who = c.query1("SELECT CURRENT_USER()")[0][0]
        assert who.startswith(b"ro_user@"), who
        rs = c.query(f"INSERT INTO `{table}` VALUES (1)")
        assert rs[0].kind == "err" and rs[0].errno == 1142, rs    # INSERT command denied
    with raw.connect(m, "root") as c:
        who = c.query1("SELECT CURRENT_USER()")[0][0]
        assert who.startswith(b"app@"), who


def test_readonly_user_backend_session_is_read_only(manx):
    m = manx()
    with raw.connect(m, "test") as c:
        # MariaDB 10.11 calls it tx_read_only (transaction_read_only came in 11.1).
        assert c.query1("SELECT @@tx_read_only") == [(b"1",)]
    with raw.connect(m, "root") as c:
        assert c.query1("SELECT @@tx_read_only") == [(b"0",)]


# --- a statement the classifier misreads must not run on the standby master ---------

def gtid_seqs(pair):
    """{domain: seq} of server 1's gtid_binlog_pos (domain 1 = written on
    server 1, domain 2 = written on server 2)."""
    c = pair.connect(port=pair.port1, db=None)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT @@gtid_binlog_pos")
            pos = cur.fetchone()[0]
    finally:
        c.close()
    return {int(d): int(s) for d, _, s in (g.split("-") for g in pos.split(",") if g)}


@pytest.mark.parametrize("setup,attack", [
    ("SET sql_mode = 'NO_BACKSLASH_ESCAPES'", b"SELECT 'a\\'; DELETE FROM `{t}` WHERE id = 11; -- '"),
    ("SET NAMES gbk", b"SELECT '\xbf\\'; DELETE FROM `{t}` WHERE id = 11; -- '"),
    ("SET sql_mode = 'ANSI_QUOTES'", b"SELECT 1 AS \"a\\\"; DELETE FROM `{t}` WHERE id = 11; -- \""),
], ids=["no_backslash_escapes", "gbk", "ansi_quotes"])
def test_misread_write_runs_on_writer(pair, backend, table, manx, setup, attack):
    # Reads go to hostS1 (server 2) only; writes to hostM1 (server 1).
    m = manx(datahost_extra={"balance": 1, "write_hosts": "hostM1"})
    wait_hosts_up(m, ["hostM1", "hostS1"])
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY)")
        cur.execute(f"INSERT INTO `{table}` VALUES (10), (11), (12)")
    sync_pair(pair)
    before = gtid_seqs(pair)
    with raw.connect(m, "root") as c:
        assert c.query(setup)[-1].kind == "ok"
        rs = c.query(attack.replace(b"{t}", table.encode()))
        assert all(r.kind != "err" for r in rs), rs
    sync_pair(pair)
    after = gtid_seqs(pair)
    assert on_both(pair, f"SELECT id FROM `{table}` ORDER BY id") == [((10,), (12,))] * 2
    assert after.get(2, 0) == before.get(2, 0), \
        f"the DELETE ran on the standby master (server 2): {before} -> {after}"
    assert after[1] == before[1] + 1, (before, after)
