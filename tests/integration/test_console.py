"""The operators' console (issue 11) as scripts written for Mycat use it: the
`mariadb` command-line client on admin_listen, batch output parsed by
column name.  Mycat 1.6's columns come first in Mycat's order; counters move
with traffic through the client port; kill, offline/online and reload act
on real sessions; digests fold statements that differ only in values."""

import re
import subprocess

import pymysql
import pytest

from conftest import poll, sync_pair, wait_hosts_up

pytestmark = pytest.mark.manx_only

ADMIN = "\n[admin]\nuser = admin\npassword = admin\n"

MYCAT = {
    "show @@datasource": ["DATANODE", "NAME", "TYPE", "HOST", "PORT", "W/R", "ACTIVE", "IDLE", "SIZE",
                          "EXECUTE", "READ_LOAD", "WRITE_LOAD"],
    "show @@heartbeat": ["NAME", "TYPE", "HOST", "PORT", "RS_CODE", "RETRY", "STATUS", "TIMEOUT",
                         "EXECUTE_TIME", "LAST_ACTIVE_TIME", "STOP"],
    "show @@datanode": ["NAME", "DATHOST", "INDEX", "TYPE", "ACTIVE", "IDLE", "SIZE", "EXECUTE",
                        "TOTAL_TIME", "MAX_TIME", "MAX_SQL", "RECOVERY_TIME"],
    "show @@database": ["DATABASE"],
    "show @@backend": ["processor", "id", "mysqlId", "host", "port", "l_port", "net_in", "net_out", "life",
                       "closed", "borrowed", "SEND_QUEUE", "schema", "charset", "txlevel", "autocommit"],
    "show @@connection": ["PROCESSOR", "ID", "HOST", "PORT", "LOCAL_PORT", "USER", "SCHEMA", "CHARSET",
                          "NET_IN", "NET_OUT", "ALIVE_TIME(S)", "RECV_BUFFER", "SEND_QUEUE", "txlevel",
                          "autocommit"],
    "show @@sql": ["ID", "USER", "START_TIME", "EXECUTE_TIME", "SQL"],
    "show @@sql.slow": ["USER", "START_TIME", "EXECUTE_TIME", "SQL"],
    "show @@server": ["UPTIME", "USED_MEMORY", "TOTAL_MEMORY", "MAX_MEMORY", "RELOAD_TIME", "ROLLBACK_TIME",
                      "CHARSET", "STATUS"],
    "show @@version": ["VERSION"],
    "show @@processor": ["NAME", "NET_IN", "NET_OUT", "REACT_COUNT", "R_QUEUE", "W_QUEUE", "FREE_BUFFER",
                         "TOTAL_BUFFER", "BU_PERCENT", "BU_WARNS", "FC_COUNT", "BC_COUNT"],
    "show @@threadpool": ["NAME", "POOL_SIZE", "ACTIVE_COUNT", "TASK_QUEUE_SIZE", "COMPLETED_TASK",
                          "TOTAL_TASK"],
    "show @@digest": ["DIGEST", "SQL", "COUNT", "ERRORS", "TOTAL_TIME", "AVG_TIME", "MAX_TIME", "P99_TIME",
                      "ROWS_SENT", "WRITER", "READER"],
}


def console(m, sql, ok=True):
    """Runs sql with the mariadb CLI on the console in batch mode (tab
    separated, a header line); returns (columns, [row dicts]) or, with
    ok=False, the CompletedProcess of a statement expected to fail."""
    r = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(m.admin_port), "-u", "admin",
                        "-padmin", "--connect-timeout=10", "-B", "-e", sql],
                       capture_output=True, text=True, timeout=30)
    if not ok:
        assert r.returncode != 0, r.stdout
        return r
    assert r.returncode == 0, (sql, r.stderr)
    lines = r.stdout.rstrip("\n").split("\n") if r.stdout.strip() else []
    if not lines and sql.lower().startswith("show"):
        # The CLI prints no header for an empty result: ask for the columns.
        c = pymysql.connect(host="127.0.0.1", port=m.admin_port, user="admin", password="admin",
                            connect_timeout=10, read_timeout=30)
        with c.cursor() as cur:
            cur.execute(sql)
            cols = [d[0] for d in cur.description or ()]
        c.close()
        return cols, []
    if not lines:
        return [], []           # OK: the CLI prints nothing
    cols = lines[0].split("\t")
    rows = [dict(zip(cols, line.split("\t"))) for line in lines[1:]]
    for row in rows:
        assert len(row) == len(cols), (sql, lines)
    return cols, rows


def run(c, sql, args=None):
    with c.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


@pytest.fixture
def m(manx):
    # balance = 1: reads go to the standby writeHost and the readHosts, so
    # READ_LOAD and WRITE_LOAD tell the two apart.
    m = manx(users_extra=ADMIN, datahost_extra={"balance": 1}, manx_extra={"log_level": "info"})
    wait_hosts_up(m, ["hostM1", "hostM2", "hostS1", "hostS2"])
    return m


def test_every_command_has_mycats_columns_in_order(m):
    c = m.connect()
    run(c, "SELECT 1")
    for sql, want in MYCAT.items():
        cols, _ = console(m, sql)
        assert cols[:len(want)] == want, (sql, cols)
    # Spaces, case and a trailing ';' do not matter; unknown commands list
    # what exists.
    assert console(m, "  SHOW   @@Version ;")[1][0]["VERSION"].startswith("manx ")
    r = console(m, "show @@nonsense", ok=False)
    assert "ERROR 1064" in r.stderr and "show @@connection" in r.stderr and "kill @@connection" in r.stderr
    c.close()


def host_row(m, name):
    return next(r for r in console(m, "show @@datasource")[1] if r["NAME"] == name)


def test_datasource_counters_move_with_traffic(m, table):
    c = m.connect()
    before_m1 = host_row(m, "hostM1")
    assert before_m1["W/R"] == "W" and before_m1["TYPE"] == "mysql" and before_m1["HOST"] == "127.0.0.1"
    assert before_m1["PORT"] == str(m.pair.port1) and before_m1["DATANODE"]
    run(c, f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v VARCHAR(20))")
    for i in range(5):
        run(c, f"INSERT INTO `{table}` VALUES (%s, 'x')", (i,))
    # Published on the workers' janitor tick.
    assert poll(lambda: int(host_row(m, "hostM1")["WRITE_LOAD"]) >= int(before_m1["WRITE_LOAD"]) + 6, 5), \
        host_row(m, "hostM1")
    after = host_row(m, "hostM1")
    assert int(after["EXECUTE"]) == int(after["READ_LOAD"]) + int(after["WRITE_LOAD"])
    readers = ["hostM2", "hostS1", "hostS2"]
    reads0 = sum(int(host_row(m, h)["READ_LOAD"]) for h in readers)
    for _ in range(6):
        run(c, "SELECT 1 FROM DUAL")
    assert poll(lambda: sum(int(host_row(m, h)["READ_LOAD"]) for h in readers) >= reads0 + 6, 5)
    # Reads never count as writes on a reader.
    assert all(host_row(m, h)["WRITE_LOAD"] == "0" for h in readers)
    _, dn = console(m, "show @@datanode")
    main = next(r for r in dn if r["NAME"] == before_m1["DATANODE"])
    assert main["DATHOST"] == "localhost1" and main["INDEX"] == "0" and int(main["EXECUTE"]) >= 12
    assert main["RECOVERY_TIME"] == "-1" and main["MAX_SQL"]
    c.close()


def test_connection_and_backend_rows(m):
    a, b = m.connect(), m.connect()
    ida, idb = a.thread_id(), b.thread_id()
    run(a, "BEGIN")
    run(a, "SELECT 1")      # pins a backend while the transaction is open

    def rows():
        return {int(r["ID"]): r for r in console(m, "show @@connection")[1]}

    assert poll(lambda: {ida, idb} <= set(rows()) and rows()[ida]["BACKEND"].startswith("S-"), 5), rows()
    r = rows()[ida]
    assert r["USER"] == "root" and r["SCHEMA"] == "aiurt-platform" and r["HOST"] == "127.0.0.1"
    assert r["LOCAL_PORT"] == str(m.port) and r["PROCESSOR"].startswith("Processor")
    assert int(r["NET_IN"]) > 0 and int(r["NET_OUT"]) > 0 and r["autocommit"] == "true"
    assert r["KIND"] == "client" and r["CHARSET"]
    backend_id = int(rows()[ida]["BACKEND"][2:])
    _, be = console(m, "show @@backend")
    mine = next(x for x in be if int(x["id"]) == backend_id)
    assert mine["borrowed"] == "true" and mine["CLIENT"] == f"C-{ida}" and mine["closed"] == "false"
    assert mine["host"] == "127.0.0.1" and mine["port"] == str(m.pair.port1) and int(mine["mysqlId"]) > 0
    assert int(mine["l_port"]) > 0 and int(mine["net_in"]) > 0 and mine["schema"] == "aiurt_platform"
    # ID is manx's session id, as the handshake and CONNECTION_ID() give it.
    assert int(run(a, "SELECT CONNECTION_ID()")[0][0]) == ida
    run(a, "COMMIT")
    assert poll(lambda: rows()[ida]["BACKEND"] == "", 5)
    a.close()
    b.close()
    assert poll(lambda: not ({ida, idb} & set(rows())), 5)


def test_kill_closes_sessions_on_any_worker(m):
    # The kernel hands connections to whichever worker accepts first:
    # connect until both workers hold one, so the kill crosses workers
    # (the console runs on worker 0).
    clients, where = [], {}
    while len(set(where.values())) < 2 and len(clients) < 64:
        c = m.connect()
        clients.append(c)
        assert poll(lambda: str(c.thread_id()) in {r["ID"] for r in console(m, "show @@connection")[1]}, 5)
        # Only our clients: the console's own session is listed too.
        mine = {c.thread_id() for c in clients}
        where.update({int(r["ID"]): r["PROCESSOR"] for r in console(m, "show @@connection")[1]
                      if int(r["ID"]) in mine})
    other = next(c for c in clients if where[c.thread_id()] == "Processor1")
    clients.remove(other)
    clients = [clients[0], other, clients[1] if len(clients) > 1 else m.connect(), m.connect()]
    ids = [c.thread_id() for c in clients]
    assert poll(lambda: {str(i) for i in ids} <= {r["ID"] for r in console(m, "show @@connection")[1]}, 5)
    console(m, "kill @@connection %d, %d,%d" % tuple(ids[:3]))
    for c in clients[:3]:
        with pytest.raises(pymysql.err.OperationalError):
            run(c, "SELECT 1")
    assert run(clients[3], "SELECT 2") == ((2,),)
    assert poll(lambda: not ({str(i) for i in ids[:3]} & {r["ID"] for r in console(m, "show @@connection")[1]}), 5)
    # Unknown or malformed ids: nothing is killed.
    for bad in ("kill @@connection 999999", "kill @@connection %d,x" % ids[3], "kill @@connection"):
        assert "ERROR" in console(m, bad, ok=False).stderr
    assert run(clients[3], "SELECT 3") == ((3,),)
    clients[3].close()


def test_offline_refuses_new_clients_and_online_takes_them_again(m):
    keep = m.connect()
    console(m, "offline")
    assert console(m, "show @@server")[1][0]["STATUS"] == "OFF"
    with pytest.raises(pymysql.err.OperationalError) as ei:
        m.connect()
    assert ei.value.args[0] == 1053, ei.value
    r = m.cli("SELECT 1")
    assert r.returncode != 0 and "offline" in r.stderr, r.stderr
    # The open session goes on; the console stays reachable.
    assert run(keep, "SELECT 1 + 1") == ((2,),)
    console(m, "online")
    assert console(m, "show @@server")[1][0]["STATUS"] == "ON"
    c = m.connect()
    assert run(c, "SELECT 3") == ((3,),)
    c.close()
    keep.close()


def test_reload_good_and_bad_files_while_a_client_stays(m):
    keep = m.connect()
    good = m.config.read_text()
    before = console(m, "show @@server")[1][0]["RELOAD_TIME"]
    with pytest.raises(pymysql.err.OperationalError):
        m.connect(user="newbie", password="nb123")
    m.config.write_text(good + "\n[user newbie]\npassword = nb123\nschemas = aiurt-platform\n")
    console(m, "reload @@config")
    c = m.connect(user="newbie", password="nb123")
    assert run(c, "SELECT 1") == ((1,),)
    c.close()
    assert int(console(m, "show @@server")[1][0]["RELOAD_TIME"]) > int(before)
    assert run(keep, "SELECT 2") == ((2,),)
    # A syntax error: ERR with file:line, nothing changes.
    bad = good.replace("[user test]\n", "[user test]\nthis line is not ini\n", 1)
    line = bad.splitlines().index("this line is not ini") + 1
    m.config.write_text(bad)
    r = console(m, "reload @@config_all", ok=False)
    assert re.search(rf"ERROR 1105 .*reload refused.*manx\.ini:{line}:", r.stderr), r.stderr
    c = m.connect(user="newbie", password="nb123")      # the running generation stays
    c.close()
    assert run(keep, "SELECT 3") == ((3,),)
    keep.close()


def test_sql_slow_and_digests(m, table):
    c = m.connect()
    console(m, "reset @@digest")
    run(c, f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v VARCHAR(20))")
    run(c, f"INSERT INTO `{table}` VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    run(c, f"INSERT INTO `{table}` VALUES (4, 'd')")
    sync_pair(m.pair)   # the reads below go to replicas: they must have the rows
    run(c, f"SELECT * FROM `{table}` WHERE id IN (1, 2, 3)")
    run(c, f"select *  from `{table}`\n where id in (4) /* note */")
    run(c, f"SELECT v FROM `{table}` WHERE v = 'a' AND id > 0")
    with pytest.raises(pymysql.err.MySQLError):
        run(c, f"SELECT nosuchcolumn FROM `{table}` WHERE id = 7")
    console(m, "reload @@sqlslow = 40")
    run(c, "SELECT SLEEP(0.1)")
    run(c, "SELECT 5")
    t = table.lower()
    want = {
        f"insert into {t} values (?, ?)": dict(COUNT="2", WRITER="2", READER="0"),
        f"select * from {t} where id in (?)": dict(COUNT="2", ROWS_SENT="4", READER="2", WRITER="0"),
        f"select v from {t} where v = ? and id > ?": dict(COUNT="1", ROWS_SENT="1"),
        f"select nosuchcolumn from {t} where id = ?": dict(COUNT="1", ERRORS="1"),
        "select sleep(?)": dict(COUNT="1"),
    }

    def digests():
        return {r["SQL"]: r for r in console(m, "show @@digest")[1]}

    assert poll(lambda: set(want) <= set(digests()), 5), digests()
    d = digests()
    for sql, fields in want.items():
        for k, v in fields.items():
            assert d[sql][k] == v, (sql, k, d[sql])
    s = d["select sleep(?)"]
    assert 100 <= float(s["TOTAL_TIME"]) == float(s["MAX_TIME"]) and float(s["P99_TIME"]) >= 100, s
    # Most total time first.
    times = [float(r["TOTAL_TIME"]) for r in console(m, "show @@digest")[1]]
    assert times == sorted(times, reverse=True)

    _, recent = console(m, "show @@sql")
    assert recent[0]["SQL"] == "SELECT 5" and recent[1]["SQL"] == "SELECT SLEEP(0.1)", recent[:3]
    assert recent[0]["USER"] == "root" and int(recent[1]["EXECUTE_TIME"]) >= 100
    assert [int(r["ID"]) for r in recent] == list(range(1, len(recent) + 1))
    assert int(recent[0]["START_TIME"]) >= int(recent[1]["START_TIME"]) > 1_600_000_000_000
    _, slow = console(m, "show @@sql.slow")
    assert [r["SQL"] for r in slow] == ["SELECT SLEEP(0.1)"], slow
    console(m, "reset @@digest")
    assert console(m, "show @@digest")[1] == []
    for bad in ("reload @@sqlslow = x", "reload @@sqlslow"):
        assert "usage" in console(m, bad, ok=False).stderr
    c.close()


def test_server_processor_threadpool_values(m):
    c = m.connect()
    _, procs = console(m, "show @@processor")
    assert [p["NAME"] for p in procs] == ["Processor0", "Processor1"]
    react0 = sum(int(p["REACT_COUNT"]) for p in procs)
    for i in range(5):
        run(c, "SELECT %s", (i,))
    assert poll(lambda: sum(int(p["REACT_COUNT"]) for p in console(m, "show @@processor")[1]) >= react0 + 5, 5)
    procs = console(m, "show @@processor")[1]
    assert sum(int(p["NET_IN"]) for p in procs) > 0 and sum(int(p["FC_COUNT"]) for p in procs) >= 1
    _, pool = console(m, "show @@threadpool")
    assert [p["NAME"] for p in pool] == ["worker-0", "worker-1", "heartbeat"]
    assert int(pool[-1]["COMPLETED_TASK"]) > 0
    s = console(m, "show @@server")[1][0]
    assert re.fullmatch(r"\d+d \d+h \d+m \d+s", s["UPTIME"]) and s["STATUS"] == "ON"
    assert 0 < int(s["USED_MEMORY"]) <= int(s["TOTAL_MEMORY"])
    assert s["MAX_MEMORY"] == "-1" or int(s["MAX_MEMORY"]) >= int(s["TOTAL_MEMORY"])
    assert s["ROLLBACK_TIME"] == "-1" and s["CHARSET"]
    c.close()


COORDINATION = ["INSTANCE", "DATAHOST", "MODE", "STATE", "DECIDER", "I_DECIDE", "WRITER", "WRITER_INDEX",
                "WRITER_REV", "WRITER_VIEW", "LOST_S", "SWITCHES_APPLIED", "PROPOSALS_WON", "PROPOSALS_LOST",
                "FENCE", "FENCE_STATE", "NOTE"]


def test_coordination_alone(m):
    """coordination = none: one row per dataHost, the instance decides alone
    and WRITER is where its writes go; listed in show @@help."""
    cols, rows = console(m, "show @@coordination")
    assert cols == COORDINATION
    assert len(rows) == 1, rows
    r = rows[0]
    assert r["DATAHOST"] == "localhost1" and r["MODE"] == "none" and r["STATE"] == "ALONE", r
    assert r["INSTANCE"] and r["DECIDER"] == r["INSTANCE"] and r["I_DECIDE"] == "1", r
    assert (r["WRITER"], r["WRITER_INDEX"], r["WRITER_REV"], r["WRITER_VIEW"]) == ("hostM1", "0", "0", "UP"), r
    assert (r["LOST_S"], r["SWITCHES_APPLIED"], r["PROPOSALS_LOST"]) == ("0.0", "0", "0"), r
    assert (r["FENCE"], r["FENCE_STATE"], r["NOTE"]) == ("none", "", ""), r
    assert r["WRITER"] == console(m, "show @@datahost")[1][0]["ACTIVE_WRITEHOST"]
    helps = {row["STATEMENT"] for row in console(m, "show @@help")[1]}
    assert "show @@coordination" in helps
