#!/usr/bin/python3
"""Differential check of classify.eval against a real MariaDB server.

Every line whose readonly verdict is `ro` is run on the server, as root, in
a scratch database (manx_evalcheck, dropped and created again), under the
line's sql_mode and client charset -- and, where the line's mode says the
sql_mode or the charset is unknown, under each of the four sql_mode
combinations that matter and eighteen client charsets.  After each run the
server must not have set out to execute a statement kind outside the
readonly allow-list (its session Com_* counters count a statement even
when it then fails on a missing table, not one it cannot parse), changed
a global variable, moved its binlog, or written a file.  KILL lines (manx
answers KILL itself) and lines whose versioned comments the line's server
version reads otherwise than this server are skipped.

Then the other direction: where the table says a DELETE hidden behind a
quote, an escape or a comment is a statement of its own (n=2), the server
must run it, unless it already rejects the statement before.

    MX_EVAL_PORT=53307 /usr/bin/python3 tests/unit/router/check_eval_server.py

Environment: MX_EVAL_HOST (127.0.0.1), MX_EVAL_PORT (3307), MX_EVAL_USER
(root), MX_EVAL_PASSWORD (123456), MX_EVAL_FILE (classify.eval next to
this script).  Exit status 1 on any disagreement.  Not part of `meson
test`: it needs a server, and it runs the corpus as root.
"""
import os
import re
import sys

import pymysql
from pymysql.constants import CLIENT

HOST = os.environ.get("MX_EVAL_HOST", "127.0.0.1")
PORT = int(os.environ.get("MX_EVAL_PORT", "3307"))
USER = os.environ.get("MX_EVAL_USER", "root")
PASSWORD = os.environ.get("MX_EVAL_PASSWORD", "123456")
EVAL = os.environ.get("MX_EVAL_FILE", os.path.join(os.path.dirname(os.path.abspath(__file__)), "classify.eval"))
DB = "manx_evalcheck"

# Statement kinds a readonly user may run (see mx_sql_scan in router/classify.h).
ALLOWED = re.compile(r"^Com_(select|show_.*|set_option|begin|commit|rollback|savepoint|rollback_to_savepoint|"
                     r"release_savepoint|unlock_tables|help|do|get_diagnostics|ha_open|ha_read|ha_close|"
                     r"dealloc_sql|change_db|empty_query|admin_commands|stmt_close)$")
# Global variables that move on their own.
VOLATILE = {"gtid_slave_pos", "gtid_current_pos", "gtid_binlog_pos", "gtid_binlog_state"}
OUTFILES = ["/tmp/x", "/tmp/orders.csv", "/tmp/doc.bin", "x"]

SQL_MODES = {"": "", "nbe": "NO_BACKSLASH_ESCAPES", "ansi": "ANSI_QUOTES",
             "nbe,ansi": "NO_BACKSLASH_ESCAPES,ANSI_QUOTES"}
CHARSETS = {"utf8": ["utf8mb4"], "single": ["latin1", "cp1251", "latin2", "cp866"], "gbk": ["gbk"],
            "big5": ["big5"], "sjis": ["sjis", "cp932"]}
ALL_CHARSETS = ["utf8mb4", "latin1", "cp1250", "cp1251", "latin2", "cp852", "cp866", "macroman", "hp8",
                "swe7", "gbk", "big5", "sjis", "cp932", "euckr", "gb2312", "ujis", "eucjpms"]

SETUP = [
    "DROP DATABASE IF EXISTS %s" % DB,
    "CREATE DATABASE %s" % DB,
    "USE %s" % DB,
    "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, c INT, k INT, v VARCHAR(50), note VARCHAR(50), "
    "flag INT, version INT, total INT, deleted INT, name VARCHAR(50), email VARCHAR(50))",
    "INSERT INTO t (id, a, b, c, k, v) SELECT seq, seq, seq, seq, seq, 'x' FROM seq_1_to_20",
    "CREATE TABLE u LIKE t", "INSERT INTO u SELECT * FROM t",
    "CREATE TABLE orders LIKE t", "INSERT INTO orders SELECT * FROM t",
    "CREATE TABLE stats (last_insert_id INT, found_rows INT)",
    "CREATE SEQUENCE s", "CREATE SEQUENCE order_seq",
    "CREATE TABLE other_t (id INT)",
]


def connect():
    # No value conversions: results come back as the server's bytes.
    return pymysql.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, charset="utf8mb4",
                           client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True, use_unicode=False, conv={})


def fields_of(line):
    parts = line.split("\t")
    return parts[0], parts[1], parts[2], dict(f.split("=", 1) for f in parts[3:] if "=" in f)


def unescape(sql):
    """The sql column's bytes (read as latin-1), with \\n, \\t and \\xNN undone."""
    raw = sql.encode("latin-1")
    res = bytearray()
    i = 0
    while i < len(raw):
        if raw[i:i + 2] == b"\\n":
            res += b"\n"
            i += 2
        elif raw[i:i + 2] == b"\\t":
            res += b"\t"
            i += 2
        elif raw[i:i + 2] == b"\\x" and re.match(rb"[0-9a-fA-F]{2}", raw[i + 2:i + 4]):
            res.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            res.append(raw[i])
            i += 1
    return bytes(res)


def modes_for(spec):
    """(sql_mode, charset) pairs a line's mode= stands for, or None to skip."""
    parts = spec.split(",") if spec else []
    sql = [p for p in parts if p in ("nbe", "ansi")]
    cs = [p[3:] for p in parts if p.startswith("cs=")]
    sql_modes = list(SQL_MODES.values()) if "modeunknown" in parts else [SQL_MODES[",".join(sql)]]
    kind = cs[0] if cs else "utf8"
    charsets = ALL_CHARSETS if kind in ("unknown", "othermb") else CHARSETS[kind]
    return [(m, c) for m in sql_modes for c in charsets]


def snapshot(cur):
    cur.execute("SHOW SESSION STATUS LIKE 'Com\\_%'")
    com = {k.decode(): int(v) for k, v in cur.fetchall()}
    cur.execute("SHOW GLOBAL VARIABLES")
    gv = {k.decode(): v for k, v in cur.fetchall() if k.decode() not in VOLATILE}
    cur.execute("SHOW MASTER STATUS")
    pos = cur.fetchone()[:2]
    files = [f for f in OUTFILES if os.path.exists(f)]
    return com, gv, pos, files


def run_one(sql, sql_mode, charset):
    conn = connect()
    lost = False
    try:
        cur = conn.cursor()
        cur.execute("USE %s" % DB)
        cur.execute("SET SESSION sql_mode = %s", (sql_mode,))
        cur.execute("SET NAMES %s" % charset)
        cur.execute("SET character_set_results = binary")
        before = snapshot(cur)
        error = None
        try:
            conn.query(sql)
            while conn._result is not None and conn._result.has_next:
                conn.next_result()
        except pymysql.err.MySQLError as e:
            error = e.args[0]
        # Com_* counters are the session's: read them on the same connection.
        # They count a statement the server set out to execute even when it
        # failed (a missing table), but not one it could not parse.
        try:
            after = snapshot(conn.cursor())
        except pymysql.err.MySQLError:
            lost = True
            conn.close()
            conn = connect()
            after = snapshot(conn.cursor())
    finally:
        conn.close()
    com_b, gv_b, pos_b, files_b = before
    com_a, gv_a, pos_a, files_a = after
    problems = []
    if lost:
        # COMMIT RELEASE ends the session; anything else should not.
        if not re.search(rb"(?i)\brelease\b", sql):
            problems.append("connection lost: Com_* counters unknown")
    else:
        ran = sorted(k for k in com_a if com_a[k] != com_b.get(k, 0) and not ALLOWED.match(k))
        if ran:
            problems.append("server ran " + ", ".join(ran))
    changed = sorted(k for k in gv_a if gv_a[k] != gv_b.get(k))
    if changed:
        problems.append("global variables changed: " + ", ".join(changed))
    if pos_a != pos_b:
        problems.append("binlog moved %s -> %s" % (pos_b, pos_a))
    if files_a != files_b:
        problems.append("file written: %s" % files_a)
    ran_all = {k: com_a[k] - com_b.get(k, 0) for k in com_a} if not lost else {}
    return error, problems, ran_all


def self_test():
    """The check must see a write when there is one."""
    for sql in (b"DELETE FROM t WHERE id = 20", b"SELECT NEXTVAL(s)", b"SET GLOBAL max_connections = @@max_connections + 1",
                b"SELECT 'a\\'; DELETE FROM t WHERE id = 19; -- '"):
        mode = "NO_BACKSLASH_ESCAPES" if b"\\'" in sql else ""
        error, problems, _ = run_one(sql, mode, "utf8mb4")
        if not problems:
            sys.exit("self-test: no write seen for %r (error %s)" % (sql, error))
    conn = connect()
    conn.cursor().execute("SET GLOBAL max_connections = @@max_connections - 1")
    conn.close()


def main():
    setup = connect()
    cur = setup.cursor()
    for stmt in SETUP:
        cur.execute(stmt)
    cur.execute("SELECT @@version")
    version = cur.fetchone()[0].decode()
    setup.close()
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    server_id = int(m.group(1)) * 10000 + int(m.group(2)) * 100 + int(m.group(3))
    for f in OUTFILES:
        if os.path.exists(f):
            sys.exit("remove %s first" % f)
    self_test()

    checked = skipped = failed = runs = 0
    for lineno, line in enumerate(open(EVAL, encoding="latin-1"), 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        cls, ro, sql, fields = fields_of(line)
        if ro != "ro":
            continue
        spec = fields.get("mode", "")
        version = re.search(r"v=(\d+)", spec)
        versioned = re.search(r"/\*M?!\d{5}", sql)
        eval_version = int(version.group(1)) if version else 101106
        if "mysql" in spec or (versioned and not versioned_same(sql, eval_version, server_id)):
            skipped += 1
            continue
        if re.match(r"(?i)\s*kill\b", sql):
            skipped += 1
            continue
        text = unescape(sql)
        bad = []
        for sql_mode, charset in modes_for(spec):
            runs += 1
            error, problems, _ = run_one(text, sql_mode, charset)
            if problems:
                bad.append("[sql_mode=%r %s] %s (error %s)" % (sql_mode, charset, "; ".join(problems), error))
        checked += 1
        if bad:
            failed += 1
            print("classify.eval:%d: %s" % (lineno, sql))
            for b in bad:
                print("    " + b)
    print("%d ro lines checked in %d runs, %d skipped, %d wrote" % (checked, runs, skipped, failed))

    # The other direction: where the table says a DELETE hidden after a
    # string or comment is a statement of its own (n=2), the server must run
    # it -- unless it rejects the first statement already (many of these
    # cut an identifier or an operator in two: the table only claims manx
    # refuses them).  These lines write, into the scratch database only.
    attacks = split = stopped = missed = 0
    for lineno, line in enumerate(open(EVAL, encoding="latin-1"), 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        cls, ro, sql, fields = fields_of(line)
        spec = fields.get("mode", "")
        if (ro != "rw" or fields.get("n") != "2" or "DELETE FROM t" not in sql or "amb" in fields or
                re.search(r"modeunknown|cs=unknown|cs=othermb|mysql|v=", spec) or re.search(r"/\*M?!\d{5}", sql) or
                not re.match(r"(?i)\s*(select|set)\b", sql)):
            continue
        for sql_mode, charset in modes_for(spec):
            attacks += 1
            error, problems, ran = run_one(unescape(sql), sql_mode, charset)
            if ran.get("Com_delete", 0) >= 1:
                split += 1
            elif error is not None:
                stopped += 1
            else:
                missed += 1
                print("classify.eval:%d: the server did not run the DELETE [sql_mode=%r %s]: %s" %
                      (lineno, sql_mode, charset, sql))
    print("%d runs of split-statement lines: the DELETE ran in %d, the server rejected the first statement "
          "in %d, %d disagree" % (attacks, split, stopped, missed))
    return 1 if failed or missed else 0


def versioned_same(sql, eval_version, server_version):
    """True when every versioned comment of sql runs (or not) alike for both versions."""
    for m in re.finditer(r"/\*(M?)!(\d{5,6})", sql):
        v = int(m.group(2))
        if (v <= eval_version) != (v <= server_version):
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
