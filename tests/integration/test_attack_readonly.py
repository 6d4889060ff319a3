"""Issue 8, readonly = true must be impossible to bypass.

Every item of readonly_corpus.txt (format described at its top) runs as the
readonly manx user `test` in a fresh session, through one manx with
balance = 1 (the seed's setting: reads go to the standby master too).  Each
item must leave both servers exactly as they were: the test snapshots both
servers directly as root before and after (binlog file/position and GTID,
CHECKSUM TABLE of the fixture tables, the sequence, tables, databases,
routines, mysql.user, a handful of global variables, the replication
threads, files SELECT ... INTO OUTFILE could write) and compares.  The item's
EXPECT column adds what the fixed manx answers (ERR 1290 for a refusal).

When an item did change something (today's code), the fixture is rebuilt
so the next item starts from the same state."""

import glob
import os
import re
import struct
from pathlib import Path

import pymysql
import pytest

import rawmysql as raw
from conftest import DATABASE, sync_pair, wait_for, wait_hosts_up

pytestmark = pytest.mark.manx_only

CORPUS = Path(__file__).resolve().parent / "readonly_corpus.txt"
OUTFILE_GLOB = "/tmp/manx_ro_*"
GLOBALS = ("max_connections", "read_only", "max_user_connections", "wait_timeout",
           "sql_mode", "general_log", "max_allowed_packet", "event_scheduler")
ITEM_TIMEOUT = 20


def parse_corpus():
    items = []
    for n, line in enumerate(CORPUS.read_text(encoding="ascii").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        expect, _, rest = line.partition(" ")
        assert expect in ("1290", "err", "same"), f"{CORPUS.name}:{n}: bad EXPECT {expect!r}"
        steps = []
        for s in rest.split(" |> "):
            kind, _, arg = s.strip().partition(" ")
            assert kind in ("q", "p", "c", "n", "login"), f"{CORPUS.name}:{n}: bad step {s!r}"
            steps.append((kind, arg))
        items.append(pytest.param(expect, steps, id=f"L{n:03d}-" + re.sub(r"[^A-Za-z0-9]+", "_", rest)[:60]))
    return items


ITEMS = parse_corpus()


def unescape(text, ids):
    """\\xHH escapes to bytes, {sql1}-style placeholders to thread ids."""
    text = text.format(**ids)
    out = bytearray()
    i = 0
    while i < len(text):
        if text.startswith("\\x", i) and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += text[i].encode("ascii")
            i += 1
    return bytes(out)


# --- the fixture on both servers ---------------------------------------------

FIXTURE_SQL = [
    "DROP DATABASE IF EXISTS ro_victim_db",
    "DROP DATABASE IF EXISTS ro_evil_db",
    "CREATE DATABASE ro_victim_db",
    f"USE {DATABASE}",
    "DROP TABLE IF EXISTS ro_t, ro_v, ro_w, ro_log, ro_new",
    "DROP VIEW IF EXISTS ro_view",
    "DROP SEQUENCE IF EXISTS ro_seq",
    "DROP SEQUENCE IF EXISTS ro_seq2",
    "DROP FUNCTION IF EXISTS ro_f",
    "DROP FUNCTION IF EXISTS ro_f2",
    "DROP PROCEDURE IF EXISTS ro_p",
    "DROP PROCEDURE IF EXISTS ro_p2",
    "DROP EVENT IF EXISTS ro_ev",
    "CREATE TABLE ro_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
    "INSERT INTO ro_t (id, v) SELECT seq, seq FROM seq_1_to_40",
    "CREATE TABLE ro_v (id INT)",
    "INSERT INTO ro_v VALUES (1), (2), (3)",
    "CREATE TABLE ro_log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(50))",
    "CREATE SEQUENCE ro_seq NOCACHE",
    "CREATE FUNCTION ro_f() RETURNS INT DETERMINISTIC MODIFIES SQL DATA "
    "BEGIN INSERT INTO ro_log (note) VALUES ('f'); RETURN 1; END",
    "CREATE PROCEDURE ro_p() MODIFIES SQL DATA DELETE FROM ro_t WHERE id = 40",
    "DROP TABLE IF EXISTS other_db.ro_o",
    "CREATE TABLE other_db.ro_o (id INT)",
    "INSERT INTO other_db.ro_o VALUES (1), (2)",
    "DROP USER IF EXISTS ro_dummy@'127.0.0.2', ro_dummy2@'127.0.0.2', ro_evil@'%'",
    "CREATE USER ro_dummy@'127.0.0.2' IDENTIFIED BY 'dummy'",
]

FIXTURE_DROP = [
    "DROP DATABASE IF EXISTS ro_victim_db",
    "DROP DATABASE IF EXISTS ro_evil_db",
    f"USE {DATABASE}",
    "DROP TABLE IF EXISTS ro_t, ro_v, ro_w, ro_log, ro_new",
    "DROP VIEW IF EXISTS ro_view",
    "DROP SEQUENCE IF EXISTS ro_seq",
    "DROP SEQUENCE IF EXISTS ro_seq2",
    "DROP FUNCTION IF EXISTS ro_f",
    "DROP FUNCTION IF EXISTS ro_f2",
    "DROP PROCEDURE IF EXISTS ro_p",
    "DROP PROCEDURE IF EXISTS ro_p2",
    "DROP EVENT IF EXISTS ro_ev",
    "DROP TABLE IF EXISTS other_db.ro_o",
    "DROP USER IF EXISTS ro_dummy@'127.0.0.2', ro_dummy2@'127.0.0.2', ro_evil@'%'",
]


def root(pair, port):
    c = pair.connect(port=port, db=None)
    with c.cursor() as cur:
        cur.execute("SET SESSION lock_wait_timeout = 10")
    return c


def run_unlogged(pair, sqls):
    """The statements on each server separately with sql_log_bin = 0: both
    end up identical without waiting for replication."""
    for port in (pair.port1, pair.port2):
        c = root(pair, port)
        try:
            with c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                for s in sqls:
                    cur.execute(s)
        finally:
            c.close()


def replication_ok(c):
    with c.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SHOW SLAVE STATUS")
        st = cur.fetchone()
    return st and st["Slave_IO_Running"] == "Yes" and st["Slave_SQL_Running"] == "Yes"


def repair(pair, baseline):
    """Puts both servers back into the baseline state after an item that
    changed them: replication running and caught up, globals, users,
    databases, the fixture, no stray files."""
    for port in (pair.port1, pair.port2):
        c = root(pair, port)
        try:
            for _ in range(10):
                if replication_ok(c):
                    break
                with c.cursor(pymysql.cursors.DictCursor) as cur:
                    cur.execute("SHOW SLAVE STATUS")
                    st = cur.fetchone()
                    if st["Slave_SQL_Running"] != "Yes" and st["Last_SQL_Errno"]:
                        # An event the attack made fail on the other side.
                        cur.execute("STOP SLAVE")
                        cur.execute("SET GLOBAL sql_slave_skip_counter = 1")
                    cur.execute("START SLAVE")
                wait_for(lambda: replication_ok(c) or _sql_error(c), 10,
                         f"replication threads on port {port}")
            assert replication_ok(c), f"replication on {port} could not be restarted"
        finally:
            c.close()
    sync_pair(pair)
    for port, snap in ((pair.port1, baseline[0]), (pair.port2, baseline[1])):
        c = root(pair, port)
        try:
            now = snapshot_server(c)["globals"]
            with c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                for k, v, cur_v in zip(GLOBALS, snap["globals"], now):
                    if v != cur_v:
                        cur.execute(f"SET GLOBAL {k} = %s", (v,))
        finally:
            c.close()
    run_unlogged(pair, FIXTURE_SQL)
    for f in glob.glob(OUTFILE_GLOB):
        os.unlink(f)


def _sql_error(c):
    with c.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SHOW SLAVE STATUS")
        st = cur.fetchone()
    return st["Slave_SQL_Running"] == "No" and st["Last_SQL_Errno"] != 0


def snapshot_server(c):
    s = {}
    with c.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SHOW MASTER STATUS")
        ms = cur.fetchone()
        s["binlog"] = (ms["File"], ms["Position"])
        cur.execute("SHOW SLAVE STATUS")
        st = cur.fetchone()
        s["replication"] = (st["Slave_IO_Running"], st["Slave_SQL_Running"])
    with c.cursor() as cur:
        cur.execute("SELECT @@gtid_binlog_pos")
        s["gtid"] = cur.fetchone()[0]
        cur.execute(f"CHECKSUM TABLE {DATABASE}.ro_t, {DATABASE}.ro_v, {DATABASE}.ro_log, "
                    "other_db.ro_o")
        s["checksums"] = cur.fetchall()
        try:
            cur.execute(f"SELECT next_not_cached_value FROM {DATABASE}.ro_seq")
            s["sequence"] = cur.fetchall()
        except pymysql.MySQLError as e:
            s["sequence"] = f"error {e.args[0]}"
        cur.execute("SELECT table_schema, table_name, table_type FROM information_schema.TABLES "
                    f"WHERE table_schema IN ('{DATABASE}', 'other_db', 'ro_victim_db') "
                    "AND table_name LIKE 'ro%' ORDER BY 1, 2")
        s["tables"] = cur.fetchall()
        cur.execute("SELECT COUNT(*) FROM information_schema.COLUMNS "
                    f"WHERE table_schema = '{DATABASE}' AND table_name LIKE 'ro%'")
        s["columns"] = cur.fetchall()
        cur.execute("SELECT routine_schema, routine_name FROM information_schema.ROUTINES "
                    "ORDER BY 1, 2")
        s["routines"] = cur.fetchall()
        cur.execute("SELECT trigger_name FROM information_schema.TRIGGERS ORDER BY 1")
        s["triggers"] = cur.fetchall()
        cur.execute("SELECT event_name FROM information_schema.EVENTS ORDER BY 1")
        s["events"] = cur.fetchall()
        cur.execute("SHOW DATABASES")
        s["databases"] = cur.fetchall()
        cur.execute("SELECT COUNT(*) FROM mysql.user")
        s["user_count"] = cur.fetchone()[0]
        cur.execute("SELECT user, host, authentication_string FROM mysql.user ORDER BY 1, 2")
        s["users"] = cur.fetchall()
        cur.execute("SELECT grantee, privilege_type FROM information_schema.USER_PRIVILEGES "
                    "WHERE grantee LIKE '%ro\\_%' ORDER BY 1, 2")
        s["grants"] = cur.fetchall()
        cur.execute("SELECT " + ", ".join(f"@@GLOBAL.{g}" for g in GLOBALS))
        s["globals"] = cur.fetchone()
    return s


def snapshot(pair):
    out = []
    for port in (pair.port1, pair.port2):
        c = root(pair, port)
        try:
            out.append(snapshot_server(c))
        finally:
            c.close()
    out.append({"files": sorted(glob.glob(OUTFILE_GLOB))})
    return out


def diff(before, after):
    lines = []
    for name, b, a in zip(("server 1", "server 2", "local"), before, after):
        for k in b:
            if b[k] != a[k]:
                lines.append(f"{name} {k}: {b[k]!r} -> {a[k]!r}")
    return lines


def thread_ids(pair):
    ids = {}
    for n, port in ((1, pair.port1), (2, pair.port2)):
        c = root(pair, port)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT id, command FROM information_schema.PROCESSLIST "
                            "WHERE command IN ('Slave_SQL', 'Slave_IO')")
                for tid, cmd in cur.fetchall():
                    ids[("sql" if cmd == "Slave_SQL" else "io") + str(n)] = tid
        finally:
            c.close()
    return ids


@pytest.fixture(scope="module")
def ro_env(pair, manx_module):
    """One manx (balance = 1) and the fixture on both servers; dropped at
    the end."""
    for f in glob.glob(OUTFILE_GLOB):
        os.unlink(f)
    run_unlogged(pair, FIXTURE_SQL)
    m = manx_module(datahost_extra={"balance": 1})
    wait_hosts_up(m, ["hostM1", "hostS1", "hostM2", "hostS2"])
    env = {"manx": m, "baseline": snapshot(pair)}
    try:
        yield env
    finally:
        repair(pair, env["baseline"])
        run_unlogged(pair, FIXTURE_DROP)
        for f in glob.glob(OUTFILE_GLOB):
            os.unlink(f)


def run_step(c, kind, arg, ids):
    """Runs one step; returns the list of results (a closed connection is
    the single result 'closed')."""
    data = unescape(arg, ids)
    try:
        if kind == "q":
            return c.query(data, timeout=ITEM_TIMEOUT)
        if kind == "p":
            r = c.prepare(data, timeout=ITEM_TIMEOUT)
            if r.kind != "prepare":
                return [r]
            return [r, c.execute(r.stmt_id, ["1"] * r.n_params, timeout=ITEM_TIMEOUT)]
        cmd, _, a = data.partition(b" ")
        if a.startswith(b"u32="):
            a = struct.pack("<I", int(a[4:]))
        cmd = int(cmd, 16)
        c.command(cmd, a)
        if kind == "n":
            return [c.ping(timeout=ITEM_TIMEOUT)]
        if cmd in (raw.COM_FIELD_LIST, raw.COM_STATISTICS):
            # Answers that are not OK/result sets: column definitions up
            # to an EOF, or one plain string.
            while True:
                pkt = c.read_packet(timeout=ITEM_TIMEOUT)
                if pkt[:1] == b"\xff":
                    return [raw.parse_err(pkt)]
                if cmd == raw.COM_STATISTICS or (pkt[:1] == b"\xfe" and len(pkt) < 9):
                    return [raw.Result("ok")]
        return [c.read_result(timeout=ITEM_TIMEOUT)]
    except raw.Closed:
        return ["closed"]


def describe(results):
    return "; ".join(repr(r) for r in results)


@pytest.mark.parametrize("expect,steps", ITEMS)
def test_readonly_corpus(ro_env, pair, expect, steps):
    m = ro_env["manx"]
    assert m.running(), "manx is not running (an earlier item killed it)"
    ids = thread_ids(pair)
    charset = 45
    if steps[0][0] == "login":
        charset = int(steps[0][1])
        steps = steps[1:]
    before = snapshot(pair)
    if any(b["replication"] != ("Yes", "Yes") for b in before[:2]):
        # A KILL of a replication thread by the item before took effect
        # after that item's snapshot: start from a clean state.
        repair(pair, ro_env["baseline"])
        before = snapshot(pair)
    results = []
    try:
        with raw.connect(m, "test", charset=charset, timeout=ITEM_TIMEOUT) as c:
            for kind, arg in steps:
                results = run_step(c, kind, arg, ids)
                if results == ["closed"]:
                    break
    finally:
        after = snapshot(pair)
        changed = diff(before, after)
        if changed:
            repair(pair, ro_env["baseline"])
    assert not changed, ("the readonly user changed the servers (answer: "
                         f"{describe(results)}):\n  " + "\n  ".join(changed))
    last = results[0] if results else None
    if expect == "1290":
        assert last != "closed" and last.kind == "err" and last.errno == 1290 \
            and last.sqlstate == "HY000", f"expected ERR 1290, got {describe(results)}"
    elif expect == "err":
        assert any(r == "closed" or r.kind == "err" for r in results), \
            f"expected an ERR, got {describe(results)}"
    assert m.running(), "manx died"
