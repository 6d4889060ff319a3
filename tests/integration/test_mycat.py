"""manx --mycat-conf (issue 12): the seed directory of the issue, fixed and
pointed at the local pair, runs as Mycat would: balance=1 reads on the
readHosts and the standby writeHost, writes on the active writeHost; the
readOnly user cannot write; <whitehost> and benchmark refuse with MySQL's
errors; the seed as printed is refused with file and line; the INI that
--print-ini prints loads and routes the same."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pymysql
import pytest

from conftest import DATABASE, SCHEMA, TOP, free_port, manx_bin, wait_hosts_up, wait_port, SANITIZER_MARKERS

SEED = TOP / "tests" / "unit" / "conf" / "mycat"


def mycat_dir(pair, tmp, firewall="", benchmark=None, seed="seed_fixed"):
    """The seed directory copied to tmp, its hosts on the local pair, the
    dataNode on the pair's database, ports of our own."""
    d = tmp / "conf"
    shutil.copytree(SEED / seed, d)
    port, admin = free_port(), free_port()
    while admin == port:
        admin = free_port()
    schema = (d / "schema.xml").read_text()
    schema = schema.replace("192.168.1.27:9088", f"127.0.0.1:{pair.port1}")
    schema = schema.replace("192.168.1.27:9089", f"127.0.0.1:{pair.port2}")
    schema = schema.replace('database="aiurt-platform"', f'database="{DATABASE}"')
    (d / "schema.xml").write_text(schema)
    server = (d / "server.xml").read_text()
    system = (f'<system><property name="serverPort">{port}</property>'
              f'<property name="managerPort">{admin}</property></system>\n')
    server = server.replace('<mycat:server xmlns:mycat="http://io.mycat/">',
                            '<mycat:server xmlns:mycat="http://io.mycat/">\n' + system + firewall, 1)
    if benchmark is not None:
        server = server.replace('<property name="schemas">aiurt-platform</property>',
                                '<property name="schemas">aiurt-platform</property>'
                                f'<property name="benchmark">{benchmark}</property>', 1)
    (d / "server.xml").write_text(server)
    return d, port, admin


class Proc:
    """A manx started with arbitrary arguments; stopped by the fixture."""

    def __init__(self, tmp, args, port):
        self.port = port
        self.log_path = tmp / "manx.log"
        self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([manx_bin(), *args], stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, cwd=str(tmp))
        if not wait_port("127.0.0.1", port, 30, self.proc):
            self.proc.kill()
            pytest.fail(f"manx did not listen on {port}: {self.log()[-3000:]}")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def connect(self, user="root", password="123456", db=SCHEMA, **kw):
        return pymysql.connect(host="127.0.0.1", port=self.port, user=user, password=password, database=db,
                               connect_timeout=10, read_timeout=60, autocommit=True, **kw)


@pytest.fixture
def run(tmp_path):
    procs = []

    def start(args, port):
        p = Proc(tmp_path, args, port)
        procs.append(p)
        return p

    yield start
    problems = []
    for p in procs:
        if p.proc.poll() is None:
            p.proc.terminate()
            try:
                p.proc.wait(30)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                problems.append("manx did not stop within 30 s of SIGTERM")
        if p.proc.returncode not in (0, None):
            problems.append(f"manx exited with {p.proc.returncode}")
        text = p.log()
        for m in SANITIZER_MARKERS:
            if m in text:
                problems.append(text[text.find(m) - 200:][:4000])
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_seed_as_printed_is_refused(tmp_path):
    r = subprocess.run([manx_bin(), "--mycat-conf", str(SEED / "seed_as_printed"), "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "seed_as_printed/schema.xml:22: </writeHost> closes nothing" in r.stderr
    assert 'the <writeHost host="hostM2"> at line 19 ends with "/>"' in r.stderr


def test_sharded_is_refused_unless_ignored(tmp_path):
    d = str(SEED / "sharded")
    r = subprocess.run([manx_bin(), "--mycat-conf", d, "--check"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and 'sharded/schema.xml:5: <table name="orders">' in r.stderr
    r = subprocess.run([manx_bin(), "--mycat-conf", d, "--mycat-ignore-sharding", "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Mycat table rule ignored" in r.stderr


def ini_with_console(pair, tmp, d, port, admin):
    """--print-ini output, plus an [admin] password so the console answers."""
    r = subprocess.run([manx_bin(), "--mycat-conf", str(d), "--print-ini"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""                       # the fixed seed has nothing manx cannot honour
    assert f"listen = 0.0.0.0:{port}" in r.stdout
    assert f"address = 127.0.0.1:{pair.port2}" in r.stdout
    ini = tmp / "from-mycat.ini"
    ini.write_text(r.stdout + "\n[admin]\npassword = console\n")
    return ini


def datasource(admin_port):
    c = pymysql.connect(host="127.0.0.1", port=admin_port, user="admin", password="console", connect_timeout=10)
    try:
        cur = c.cursor()
        cur.execute("show @@datasource")
        names = [x[0] for x in cur.description]
        return {row[names.index("NAME")]: dict(zip(names, row)) for row in cur.fetchall()}
    finally:
        c.close()


def test_seed_fixed_routes_as_mycat(pair, tmp_path, run):
    d, port, admin = mycat_dir(pair, tmp_path)
    m = run(["--mycat-conf", str(d)], port)
    c = m.connect()
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS mycat_t")
    cur.execute("CREATE TABLE mycat_t (id INT PRIMARY KEY, v INT)")
    cur.execute("INSERT INTO mycat_t VALUES (1, 10)")
    # A transaction reads on the writer: the active writeHost is hostM1.
    cur.execute("BEGIN")
    cur.execute("SELECT @@port")
    assert cur.fetchone()[0] == pair.port1
    cur.execute("COMMIT")
    ports = set()
    for _ in range(40):
        cur.execute("SELECT @@port")
        ports.add(cur.fetchone()[0])
    assert ports <= {pair.port1, pair.port2}
    c.close()
    # The INI --print-ini gives loads and routes the same; its console
    # shows where each statement went.
    m.proc.terminate()
    m.proc.wait(30)
    ini = ini_with_console(pair, tmp_path, d, port, admin)
    m2 = run(["-c", str(ini)], port)
    # Reads go to the readHosts once the heartbeat has seen them up.
    wait_hosts_up(m2, ["hostS1", "hostM2", "hostS2"])
    c = m2.connect()
    cur = c.cursor()
    cur.execute("INSERT INTO mycat_t VALUES (2, 20)")
    cur.execute("UPDATE mycat_t SET v = v + 1 WHERE id = 1")
    for _ in range(30):
        cur.execute("SELECT COUNT(*) FROM mycat_t")
    # The console's counts are published by each worker's janitor timer.
    import time
    deadline = time.monotonic() + 10
    while True:
        ds = datasource(admin)
        reads = sum(int(r["READ_LOAD"]) for r in ds.values())
        if (reads >= 30 and int(ds["hostM1"]["WRITE_LOAD"]) >= 2) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert set(ds) == {"hostM1", "hostS1", "hostM2", "hostS2"}, ds
    assert int(ds["hostM1"]["WRITE_LOAD"]) >= 2, ds
    assert all(int(ds[h]["WRITE_LOAD"]) == 0 for h in ("hostS1", "hostM2", "hostS2"))
    # balance=1: reads on the readHosts and the standby writeHost, never
    # on the active writeHost.
    assert int(ds["hostM1"]["READ_LOAD"]) == 0
    assert sum(int(ds[h]["READ_LOAD"]) for h in ("hostS1", "hostM2", "hostS2")) >= 30
    cur.execute("DROP TABLE mycat_t")
    c.close()


def test_readonly_user_cannot_write(pair, tmp_path, run):
    d, port, admin = mycat_dir(pair, tmp_path)
    m = run(["--mycat-conf", str(d)], port)
    c = m.connect("test")
    cur = c.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchone()[0] == 1
    for sql in ("CREATE TABLE mycat_ro (id INT)", "DELETE FROM mycat_nothing"):
        with pytest.raises(pymysql.MySQLError):
            cur.execute(sql)
    c.close()


def login_error(m, **kw):
    with pytest.raises(pymysql.err.OperationalError) as e:
        m.connect(**kw).close()
    return e.value.args


def test_whitehost_allow_list(pair, tmp_path, run):
    fw = ('<firewall><whitehost><host host="127.0.0.*" user="root"/>'
          '<host host="10.9.%" user="test"/></whitehost></firewall>\n')
    d, port, _ = mycat_dir(pair, tmp_path, firewall=fw)
    m = run(["--mycat-conf", str(d)], port)
    m.connect().close()                                     # root from 127.0.0.1
    code, msg = login_error(m, user="test")                 # test only from 10.9.x.x
    assert code == 1045 and msg.startswith("Access denied for user 'test'@'127.0.0.1'")
    # An unknown user from an address some user may use: also 1045.
    code, _ = login_error(m, user="nobody")
    assert code == 1045


def test_whitehost_no_user_from_here(pair, tmp_path, run):
    fw = ('<firewall><whitehost><host host="10.9.%" user="root,test"/></whitehost></firewall>\n')
    d, port, _ = mycat_dir(pair, tmp_path, firewall=fw)
    m = run(["--mycat-conf", str(d)], port)
    for user, pw in (("root", "123456"), ("root", "wrong"), ("nobody", "x")):
        code, msg = login_error(m, user=user, password=pw)
        # The same answer for every name and password, as MySQL gives it.
        assert code == 1130, (user, code, msg)
        assert msg == "Host '127.0.0.1' is not allowed to connect to this MySQL server"


def test_benchmark_limits_connections(pair, tmp_path, run):
    d, port, _ = mycat_dir(pair, tmp_path, benchmark=2)
    m = run(["--mycat-conf", str(d)], port)
    a, b = m.connect(), m.connect()
    code, msg = login_error(m)
    assert code == 1226
    assert msg == "User 'root' has exceeded the 'max_user_connections' resource (current value: 2)"
    m.connect("test").close()                # another user is not counted with root
    a.close()
    # The slot comes back when the session ends (the close is asynchronous).
    connect_when_free(m).close()
    b.close()
    # A wrong password does not keep a slot either.
    for _ in range(5):
        code, _ = login_error(m, password="wrong")
        assert code == 1045
    c1 = connect_when_free(m)       # b's slot comes back asynchronously too
    c2 = m.connect()                # the second one is free for sure
    c1.close()
    c2.close()


def connect_when_free(m):
    """A root connection once a closed session's slot is back (the close
    reaches manx asynchronously); bounded."""
    import time
    for _ in range(100):
        try:
            return m.connect()
        except pymysql.err.OperationalError as e:
            assert e.args[0] == 1226
            time.sleep(0.05)
    pytest.fail("root's slot did not come back after a session closed")


def test_mariadb_answers_1226_for_a_user_limit(pair):
    """The error manx gives for max_connections is the server's own for
    an account's MAX_USER_CONNECTIONS."""
    root = pair.connect()
    cur = root.cursor()
    cur.execute("DROP USER IF EXISTS 'mx_lim'@'%'")
    cur.execute("CREATE USER 'mx_lim'@'%' IDENTIFIED BY 'x' WITH MAX_USER_CONNECTIONS 1")
    try:
        one = pymysql.connect(host="127.0.0.1", port=pair.port1, user="mx_lim", password="x", connect_timeout=10)
        with pytest.raises(pymysql.err.OperationalError) as e:
            pymysql.connect(host="127.0.0.1", port=pair.port1, user="mx_lim", password="x", connect_timeout=10)
        assert e.value.args[0] == 1226
        assert "has exceeded the 'max_user_connections' resource (current value: 1)" in e.value.args[1]
        one.close()
    finally:
        cur.execute("DROP USER IF EXISTS 'mx_lim'@'%'")
        root.close()
