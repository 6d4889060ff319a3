"""Fixtures for manx integration tests: a real MariaDB dual-master pair
(scripts/pair.sh) and real manx processes started from inline configs.

Environment:
  MANX_BIN     manx binary (default build/proxy/manx)
  PAIR_DIR, PAIR_PORT1, PAIR_PORT2   the test pair (default run/test-pair,
               13307, 13308); started here if not running, stopped at the end
               only if started here
  MANX_DIRECT=1  do not start manx: the `manx` fixture points at the pair's
               hostM1 directly (user app), to validate the tests themselves;
               tests marked manx_only are skipped
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
PAIR_SH = TOP / "scripts" / "pair.sh"
DIRECT = os.environ.get("MANX_DIRECT") == "1"
SCHEMA = "aiurt-platform"          # logical schema clients see
DATABASE = "aiurt_platform"        # real database on the backends
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")

sys.path.insert(0, str(Path(__file__).resolve().parent))


def manx_bin():
    """MANX_BIN as an absolute path (manx runs with its tmp dir as cwd)."""
    return os.path.abspath(os.environ.get("MANX_BIN", str(TOP / "build" / "proxy" / "manx")))


def pytest_configure(config):
    config.addinivalue_line("markers", "manx_only: needs a real manx (skipped with MANX_DIRECT=1)")


def pytest_collection_modifyitems(config, items):
    if not DIRECT:
        return
    skip = pytest.mark.skip(reason="MANX_DIRECT=1: manx-specific behaviour")
    for item in items:
        if "manx_only" in item.keywords:
            item.add_marker(skip)


def free_port():
    """A port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(host, port, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Pair:
    def __init__(self, base, port1, port2):
        self.base = base
        self.host = "127.0.0.1"
        self.port1 = port1          # hostM1 (server-id 88)
        self.port2 = port2          # hostM2 (server-id 89)
        self.root_user, self.root_password = "root", "123456"
        self.app_user, self.app_password = "app", "app123"

    def sh(self, cmd, timeout=180):
        return subprocess.run(
            [str(PAIR_SH), cmd, "--dir", str(self.base), "--port1", str(self.port1),
             "--port2", str(self.port2)],
            capture_output=True, text=True, timeout=timeout)

    def connect(self, port=None, db=DATABASE, **kw):
        import pymysql
        return pymysql.connect(host=self.host, port=port or self.port1,
                               user=self.root_user, password=self.root_password,
                               database=db, connect_timeout=10, read_timeout=60,
                               write_timeout=60, autocommit=True, **kw)


def own_pair(prefix, dirname, port1, port2):
    """A started pair of a test module's own, for tests that kill, freeze or
    delay servers; env PREFIX_PAIR_DIR/_PORT1/_PORT2 override the defaults.
    The caller stops it (p.sh("stop"))."""
    base = Path(os.environ.get(f"{prefix}_PAIR_DIR", TOP / "run" / dirname))
    p = Pair(base, int(os.environ.get(f"{prefix}_PAIR_PORT1", str(port1))),
             int(os.environ.get(f"{prefix}_PAIR_PORT2", str(port2))))
    r = p.sh("start")
    if r.returncode != 0:
        pytest.fail(f"scripts/pair.sh start failed:\n{r.stdout}\n{r.stderr}")
    return p


def server_pid(pair, n):
    """The pid of server n (1 or 2) of the pair, from its pid file; None if none."""
    try:
        return int((pair.base / f"s{n}" / "mysqld.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def killable_pair(prefix, dirname, port1, port2):
    """Body of a module fixture (`yield from`) for a pair of the module's own
    whose servers the tests kill or freeze: own_pair(), and at the end every
    server continued (a frozen one cannot stop) and the pair stopped."""
    p = own_pair(prefix, dirname, port1, port2)
    try:
        yield p
    finally:
        for n in (1, 2):
            pid = server_pid(p, n)
            if pid:
                try:
                    os.kill(pid, signal.SIGCONT)
                except OSError:
                    pass
        p.sh("stop")


@pytest.fixture(scope="session")
def pair():
    base = Path(os.environ.get("PAIR_DIR", TOP / "run" / "test-pair"))
    p = Pair(base, int(os.environ.get("PAIR_PORT1", "13307")),
             int(os.environ.get("PAIR_PORT2", "13308")))
    started = False
    if p.sh("status", timeout=30).returncode != 0:
        r = p.sh("start")
        if r.returncode != 0:
            pytest.fail(f"scripts/pair.sh start failed:\n{r.stdout}\n{r.stderr}")
        started = True
    try:
        yield p
    finally:
        if started:
            p.sh("stop")


BASE_INI = """\
[manx]
{manx_block}
[user root]
password = 123456
schemas = aiurt-platform

[user test]
password = 123456
schemas = aiurt-platform
readonly = true

[user hashuser]
password_hash = *6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9
schemas = aiurt-platform
{users_extra}
[schema aiurt-platform]
datanode = dn1

[schema other]
datanode = dn2

[datanode dn1]
datahost = localhost1
database = aiurt_platform

[datanode dn2]
datahost = localhost1
database = other_db

[datahost localhost1]
{datahost_block}
[host hostM1]
address = 127.0.0.1:{p1}
user = app
password = app123
read_hosts = hostS1

[host hostS1]
address = 127.0.0.1:{p2}
user = app
password = app123

[host hostM2]
address = 127.0.0.1:{p2}
user = app
password = app123
read_hosts = hostS2

[host hostS2]
address = 127.0.0.1:{p1}
user = app
password = app123
"""


def _block(defaults, extra):
    """The key = value lines of a section: defaults overridden (in place) or
    extended by a dict; a str is appended verbatim."""
    keys = dict(defaults)
    raw = ""
    if isinstance(extra, str):
        raw = extra
    else:
        keys.update(extra or {})
    return "".join(f"{k} = {v}\n" for k, v in keys.items()) + raw


def render_config(pair, tmp, port, admin_port, manx_extra=None, datahost_extra=None,
                  users_extra="", max_con=50, min_con=2):
    manx_block = _block({"listen": f"127.0.0.1:{port}",
                         "admin_listen": f"127.0.0.1:{admin_port}",
                         "workers": 2, "state_dir": f"{tmp}/state", "log_level": "debug",
                         "shutdown_timeout": 5000},
                        manx_extra)
    # balance = 0 by default: protocol tests must not depend on replication
    # lag; the routing tests set balance themselves.
    datahost_block = _block({"balance": 0, "write_type": 0, "switch_type": 1,
                             "max_con": max_con, "min_con": min_con,
                             "write_hosts": "hostM1, hostM2"}, datahost_extra)
    return BASE_INI.format(manx_block=manx_block, users_extra=users_extra,
                           datahost_block=datahost_block, p1=pair.port1, p2=pair.port2)


class Manx:
    """A running manx (or, with MANX_DIRECT=1, the pair's hostM1)."""

    def __init__(self, pair, tmp, config_text, port, admin_port, direct=False):
        self.pair = pair
        self.host = "127.0.0.1"
        self.port = port
        self.admin_port = admin_port
        self.tmp = Path(tmp)
        self.config = self.tmp / "manx.ini"
        self.log_path = self.tmp / "manx.log"
        self.direct = direct
        self.proc = None
        self.config.write_text(config_text)
        (self.tmp / "state").mkdir(exist_ok=True)
        # Database name a client passes, and the credentials tests use.
        self.db = DATABASE if direct else SCHEMA
        self.database = DATABASE

    def creds(self, user="root"):
        """(user, password) to log in as a manx user.  In direct mode root
        stays root and any other user maps to the backend's app user."""
        if self.direct:
            return ("root", "123456") if user == "root" else ("app", "app123")
        return (user, "123456")

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout=30):
        bin_ = manx_bin()
        if not os.access(bin_, os.X_OK):
            pytest.fail(f"manx binary not found: {bin_} (set MANX_BIN)")
        self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([bin_, "-c", str(self.config)], stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=subprocess.STDOUT,
                                     cwd=str(self.tmp))
        if not wait_port(self.host, self.port, timeout, self.proc):
            rc = self.proc.poll()
            self.kill()
            pytest.fail(f"manx did not listen on {self.port} within {timeout}s "
                        f"(exit {rc}); log:\n{self.log()[-4000:]}")

    def running(self):
        if self.direct:
            return True
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=30):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def sanitizer_report(self):
        text = self.log()
        for m in SANITIZER_MARKERS:
            i = text.find(m)
            if i >= 0:
                return text[max(0, i - 200): i + 4000]
        return None

    # --- client helpers ---------------------------------------------------

    def connect(self, user="root", password=None, db=None, **kw):
        """A pymysql connection through manx (autocommit, bounded timeouts)."""
        import pymysql
        u, p = self.creds(user)
        if password is not None:
            p = password
        args = dict(host=self.host, port=self.port, user=u, password=p,
                    database=self.db if db is None else db, connect_timeout=10,
                    read_timeout=60, write_timeout=60, autocommit=True)
        args.update(kw)
        return pymysql.connect(**args)

    def cli(self, sql, user="root", password=None, db=None, args=(), timeout=60,
            input=None):
        """Runs the mariadb command-line client against manx; returns the
        CompletedProcess (stdout/stderr as text)."""
        u, p = self.creds(user)
        if password is not None:
            p = password
        cmd = ["mariadb", "--no-defaults", "-h", self.host, "-P", str(self.port),
               "-u", u, f"-p{p}", "--connect-timeout=10", *args]
        d = self.db if db is None else db
        if d:
            cmd.append(d)
        if sql is not None:
            cmd += ["-e", sql]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              input=input)

    def capi(self, user="root", password=None, db=None, **kw):
        """A libmariadb (ctypes) connection through manx."""
        import mdb
        u, p = self.creds(user)
        if password is not None:
            p = password
        return mdb.Conn(self.host, self.port, u, p, self.db if db is None else db, **kw)


def _manx_factory(pair, tmp_path, started):
    """The body of the `manx` fixture, shared with `manx_module`."""
    n = [0]

    def factory(manx_extra=None, datahost_extra=None, users_extra="", max_con=50,
                min_con=2, config_text=None, start=True, expect_exit=0):
        n[0] += 1
        tmp = tmp_path / f"manx{n[0]}"
        tmp.mkdir()
        if DIRECT:
            m = Manx(pair, tmp, "", pair.port1, None, direct=True)
            return m
        port, admin_port = free_port(), free_port()
        while admin_port == port:
            admin_port = free_port()
        if config_text is None:
            text = render_config(pair, tmp, port, admin_port, manx_extra, datahost_extra,
                                 users_extra, max_con, min_con)
        else:
            text = config_text.format(port=port, admin_port=admin_port, tmp=tmp,
                                      p1=pair.port1, p2=pair.port2)
        m = Manx(pair, tmp, text, port, admin_port)
        m.expect_exit = expect_exit
        started.append(m)
        if start:
            m.start()
        return m

    return factory


def _stop_manxes(started):
    """Teardown of the manx fixtures: SIGTERM, bounded wait, exit code and
    no sanitizer report; any problem fails the test."""
    problems = []
    for m in started:
        if m.proc is None:
            continue
        mine = []
        rc = m.terminate()
        if rc is None:
            mine.append(f"manx (port {m.port}) did not exit within 30 s of SIGTERM; killed")
        elif m.expect_exit is not None and rc != m.expect_exit:
            mine.append(f"manx (port {m.port}) exited with {rc}, expected {m.expect_exit}")
        rep = m.sanitizer_report()
        if rep:
            mine.append(f"sanitizer report in manx log ({m.log_path}):\n{rep}")
        elif mine:
            mine.append("log tail:\n" + m.log()[-3000:])
        problems += mine
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def manx(pair, tmp_path):
    """Factory: manx(**overrides) -> a running Manx.

    Overrides: manx_extra / datahost_extra (dict: keys replacing or added to
    those sections; str: lines appended), users_extra (text with more [user] sections), max_con,
    min_con, config_text (replaces the whole INI; may use {port},
    {admin_port}, {tmp}, {p1}, {p2}), start=False (write the config only),
    expect_exit (exit code asserted at teardown; default 0).

    Teardown: SIGTERM, bounded wait, exit code 0, and no ASan/UBSan report in
    the log; any failure there fails the test."""
    started = []
    yield _manx_factory(pair, tmp_path, started)
    _stop_manxes(started)


@pytest.fixture(scope="module")
def manx_module(pair, tmp_path_factory):
    """The `manx` factory for a whole module (one manx shared by many
    parametrized cases, e.g. a corpus); same teardown checks, run once
    after the module's last test."""
    started = []
    yield _manx_factory(pair, tmp_path_factory.mktemp("manx_module"), started)
    _stop_manxes(started)


@pytest.fixture
def backend(pair):
    """A pymysql connection to hostM1 directly (as root, db aiurt_platform),
    for setting up and checking data behind manx's back."""
    c = pair.connect()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def table(backend, request):
    """A fresh table name unique to the test, dropped afterwards."""
    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:50]
    with backend.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS `{name}`")
    yield name
    try:
        with backend.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{name}`")
    except Exception:
        pass


# --- helpers for the attack tests (test_attack_*.py) -----------------------

def poll(pred, timeout, step=0.05):
    """Calls pred() until it is true or `timeout` seconds pass; returns its
    last value (for `assert poll(...), message`)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def wait_for(cond, timeout, what):
    """Polls cond() until it returns a true value (returned) or the deadline
    passes (the test fails naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def wait_hosts_up(m, hosts, timeout=15):
    """Waits until manx's log says every named host is UP (the heartbeat's
    first beats), so routing to them is deterministic."""
    import re
    wait_for(lambda: all(re.search(rf"host {h} \S+ is UP", m.log()) for h in hosts),
             timeout, f"hosts {hosts} UP in manx's log")


def wait_databases_listed(m, timeout=15):
    """Waits until manx's log says the heartbeat listed the backends'
    databases: until then every name may be a database to strict_schemas
    (it fails closed), so a table alias would be refused."""
    import re
    wait_for(lambda: re.search(r"host \S+ \S+: \d+ databases:", m.log()), timeout,
             "the databases listed in manx's log")


def sync_pair(pair, timeout=20):
    """Waits until each server of the pair has applied everything the other
    has written (MASTER_GTID_WAIT on the other's gtid_binlog_pos; each
    server has its own gtid_domain_id)."""
    c1, c2 = pair.connect(port=pair.port1, db=None), pair.connect(port=pair.port2, db=None)
    try:
        for src, dst in ((c1, c2), (c2, c1)):
            with src.cursor() as cur:
                cur.execute("SELECT @@gtid_binlog_pos")
                pos = cur.fetchone()[0]
            with dst.cursor() as cur:
                cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (pos, timeout))
                r = cur.fetchone()[0]
            if r != 0:
                pytest.fail(f"replication did not apply {pos} within {timeout}s")
    finally:
        c1.close()
        c2.close()


def on_both(pair, sql, args=None, db=DATABASE):
    """Runs one statement as root on each server directly; [rows1, rows2]."""
    out = []
    for port in (pair.port1, pair.port2):
        c = pair.connect(port=port, db=db)
        try:
            with c.cursor() as cur:
                cur.execute(sql, args)
                out.append(cur.fetchall())
        finally:
            c.close()
    return out


def closed_port_config(port1, port2):
    """A config_text for the manx factory whose hosts listen nowhere (both
    on closed ports), with server_version set so logins need no backend."""
    class _P:
        pass
    p = _P()
    p.port1, p.port2 = port1, port2
    text = render_config(p, "{tmp}", "{port}", "{admin_port}",
                         {"server_version": "10.11.6-MariaDB", "connect_timeout": 500,
                          "pool_wait_timeout": 1000})
    return text


def restart_replication(pair, timeout=20):
    """Starts the replication threads of either server that has them
    stopped (an attack test that killed one must not break the tests
    after it) and waits until both run.  Returns the ports it restarted."""
    import pymysql

    def running(c):
        with c.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            st = cur.fetchone()
        return st and (st["Slave_IO_Running"], st["Slave_SQL_Running"]) == ("Yes", "Yes")

    fixed = []
    for port in (pair.port1, pair.port2):
        c = pair.connect(port=port, db=None)
        try:
            if not running(c):
                with c.cursor() as cur:
                    cur.execute("START SLAVE")
                fixed.append(port)
                wait_for(lambda: running(c), timeout, f"replication threads on port {port}")
        finally:
            c.close()
    return fixed
