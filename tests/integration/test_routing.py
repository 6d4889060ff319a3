"""Read/write splitting against the real pair: Mycat's balance values,
writes and transactions on the writer, START TRANSACTION READ ONLY on a
reader, hints, readonly users, and statements that must stay on the backend
of the statement before them.  Which host served a statement is read from
manx's debug log ("READ -> S-3 hostS1 ..."), since hostS2 and hostM1 are
the same server."""

import re
import time

import pytest

pytestmark = pytest.mark.manx_only

ROUTE_RE = re.compile(r"C-(\d+) \S+ db=\S*: (READ|WRITE|SESSION|-) -> S-\d+ (\w+) ")


def routes(m, since=0):
    """[(class, host)] of the statements logged after byte offset `since`."""
    return [(mm.group(2), mm.group(3)) for mm in ROUTE_RE.finditer(m.log()[since:])]


def run(m, sqls, **kw):
    c = m.connect(**kw)
    out = []
    with c.cursor() as cur:
        for q in sqls:
            cur.execute(q)
            out.append(cur.fetchall())
    c.close()
    return out


def wait_up(m, hosts, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        log = m.log()
        if all(f"host {h} " in log and f"host {h} " in log and "is UP" in log for h in hosts):
            ups = [h for h in hosts if re.search(rf"host {h} \S+ is UP", log)]
            if len(ups) == len(hosts):
                return
        time.sleep(0.05)


ALL = ["hostM1", "hostS1", "hostM2", "hostS2"]


@pytest.mark.parametrize("balance,allowed", [
    (0, {"hostM1"}),
    (1, {"hostS1", "hostM2", "hostS2"}),
    (2, {"hostM1", "hostS1", "hostM2", "hostS2"}),
    (3, {"hostS1"}),
])
def test_balance(manx, balance, allowed):
    m = manx(datahost_extra={"balance": balance})
    wait_up(m, ALL)
    mark = len(m.log())
    # Concurrent sessions so least-outstanding and rotation both show.
    conns = [m.connect() for _ in range(3)]
    for _ in range(10):
        for c in conns:
            with c.cursor() as cur:
                cur.execute("SELECT 1")
                assert cur.fetchone() == (1,)
    for c in conns:
        c.close()
    seen = {h for cls, h in routes(m, mark) if cls in ("READ", "-")}
    assert seen, m.log()[-2000:]
    assert seen <= allowed, seen
    if balance in (1, 2):
        assert len(seen) >= 2, f"reads not spread: {seen}"


def test_writes_and_transactions_go_to_writer(manx, table):
    m = manx(datahost_extra={"balance": 1})
    wait_up(m, ALL)
    c = m.connect()
    mark = len(m.log())
    with c.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
        cur.execute(f"INSERT INTO `{table}`(v) VALUES (1)")
        rowid = cur.lastrowid
        cur.execute("SELECT LAST_INSERT_ID()")
        assert cur.fetchone()[0] == rowid
        cur.execute("BEGIN")
        cur.execute(f"SELECT v FROM `{table}` WHERE id = 1 FOR UPDATE")
        cur.execute(f"SELECT COUNT(*) FROM `{table}`")
        cur.execute("COMMIT")
        r = routes(m, mark)
        assert [h for _, h in r] == ["hostM1"] * len(r), r
        # A plain read goes to a replica (a few tries: on a loaded machine a
        # heartbeat may be late and keep the replicas out for a moment).
        mark = len(m.log())
        for _ in range(5):
            cur.execute(f"SELECT COUNT(*) FROM `{table}`")
            if any(h != "hostM1" for _, h in routes(m, mark)):
                break
            time.sleep(0.5)
    assert any(h != "hostM1" for _, h in routes(m, mark)), routes(m, mark)
    c.close()


def test_autocommit_off_reads_on_writer(manx):
    m = manx(datahost_extra={"balance": 1})
    wait_up(m, ALL)
    c = m.connect(autocommit=False)
    mark = len(m.log())
    with c.cursor() as cur:
        for _ in range(3):
            cur.execute("SELECT 1")
    c.commit()
    c.close()
    hosts = {h for cls, h in routes(m, mark) if cls == "READ"}
    assert hosts == {"hostM1"}, routes(m, mark)


def test_read_only_transaction_on_one_reader(manx):
    m = manx(datahost_extra={"balance": 1})
    wait_up(m, ALL)
    c = m.connect()
    mark = len(m.log())
    with c.cursor() as cur:
        cur.execute("START TRANSACTION READ ONLY")
        cur.execute("SELECT 1")
        cur.execute("SELECT 2")
        cur.execute("COMMIT")
    c.close()
    hosts = [h for _, h in routes(m, mark)]
    assert len(hosts) == 4 and len(set(hosts)) == 1 and hosts[0] != "hostM1", hosts


@pytest.mark.parametrize("balance", [0, 1])
def test_hints_pick_side_and_are_stripped(manx, balance):
    m = manx(datahost_extra={"balance": balance})
    wait_up(m, ALL)
    mark = len(m.log())
    out = run(m, ["/*!mycat:db_type=master*/ SELECT 'm'",
                  "/*#mycat:db_type=slave*/ SELECT 's'",
                  "/*!manx:db_type=master*/SELECT 'x'"])
    assert out == [(("m",),), (("s",),), (("x",),)]
    hosts = [h for _, h in routes(m, mark)]
    assert hosts[0] == "hostM1" and hosts[2] == "hostM1", hosts
    if balance == 1:
        assert hosts[1] != "hostM1", hosts
    # The server never saw the hint text.
    assert "mycat:db_type" not in "".join(m.log()[mark:].split("(balance=")[1:])


def test_readonly_user_cannot_write(manx, backend, table):
    m = manx(datahost_extra={"balance": 1})
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY)")
    import pymysql
    c = m.connect(user="test")
    with c.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `{table}`")
        assert cur.fetchone() == (0,)
        for q in (f"INSERT INTO `{table}` VALUES (1)", f"DROP TABLE `{table}`",
                  "CREATE TABLE ro_should_not_exist (id INT)"):
            with pytest.raises(pymysql.err.OperationalError) as ei:
                cur.execute(q)
            assert ei.value.args[0] == 1290, ei.value
        cur.execute("BEGIN")
        cur.execute("COMMIT")
        cur.execute("SELECT 1")
    c.close()
    with backend.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `{table}`")
        assert cur.fetchone() == (0,)
        cur.execute("SHOW TABLES LIKE 'ro_should_not_exist'")
        assert cur.fetchall() == ()


def test_found_rows_and_warnings_stay_on_the_same_backend(manx, backend, table):
    m = manx(datahost_extra={"balance": 2})
    wait_up(m, ALL)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY)")
        cur.execute(f"INSERT INTO `{table}` VALUES (1),(2),(3),(4),(5)")
    time.sleep(0.5)  # let the rows replicate to the other master
    conns = [m.connect() for _ in range(3)]
    for _ in range(5):
        for c in conns:
            with c.cursor() as cur:
                cur.execute(f"SELECT SQL_CALC_FOUND_ROWS id FROM `{table}` LIMIT 1")
                cur.execute("SELECT FOUND_ROWS()")
                assert cur.fetchone() == (5,)
                cur.execute("SELECT CAST('abc' AS INT)")
                cur.execute("SHOW WARNINGS")
                w = cur.fetchall()
                assert w and w[0][1] == 1292, w
    for c in conns:
        c.close()


def test_down_reader_is_skipped(manx):
    text = open(__file__.replace("test_routing.py", "conftest.py")).read()
    import conftest
    cfg = conftest.BASE_INI
    # hostS1 points at a port where nothing listens.
    cfg = cfg.replace("[host hostS1]\naddress = 127.0.0.1:{p2}", "[host hostS1]\naddress = 127.0.0.1:1")
    manx_block = ("listen = 127.0.0.1:{port}\nadmin_listen = 127.0.0.1:{admin_port}\nworkers = 2\n"
                  "state_dir = {tmp}/state\nlog_level = debug\nshutdown_timeout = 5000\n")
    dh_block = "balance = 1\nmax_con = 20\nmin_con = 1\nwrite_hosts = hostM1, hostM2\n"
    cfg = cfg.replace("{manx_block}", manx_block).replace("{users_extra}", "").replace(
        "{datahost_block}", dh_block)
    assert text
    m = manx(config_text=cfg)
    wait_up(m, ["hostM1", "hostM2", "hostS2"])
    mark = len(m.log())
    for _ in range(20):
        assert run(m, ["SELECT 1"]) == [((1,),)]
    hosts = {h for cls, h in routes(m, mark) if cls == "READ"}
    assert "hostS1" not in hosts and hosts, hosts


def test_write_type_1_spreads_writes_over_write_hosts(manx, backend, table):
    m = manx(datahost_extra={"balance": 0, "write_type": 1})
    wait_up(m, ALL)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT AUTO_INCREMENT PRIMARY KEY, sid INT)")
    time.sleep(0.5)
    conns = [m.connect() for _ in range(3)]
    for _ in range(10):
        for c in conns:
            with c.cursor() as cur:
                cur.execute(f"INSERT INTO `{table}`(sid) VALUES (@@server_id)")
    for c in conns:
        c.close()
    time.sleep(1)  # both masters' rows replicate to hostM1
    with backend.cursor() as cur:
        cur.execute(f"SELECT sid, COUNT(*) FROM `{table}` GROUP BY sid ORDER BY sid")
        got = dict(cur.fetchall())
    assert set(got) == {88, 89}, got
    assert sum(got.values()) == 30


def test_prepared_statements_follow_balance(manx, backend, table):
    """Statement ids are manx's: a prepared SELECT executes on replicas (and
    is prepared there on first use), a prepared INSERT on the writer, and
    parameter types bound once travel to every backend the statement runs
    on."""
    m = manx(datahost_extra={"balance": 1})
    wait_up(m, ALL)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute(f"INSERT INTO `{table}` VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    time.sleep(1)  # replicated to the other master
    mark = len(m.log())
    conns = [m.capi() for _ in range(3)]
    try:
        sel = [c.stmt(f"SELECT v FROM `{table}` WHERE id = ?") for c in conns]
        for st in sel:
            st.bind([2])
        for _ in range(6):
            for st in sel:
                st.execute()
                assert st.fetch_all() == [(b"two",)]
        ins = conns[0].stmt(f"INSERT INTO `{table}` VALUES (?, ?)")
        ins.bind([10, "ten"])
        ins.execute()
        ins.bind([11, "eleven"])
        ins.execute()
        for st in sel + [ins]:
            st.close()
    finally:
        for c in conns:
            c.close()
    lines = re.findall(r"(READ|WRITE) -> S-\d+ (\w+) \S+: command 0x17", m.log()[mark:])
    reads = {h for cls, h in lines if cls == "READ"}
    writes = {h for cls, h in lines if cls == "WRITE"}
    assert reads and "hostM1" not in reads and len(reads) >= 2, lines
    assert writes == {"hostM1"}, lines
    with backend.cursor() as cur:
        cur.execute(f"SELECT id, v FROM `{table}` WHERE id >= 10 ORDER BY id")
        assert cur.fetchall() == ((10, "ten"), (11, "eleven"))


def test_sysbench_prepared_reads_are_split(manx, pair):
    import subprocess
    m = manx(datahost_extra={"balance": 1}, max_con=40)
    wait_up(m, ALL)
    base = ["sysbench", "--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-port={m.port}",
            "--mysql-user=root", "--mysql-password=123456", "--mysql-db=aiurt-platform",
            "--tables=1", "--table-size=500", "oltp_read_only"]
    subprocess.run(base + ["cleanup"], capture_output=True, timeout=60)
    r = subprocess.run(base + ["prepare"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    time.sleep(1)

    def executes(port):
        c = pair.connect(port=port)
        with c.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'")
            n = int(cur.fetchone()[1])
        c.close()
        return n

    before = (executes(pair.port1), executes(pair.port2))
    r = subprocess.run(base + ["--threads=4", "--time=5", "--skip_trx=on", "run"],
                       capture_output=True, text=True, timeout=120)
    after = (executes(pair.port1), executes(pair.port2))
    subprocess.run(base + ["cleanup"], capture_output=True, timeout=60)
    assert r.returncode == 0 and "FATAL" not in r.stdout + r.stderr, r.stdout[-2000:] + r.stderr[-2000:]
    assert re.search(r"ignored errors:\s+0 ", r.stdout), r.stdout
    d1, d2 = after[0] - before[0], after[1] - before[1]
    print(f"prepared executes: writer's server {d1}, other server {d2}")
    assert d2 > 0.3 * (d1 + d2), (d1, d2)


def test_user_variables_follow_the_session_to_replicas(manx):
    """SET @a=1; SET NAMES ...; then reads on replicas see them (literal
    values are replayed); a value computed by the server pins the session to
    the writer instead."""
    m = manx(datahost_extra={"balance": 1}, max_con=4)
    wait_up(m, ALL)
    conns = [m.connect() for _ in range(3)]
    for i, c in enumerate(conns):
        with c.cursor() as cur:
            cur.execute(f"SET @a = {i}, @b := 'v{i}', @@session.sql_mode = 'ANSI_QUOTES'")
            cur.execute("SET NAMES latin1")
    mark = len(m.log())
    for _ in range(4):
        for i, c in enumerate(conns):
            with c.cursor() as cur:
                cur.execute("SELECT @a, @b, @@character_set_client, @@sql_mode")
                assert cur.fetchone() == (i, f"v{i}", "latin1", "ANSI_QUOTES")
    hosts = {h for cls, h in routes(m, mark) if cls == "READ"}
    assert hosts - {"hostM1"}, hosts      # served by replicas
    with conns[0].cursor() as cur:
        cur.execute("SET @t = NOW(6)")   # not a literal: cannot be replayed
        mark = len(m.log())
        cur.execute("SELECT @t IS NOT NULL")
        assert cur.fetchone() == (1,)
    assert {h for _, h in routes(m, mark)} == {"hostM1"}
    for c in conns:
        c.close()


def test_temporary_tables_and_locks_keep_the_session_on_the_writer(manx):
    m = manx(datahost_extra={"balance": 1})
    wait_up(m, ALL)
    c = m.connect()
    mark = len(m.log())
    with c.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE tmp_r (id INT)")
        cur.execute("INSERT INTO tmp_r VALUES (1), (2)")
        for _ in range(5):
            cur.execute("SELECT COUNT(*) FROM tmp_r")   # only the writer's session has it
            assert cur.fetchone() == (2,)
        cur.execute("SELECT GET_LOCK('manx_test_lock', 1)")
        assert cur.fetchone() == (1,)
        cur.execute("SELECT IS_USED_LOCK('manx_test_lock') = CONNECTION_ID() OR 1")
    c.close()
    assert {h for _, h in routes(m, mark)} == {"hostM1"}, routes(m, mark)
