"""Issue 8, KILL and the console.  Through :8066 a user may only kill
sessions of the same manx user (else ERR 1095, as MySQL without the PROCESS
/ SUPER privilege); admin-console sessions are never reachable (ERR 1094);
an id that is no manx session (a backend thread id) is ERR 1094 and never
forwarded; a KILL inside a multi-statement is ERR 1235 and kills nothing;
COM_PROCESS_KILL is handled like KILL.  When max_connections is reached,
the admin console still lets an operator in."""

import struct

import pymysql
import pytest

import rawmysql as raw
from conftest import restart_replication, sync_pair, wait_for

pytestmark = pytest.mark.manx_only

ADMIN = "\n[admin]\nuser = admin\npassword = adminpw\n"
USERS = ADMIN + """
[user other]
password = 123456
schemas = aiurt-platform
"""


@pytest.fixture(autouse=True)
def replication_restored(pair):
    """A KILL that reached a replication thread (today's bug) must not
    break the tests after it: threads stopped by a test are restarted."""
    restart_replication(pair)
    yield
    restart_replication(pair)


def alive(c):
    """The raw session still answers."""
    return c.query1("SELECT 1") == [(b"1",)]


def closed(c):
    """The raw session was closed by manx (a query fails at the transport)."""
    try:
        c.query("SELECT 1", timeout=10)
    except (raw.Closed, OSError):
        return True
    return False


def sql_thread_ids(pair):
    out = []
    for port in (pair.port1, pair.port2):
        c = pair.connect(port=port, db=None)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT id FROM information_schema.PROCESSLIST WHERE command = 'Slave_SQL'")
                out.append(cur.fetchone()[0])
        finally:
            c.close()
    return out


def assert_replication_runs(pair, before_ids):
    """Both replication SQL threads are the same threads as before (a
    killed one would need START SLAVE and get a new id) and still apply
    events: a write on each side reaches the other."""
    assert sql_thread_ids(pair) == before_ids
    for port in (pair.port1, pair.port2):
        c = pair.connect(port=port, db=None)
        try:
            with c.cursor(pymysql.cursors.DictCursor) as cur:
                cur.execute("SHOW SLAVE STATUS")
                st = cur.fetchone()
                assert (st["Slave_IO_Running"], st["Slave_SQL_Running"]) == ("Yes", "Yes"), st
                cur.execute("CREATE TABLE IF NOT EXISTS aiurt_platform.kill_probe (id INT)")
                cur.execute("INSERT INTO aiurt_platform.kill_probe VALUES (1)")
        finally:
            c.close()
    sync_pair(pair)
    c = pair.connect(port=pair.port1, db=None)
    try:
        with c.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS aiurt_platform.kill_probe")
    finally:
        c.close()
    sync_pair(pair)


def admin_conn(m):
    return raw.Conn(m.host, m.admin_port, "admin", "adminpw", None)


def test_kill_other_users_session_is_refused(manx):
    m = manx(users_extra=USERS)
    with raw.connect(m, "root") as victim, raw.connect(m, "other") as attacker:
        for q in (f"KILL {victim.thread_id}", f"KILL CONNECTION {victim.thread_id}",
                  f"KILL QUERY {victim.thread_id}"):
            rs = attacker.query(q)
            assert rs[0].kind == "err" and rs[0].errno == 1095, (q, rs)
            assert f"You are not owner of thread {victim.thread_id}" in rs[0].message, rs
        assert alive(victim)
        assert alive(attacker)


def test_kill_own_other_session_works(manx):
    m = manx(users_extra=USERS)
    with raw.connect(m, "other") as victim, raw.connect(m, "other") as killer:
        rs = killer.query(f"KILL {victim.thread_id}")
        assert rs[0].kind == "ok", rs
        assert closed(victim)
        assert alive(killer)


def test_kill_admin_session_unreachable(manx):
    m = manx(users_extra=USERS)
    with admin_conn(m) as adm, raw.connect(m, "root") as c:
        for q in (f"KILL {adm.thread_id}", f"KILL QUERY {adm.thread_id}"):
            rs = c.query(q)
            assert rs[0].kind == "err" and rs[0].errno == 1094, (q, rs)
        c.command(raw.COM_PROCESS_KILL, struct.pack("<I", adm.thread_id))
        r = c.read_result()
        assert r.kind == "err" and r.errno == 1094, r
        assert adm.query1("show @@version")
        assert alive(c)


def test_kill_backend_thread_id_unknown_and_not_forwarded(manx, pair):
    m = manx(users_extra=USERS)
    before = sql_thread_ids(pair)
    # A direct connection to the writer: its thread id is no manx session.
    direct = pair.connect(port=pair.port1)
    try:
        with direct.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            direct_id = cur.fetchone()[0]
        with raw.connect(m, "root") as c:
            ids = [direct_id] + before
            assert direct_id > c.thread_id + 10, "backend thread id collides with manx ids"
            for tid in ids:
                for q in (f"KILL {tid}", f"KILL QUERY {tid}", f"KILL CONNECTION {tid}"):
                    rs = c.query(q)
                    assert rs[0].kind == "err" and rs[0].errno == 1094, (q, rs)
                c.command(raw.COM_PROCESS_KILL, struct.pack("<I", tid))
                r = c.read_result()
                assert r.kind == "err" and r.errno == 1094, (tid, r)
            assert alive(c)
        with direct.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        direct.close()
    assert_replication_runs(pair, before)


@pytest.mark.parametrize("template", [
    "DO 1; KILL {id}",
    "SELECT 1; KILL {id}",
    "DO 1; KILL QUERY {id}",
    "DO 1; KILL CONNECTION {id}",
    "KILL {id}; DO 1",
    "/* x */ DO 1 ;KILL {id}",
])
def test_kill_in_multi_statement_refused(manx, pair, template):
    m = manx(users_extra=USERS)
    before = sql_thread_ids(pair)
    with raw.connect(m, "root") as own_other, raw.connect(m, "root") as c:
        for tid in before + [own_other.thread_id]:
            rs = c.query(template.format(id=tid))
            assert rs[0].kind == "err" and rs[0].errno == 1235, (template, tid, rs)
        assert alive(own_other)
        assert alive(c)
    assert_replication_runs(pair, before)


def test_com_process_kill_like_kill(manx):
    m = manx(users_extra=USERS)
    with raw.connect(m, "root") as victim, raw.connect(m, "other") as attacker, \
            raw.connect(m, "other") as own:
        attacker.command(raw.COM_PROCESS_KILL, struct.pack("<I", victim.thread_id))
        r = attacker.read_result()
        assert r.kind == "err" and r.errno == 1095, r
        assert alive(victim)
        attacker.command(raw.COM_PROCESS_KILL, struct.pack("<I", own.thread_id))
        r = attacker.read_result()
        assert r.kind == "ok", r
        assert closed(own)
        assert alive(attacker)


def _only_console_sessions(m):
    """No client session but the console's own (LOCAL_PORT = the admin
    port): the start-up port probe's connection counts against
    max_connections until its worker has seen it close (a busy machine)."""
    with admin_conn(m) as adm:
        return all(int(r[4]) == m.admin_port for r in adm.query1("show @@connection"))


def test_admin_console_reachable_at_max_connections(manx):
    m = manx(manx_extra={"max_connections": 3}, users_extra=USERS)
    wait_for(lambda: _only_console_sessions(m), 10, "the port probe's connection gone")
    conns = [raw.connect(m, "root") for _ in range(3)]
    try:
        with pytest.raises(raw.ServerError) as e:
            raw.connect(m, "root").close()
        assert e.value.errno == 1040
        with admin_conn(m) as adm:
            rows = adm.query1("show @@server")
            assert rows
        for c in conns:
            assert alive(c)
    finally:
        for c in conns:
            c.close()
    # The slots come back once clients leave.
    wait_for(lambda: _can_login(m), 10, "a client login after the others left")


def _can_login(m):
    try:
        with raw.connect(m, "root") as c:
            return alive(c)
    except raw.ServerError:
        return False
