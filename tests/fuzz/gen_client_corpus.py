#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/client (seed-* files).

The fuzz_client input format is described in tests/fuzz/fuzz_client.c; the
tables (commands, sizes, statements, row sizes) are read from that file so
the seeds cannot drift from the driver.  Seeds cover every command at the
size classes around manx's buffer boundaries, every login path and every
fake-backend misbehaviour.  Inputs found by fuzzing (crash-*, regress-*)
are kept next to them and not touched here.

Usage: tests/fuzz/gen_client_corpus.py [OUTDIR]
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = open(os.path.join(HERE, "fuzz_client.c")).read()


def c_array(name):
    m = re.search(r"\b" + name + r"\[\] = \{(.*?)\n\};", SRC, re.S)
    if not m:
        raise SystemExit("no table %s in fuzz_client.c" % name)
    return m.group(1)


def c_strings(name):
    body = c_array(name)
    out = []
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', body):
        out.append(lit.encode().decode("unicode_escape"))
    return out


def c_numbers(name):
    return [int(x, 0) for x in re.findall(r"0x[0-9A-Fa-f]+|\d+", c_array(name))]


CMD_TABLE = [t.strip() for t in c_array("cmd_table").replace("\n", " ").split(",") if t.strip()]
SMALL = c_numbers("small_sizes")
HUGE = c_numbers("huge_sizes")
SQL = c_strings("sql_dict")
ROWS = c_numbers("row_sizes")

COM = {
    "SLEEP": 0x00, "QUIT": 0x01, "INIT_DB": 0x02, "QUERY": 0x03, "FIELD_LIST": 0x04,
    "CREATE_DB": 0x05, "DROP_DB": 0x06, "REFRESH": 0x07, "SHUTDOWN": 0x08, "STATISTICS": 0x09,
    "PROCESS_INFO": 0x0A, "CONNECT": 0x0B, "PROCESS_KILL": 0x0C, "DEBUG": 0x0D, "PING": 0x0E,
    "TIME": 0x0F, "DELAYED_INSERT": 0x10, "CHANGE_USER": 0x11, "BINLOG_DUMP": 0x12,
    "TABLE_DUMP": 0x13, "CONNECT_OUT": 0x14, "REGISTER_SLAVE": 0x15, "STMT_PREPARE": 0x16,
    "STMT_EXECUTE": 0x17, "STMT_SEND_LONG_DATA": 0x18, "STMT_CLOSE": 0x19, "STMT_RESET": 0x1A,
    "SET_OPTION": 0x1B, "STMT_FETCH": 0x1C, "DAEMON": 0x1D, "BINLOG_DUMP_GTID": 0x1E,
    "RESET_CONNECTION": 0x1F, "STMT_BULK_EXECUTE": 0xFA,
}
BULK_FLAGS = c_numbers("bulk_flags")

HS = ["OK", "ERR", "STALL", "GARBAGE", "AUTH_ERR", "SWITCH", "CLOSE", "SETUP_ERR", "SHA2"]
FAULT = ["CLOSE", "ERR", "STALL", "GARBAGE", "HALF_CLOSE", "HALF_STALL"]
USERS = ["app", "ro", "sha", "nopw", "admin", "app@console", "admin@8066", "nobody"]
HOW = ["right", "right1", "wrongpw", "otherplugin", "ssl", "garbage", "no41", "raw"]
DBS = [None, "fz", "fzr", "dead", "nosuch", "FZ", "long", "fz-nodbflag"]


def script(hs="OK", hs_conn=0, r2_down=False, r2_suspect=False, dh1_standby=False, fault_at=0,
           fault="CLOSE", multi=False, warnings=False, gtid=0, row=1, split=0, ext=False, ext_believed=False):
    b0 = 0 if hs == "OK" else 0x80 + HS.index(hs)
    b1 = (7 if hs_conn == "all" else hs_conn) | (0x08 if r2_down else 0) | (0x10 if r2_suspect else 0) \
        | (0x20 if dh1_standby else 0) | (0x40 if ext else 0) | (0x80 if ext_believed else 0)
    b2 = 0 if not fault_at else 0x80 | (fault_at - 1)
    b3 = FAULT.index(fault) | (0x10 if multi else 0) | (0x20 if warnings else 0) | ({0: 0, -1: 2, None: 3}[gtid] << 6)
    return bytes([b0, b1, b2, b3, ROWS.index(row), split])


def login_bytes(user="app", how="right", slow=False, db="fz", no_multi=False, no_track=False,
                found_rows=False, attrs=False, gbk=False, garbage=b"", ext=False):
    b0 = USERS.index(user) | (HOW.index(how) << 3) | (0x40 if slow else 0) | (0x80 if ext else 0)
    b1 = DBS.index(db) | (0x08 if no_multi else 0) | (0x10 if no_track else 0) | (0x20 if found_rows else 0) \
        | (0x40 if attrs else 0) | (0x80 if gbk else 0)
    out = bytes([b0, b1])
    if how == "garbage":
        out += bytes([len(garbage)]) + garbage
    return out


def login(slot=0, **kw):
    return bytes([slot | (7 << 2)]) + login_bytes(**kw)


def size_sel(n):
    if n in SMALL:
        return SMALL.index(n)
    return 0xF0 + HUGE.index(n)


def cmd(slot, command, size=None, text=None, raw=None, fill=b" ", splits=(), seq=None, cut=None, after=0,
        cont=None, pipelined=False, stmt=1, args=b"", sel=None, bulk_flags=0x80):
    """One command op.  text: a sql_dict entry; raw: custom prefix bytes."""
    code = COM[command]
    name = "MX_COM_" + command
    csel = CMD_TABLE.index(name) if name in CMD_TABLE else 0xE0 + code
    prefix = bytes([code])
    extra = b""
    if sel is not None:
        tsel = sel
    elif raw is not None:
        tsel = 0xC0 | len(raw)
        extra = raw
        prefix += raw
    elif command == "STMT_BULK_EXECUTE":
        ids = [1, 2, 3, 0, 0xFFFFFFFF, 4, 1, 2]
        assert len(args) in (0, 16, 32)
        tsel = ids.index(stmt) | (BULK_FLAGS.index(bulk_flags) << 3) | ((len(args) // 16) << 6)
        extra = args
        prefix += stmt.to_bytes(4, "little") + bulk_flags.to_bytes(2, "little") + args
    elif command in ("QUERY", "STMT_PREPARE"):
        tsel = SQL.index(text if text is not None else "SELECT 1")
        prefix += SQL[tsel].encode()
    elif command.startswith("STMT_"):
        ids = [1, 2, 3, 0, 0xFFFFFFFF, 4, 1, 2]
        tsel = ids.index(stmt) | (len(args) << 3)
        extra = args
        prefix += stmt.to_bytes(4, "little") + args
    elif command == "INIT_DB":
        tsel = 0
        prefix += b"fz"
    elif command == "SET_OPTION":
        tsel = 0
        prefix += b"\x00\x00"
    elif command == "CHANGE_USER":
        tsel = 0
        prefix += b"x" * 51  # app, native auth, db fz, charset, plugin name
    else:
        tsel = 0
    if size is None:
        size = min([s for s in SMALL if s >= len(prefix)])
    flags = len(splits) | (4 if seq is not None else 0) | (8 if cut is not None else 0) | (after << 4) \
        | (0x40 if cont is not None else 0) | (0x80 if pipelined else 0)
    out = bytes([slot | (0 << 2), csel, size_sel(size), tsel, fill[0], flags]) + extra
    out += bytes(splits)
    if seq is not None:
        out += bytes([seq])
    if cut is not None:
        out += bytes([cut])
    if cont is not None:
        out += bytes([cont])
    return out


def wait(slot, ms):
    return bytes([slot | (5 << 2), ms - 1])


def close(slot):
    return bytes([slot | (6 << 2)])


def rawop(slot, data):
    return bytes([slot | (4 << 2), len(data)]) + data


def seeds():
    s = {}
    # Every command, small, logged in as app with schema fz.
    for name in COM:
        if name in ("QUIT",):
            continue
        s["cmd-%s" % name.lower()] = script() + login() + cmd(0, name) + cmd(0, "PING")
    s["cmd-quit"] = script() + login() + cmd(0, "QUIT")
    # Size classes for the commands manx answers or refuses itself, and the
    # forwarded ones (QUERY, PREPARE, EXECUTE).  The ones above 32 KiB are
    # the issue 8 "rpos past the buffer" class.
    for name, text in (("PING", None), ("INIT_DB", None), ("SET_OPTION", None), ("RESET_CONNECTION", None),
                       ("QUERY", "SELECT 1"), ("QUERY", "KILL CONNECTION 3"), ("STMT_PREPARE", "SELECT ?"),
                       ("STMT_EXECUTE", None)):
        for size in (1, 2, 16384, 16385, 32763, 32764, 32765, 40960):
            tag = "%s-%s-%d" % (name.lower(), (text or "").split(" ")[0].lower(), size)
            s["size-" + tag.replace("--", "-")] = script() + login() + cmd(0, name, size=size, text=text) + \
                cmd(0, "PING")
    # Bigger than MX_RESP_PEEK (16 KiB) but within the 32 KiB buffer, in two
    # pieces of 25,600 and 7,168 bytes: manx looks at a command once 16 KiB
    # of it are there, so the packet is not whole when it is answered (TCP
    # delivers 20 KB in pieces too).
    for name in ("PING", "RESET_CONNECTION", "INIT_DB", "SET_OPTION"):
        s["peek-%s-32764-split" % name.lower()] = script() + login() + \
            cmd(0, name, size=32764, splits=(200,)) + cmd(0, "PING")
    s["peek-ro-insert-32764-split"] = script() + login(user="ro") + \
        cmd(0, "QUERY", size=32764, text="INSERT INTO t VALUES (1)", splits=(200,)) + cmd(0, "PING")
    for size in (0, 1, 5, 100, 32764, 32765, 65536):
        s["size-query-select-%d" % size] = script() + login() + cmd(0, "QUERY", size=size, text="SELECT 1")
    # Huge packets: max_packet (4M) +- 1, 16 MB - 1, 16 MB + continuation.
    s["huge-query-4m"] = script() + login() + cmd(0, "QUERY", size=4194304, text="SELECT 1") + cmd(0, "PING")
    s["huge-query-4m+1"] = script() + login() + cmd(0, "QUERY", size=4194305, text="SELECT 1")
    s["huge-query-16m-1"] = script() + login() + cmd(0, "QUERY", size=0xFFFFFE, text="SELECT 1")
    s["huge-query-16m-cont"] = script() + login() + cmd(0, "QUERY", size=0xFFFFFF, text="SELECT 1", cont=11) + \
        cmd(0, "PING")
    s["huge-ping-16m-cont"] = script() + login() + cmd(0, "PING", size=0xFFFFFF, cont=0)
    s["huge-prepare-1m"] = script() + login() + cmd(0, "STMT_PREPARE", size=1048577, text="SELECT ?") + \
        cmd(0, "PING")
    s["huge-prepare-1m+1"] = script() + login() + cmd(0, "STMT_PREPARE", size=1048578, text="SELECT ?") + \
        cmd(0, "PING")
    # Readonly user: refused statements, small and bulk-insert sized.
    s["ro-insert-small"] = script() + login(user="ro") + cmd(0, "QUERY", text="INSERT INTO t VALUES (1)") + \
        cmd(0, "PING")
    s["ro-insert-40k"] = script() + login(user="ro") + \
        cmd(0, "QUERY", size=40960, text="INSERT INTO t VALUES (1)") + cmd(0, "PING")
    s["ro-select-fz-qualified"] = script() + login(user="ro") + cmd(0, "QUERY", text="SELECT * FROM mysql.user")
    # Login paths.
    for user in USERS:
        for how in HOW:
            if how in ("right1",):
                continue
            kw = {}
            if how == "garbage":
                kw["garbage"] = b"\x00\x02\x00\x00garbage"
            s["login-%s-%s" % (user.replace("@", "-at-"), how)] = script() + login(user=user, how=how, **kw) + \
                cmd(0, "QUERY", text="SELECT 1")
    s["login-sha-twice"] = script() + login(user="sha") + close(0) + login(user="sha") + cmd(0, "PING")
    s["login-attrs-gbk"] = script() + login(attrs=True, gbk=True, found_rows=True) + cmd(0, "QUERY")
    s["login-no-track"] = script() + login(no_track=True, no_multi=True, db="fzr") + \
        cmd(0, "QUERY", text="INSERT INTO t VALUES (1)") + cmd(0, "QUERY", text="SELECT 1")
    s["login-too-many"] = script() + login(0) + login(1) + login(2) + cmd(2, "PING")
    s["admin-console"] = script() + login(user="admin") + b"".join(
        cmd(0, "QUERY", text=t) for t in SQL if "@@" in t) + cmd(0, "PING") + cmd(0, "INIT_DB") + \
        cmd(0, "STATISTICS")
    # Backend handshake and command faults.
    for hs in HS[1:]:
        s["backend-hs-%s" % hs.lower()] = script(hs=hs) + login() + cmd(0, "QUERY") + cmd(0, "PING") + \
            cmd(0, "QUERY")
    for fault in FAULT:
        for at in (2, 3):
            s["backend-fault-%s-%d" % (fault.lower(), at)] = script(fault_at=at, fault=fault) + login() + \
                cmd(0, "QUERY", text="SET @a = 1") + cmd(0, "QUERY", text="SELECT 1") + cmd(0, "PING")
    s["backend-dead"] = script() + login(db="dead") + cmd(0, "QUERY") + cmd(0, "QUERY", size=40960)
    s["backend-split"] = script(split=3, row=40000) + login() + cmd(0, "QUERY") + cmd(0, "QUERY")
    s["backend-row-peek"] = script(row=16380) + login() + cmd(0, "QUERY") + cmd(0, "QUERY")
    s["backend-row-16m-exact"] = script(row=0xFFFFFB) + login() + cmd(0, "QUERY") + cmd(0, "PING")
    s["backend-row-16m+1"] = script(row=0xFFFFFC) + login() + cmd(0, "QUERY") + cmd(0, "PING")
    s["backend-slow-client"] = script(row=1048576) + login(slow=True) + cmd(0, "QUERY") + cmd(0, "PING")
    s["backend-multi-warn"] = script(multi=True, warnings=True) + login() + \
        cmd(0, "QUERY", text="SELECT 1; SELECT 2") + cmd(0, "QUERY", text="SHOW WARNINGS")
    # Two sessions: pool wait on max_con = 1 (dh1), KILL across sessions.
    s["pool-wait"] = script() + login(0) + login(1) + cmd(0, "QUERY", text="BEGIN") + \
        cmd(1, "QUERY", text="SELECT 1") + wait(0, 30) + cmd(0, "QUERY", text="COMMIT") + cmd(1, "PING")
    s["pool-wait-40k"] = script() + login(0) + login(1) + cmd(0, "QUERY", text="BEGIN") + \
        cmd(1, "QUERY", size=40960, text="SELECT 1") + wait(0, 30) + cmd(1, "PING")
    s["kill-other"] = script(fault_at=3, fault="STALL") + login(0) + login(1) + \
        cmd(0, "QUERY", text="SELECT 1", pipelined=True) + cmd(1, "QUERY", text="KILL QUERY 2") + \
        cmd(1, "QUERY", text="KILL 2") + cmd(1, "PING")
    # Session state and its replay on another backend.
    s["replay-fzr"] = script(gtid=0) + login(db="fzr") + cmd(0, "QUERY", text="SET @a = 1") + \
        cmd(0, "QUERY", text="INSERT INTO t VALUES (1)") + cmd(0, "QUERY", text="SELECT 1") + \
        cmd(0, "QUERY", text="SET NAMES gbk") + cmd(0, "QUERY", text="SELECT LAST_INSERT_ID()")
    s["replay-gtid-timeout"] = script(gtid=-1) + login(db="fzr") + \
        cmd(0, "QUERY", text="INSERT INTO t VALUES (1)") + cmd(0, "QUERY", text="SELECT 1")
    s["replay-fail"] = script(fault_at=4, fault="ERR") + login(db="fzr") + cmd(0, "QUERY", text="USE fz") + \
        cmd(0, "QUERY", text="SET SESSION wait_timeout = 10") + cmd(0, "QUERY", text="SELECT 1") + \
        cmd(0, "QUERY", text="INSERT INTO t VALUES (1)") + cmd(0, "PING")
    # A 40 KB read whose state replay on the replica fails (ERR, then the
    # backend closing): the issue's "on replay failure" and "lost during
    # replay" paths.
    for fault in ("ERR", "CLOSE"):
        s["replay-%s-40k" % fault.lower()] = script(fault_at=5, fault=fault) + login(db="fzr") + \
            cmd(0, "QUERY", text="SET SESSION wait_timeout = 10") + cmd(0, "QUERY", size=40960, text="SELECT 1") + \
            cmd(0, "PING")
    s["prepared"] = script() + login() + cmd(0, "STMT_PREPARE", text="select * from t where id = ?") + \
        cmd(0, "STMT_EXECUTE", args=b"\x00\x01\x00\x00\x00\x00\x01\x03\x00\x07\x00\x00\x00") + \
        cmd(0, "STMT_EXECUTE", args=b"\x01\x01\x00\x00\x00\x00\x00") + \
        cmd(0, "STMT_FETCH", args=b"\x10\x00\x00\x00") + cmd(0, "STMT_SEND_LONG_DATA", args=b"\x00\x00abc") + \
        cmd(0, "STMT_RESET") + cmd(0, "STMT_CLOSE") + cmd(0, "STMT_EXECUTE")
    s["infile"] = script() + login() + cmd(0, "QUERY", text="LOAD DATA LOCAL INFILE 'x' INTO TABLE t") + \
        rawop(0, b"\x03\x00\x00\x02a,b\x00\x00\x00\x03") + cmd(0, "PING")
    s["pinning"] = script() + login(db="fzr") + cmd(0, "QUERY", text="SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1") + \
        cmd(0, "QUERY", text="SELECT FOUND_ROWS()") + cmd(0, "QUERY", text="CREATE TEMPORARY TABLE tt (a int)") + \
        cmd(0, "QUERY", text="SET autocommit = 0") + cmd(0, "QUERY", text="SELECT 1") + \
        cmd(0, "RESET_CONNECTION") + cmd(0, "CHANGE_USER", sel=1) + cmd(0, "QUERY", text="SELECT 1")
    # Packets cut short, split in pieces, with wrong sequence ids.
    s["cut-then-close"] = script() + login() + cmd(0, "QUERY", size=40960, cut=100, after=1)
    s["cut-then-idle"] = script() + login() + cmd(0, "QUERY", size=1000, cut=3, after=2)
    s["cut-then-more"] = script() + login() + cmd(0, "QUERY", size=100, cut=128, after=0) + cmd(0, "PING")
    s["split-header"] = script() + login() + cmd(0, "QUERY", size=100, splits=(1, 3, 5)) + cmd(0, "PING")
    s["split-big"] = script() + login() + cmd(0, "QUERY", size=65536, splits=(2, 128, 200)) + cmd(0, "PING")
    s["bad-seq"] = script() + login() + cmd(0, "PING", seq=5)
    s["pipelined"] = script() + login() + cmd(0, "QUERY", pipelined=True) + cmd(0, "PING", pipelined=True) + \
        cmd(0, "QUERY", text="SET @a = 1", pipelined=True) + cmd(0, "QUERY")
    s["raw-login"] = script() + login(how="raw") + rawop(0, b"\x01\x00\x00\x01\x00") + cmd(0, "PING")
    s["hint"] = script() + login(db="fzr") + cmd(0, "QUERY", text="/*!mycat:db_type=master*/ SELECT 1") + \
        cmd(0, "QUERY", text="/*#mycat:db_type=slave*/ SELECT 1", size=40960)
    # MariaDB's extended capabilities: bulk execute (types, none, flags
    # nobody defined, sizes around its 7-byte header and the buffers), the
    # extended column definitions in manx's own result sets, and a greeting
    # that offered them to a client whose backend then does not have them.
    two_rows = b"\x03\x00\x03\x00" + b"\x00\x01\x00\x00\x00\x00\x02\x00\x00\x00" + b"\x00\x03"
    ext = dict(ext=True)
    prep = cmd(0, "STMT_PREPARE", text="insert into t values (?, ?)")
    s["bulk-insert"] = script(**ext) + login(**ext) + prep + \
        cmd(0, "STMT_BULK_EXECUTE", args=two_rows) + cmd(0, "STMT_BULK_EXECUTE", bulk_flags=0, args=two_rows[4:] + b"\0\0\0\0") + \
        cmd(0, "STMT_EXECUTE", args=b"\x00\x01\x00\x00\x00\x00\x00") + cmd(0, "PING")
    for f in sorted(set(BULK_FLAGS)):
        s["bulk-flags-%04x" % f] = script(**ext) + login(**ext) + prep + \
            cmd(0, "STMT_BULK_EXECUTE", bulk_flags=f, args=two_rows) + cmd(0, "PING")
    for size in (1, 5, 6, 7, 8, 16384, 16385, 32764, 40960):
        s["bulk-size-%d" % size] = script(**ext) + login(**ext) + prep + \
            cmd(0, "STMT_BULK_EXECUTE", size=size, args=two_rows) + cmd(0, "PING")
    s["bulk-unknown-stmt"] = script(**ext) + login(**ext) + cmd(0, "STMT_BULK_EXECUTE", stmt=4) + cmd(0, "PING")
    s["bulk-not-negotiated"] = script(**ext) + login() + prep + cmd(0, "STMT_BULK_EXECUTE", args=two_rows) + \
        cmd(0, "PING")
    s["bulk-ro"] = script(**ext) + login(user="ro", **ext) + cmd(0, "STMT_PREPARE", text="select * from t where id = ?") + \
        cmd(0, "STMT_BULK_EXECUTE", args=two_rows) + cmd(0, "PING")
    s["bulk-replica-replay"] = script(**ext) + login(db="fzr", **ext) + cmd(0, "QUERY", text="SET @a = 1") + prep + \
        cmd(0, "STMT_BULK_EXECUTE", args=two_rows) + cmd(0, "QUERY", text="SELECT 1")
    s["ext-types-local"] = script(**ext) + login(**ext) + cmd(0, "QUERY", text="SHOW DATABASES") + \
        cmd(0, "QUERY", text="SELECT 1") + cmd(0, "QUERY", text="SELECT DATABASE()")
    s["ext-types-console"] = script(**ext) + login(user="admin", **ext) + cmd(0, "QUERY", text="show @@version")
    s["ext-believed-not-offered"] = script(ext_believed=True) + login(**ext) + cmd(0, "QUERY") + \
        cmd(0, "STMT_BULK_EXECUTE", args=two_rows) + cmd(0, "PING")
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "client")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.startswith("seed-"):
            os.unlink(os.path.join(out, name))
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
