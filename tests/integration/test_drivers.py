"""Session fidelity with real application drivers (issue 9): the same
scenario (drivers/scenario.txt) run by each driver once directly against
hostM1 and once through manx (workers = 2, balance = 1, consistency =
session, max_con = 2 so sessions share backends), and the two transcripts
compared step by step.

KNOWN_DIFFERENCES is the one place that says which steps differ today and
which issue-9 item each belongs to.  A step not in it must give the same
value both ways; a step in it must still differ, so a fix that lands
without shrinking the list fails here and says which entry to remove.

The backends run, for this module, with the session defaults of the
servers issue 9 was found on (character_set_client/connection/results =
latin1): a session whose pooled backend was reset to DEFAULT then shows it,
as it did there.  The pair's own defaults (utf8mb4) would hide item 1."""

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pymysql
import pytest

from conftest import DIRECT, sync_pair, wait_hosts_up

pytestmark = pytest.mark.manx_only

HERE = Path(__file__).resolve().parent / "drivers"
SCENARIO = HERE / "scenario.txt"
JDBC_JAR = Path("/usr/share/java/mariadb-java-client.jar")

LOGICAL = "manx-drv"       # the schema clients name (and, directly, a real database)
REAL = "manx_drv"          # the database manx maps it to
USER, PASSWORD = "app", "app123"   # the backend account; also the manx user

# step ID (or "driver:step ID") -> issue 9 item.  Shrink as fixes land.
KNOWN_DIFFERENCES = {
}

# Steps whose value through manx depends today on which pooled backend
# (and that backend's history) a session gets, so that they come out equal
# in some runs and different in others; not compared until the item is
# fixed (then move them to nothing: they must match).
UNSTABLE = {
}

# Steps whose direct value is an error on purpose; any other ERR in a
# direct transcript means the scenario itself is broken.
DIRECT_ERRORS = {
    "basic.err_duplicate", "basic.err_syntax", "basic.err_no_column", "basic.multi_error",
    "c6.error_message", "c13.change_user_bad", "c13.raw_change_user_bad", "c17.create_table",
    "c19.multi_parse_error",
}

# Global session defaults set on both servers for this module (see the
# docstring); lock_wait_timeout bounds any wait on a lock a bug left behind.
GLOBALS = {
    "character_set_client": "latin1",
    "character_set_connection": "latin1",
    "character_set_results": "latin1",
    "collation_connection": "latin1_swedish_ci",
    "lock_wait_timeout": 10,
}

MANX_USERS = f"""
[user {USER}]
password = {PASSWORD}
schemas = {LOGICAL}

[schema {LOGICAL}]
datanode = dndrv

[datanode dndrv]
datahost = localhost1
database = {REAL}
"""


def known(driver, step):
    """The issue-9 item a step is listed under for this driver, or None."""
    return KNOWN_DIFFERENCES.get(f"{driver}:{step}", KNOWN_DIFFERENCES.get(step))


def parse_transcript(text):
    """'ID<TAB>value' lines -> dict in order; an ID twice is a scenario bug."""
    out = {}
    for line in text.splitlines():
        if not line:
            continue
        step, _, value = line.partition("\t")
        assert step not in out, f"step {step} printed twice"
        out[step] = value
    return out


def compare(driver, direct, via):
    """The problems of one driver's pair of transcripts (empty: all good)."""
    problems = []
    for step in list(direct) + [s for s in via if s not in direct]:
        d, v = direct.get(step, "<absent>"), via.get(step, "<absent>")
        if f"{driver}:{step}" in UNSTABLE:
            continue
        item = known(driver, step)
        if item is None and d != v:
            problems.append(f"{step}: differs (not listed)\n    direct: {d}\n    manx:   {v}")
        elif item is not None and d == v:
            problems.append(f"{step}: listed as issue 9 item {item} but now equal ({d}); "
                            f"remove it from KNOWN_DIFFERENCES")
    return problems


# --- the environment -----------------------------------------------------------

def _on_servers(pair, fn):
    for port in (pair.port1, pair.port2):
        c = pair.connect(port=port, db=None)
        try:
            with c.cursor() as cur:
                fn(cur)
        finally:
            c.close()


@pytest.fixture(scope="module")
def drv_env(pair):
    """Both servers with GLOBALS set, put back afterwards, and without the
    two databases afterwards; yields the pair.  Put back means the values
    a server starts with (the charsets follow character_set_server, the
    rest their defaults), not the values found: a run killed half-way must
    not leave latin1 behind for the next one to keep."""
    def set_globals(cur):
        cur.execute("SET GLOBAL " + ", ".join(f"{k} = %s" for k in GLOBALS), list(GLOBALS.values()))

    def restore(cur):
        cur.execute("SET GLOBAL character_set_client = @@character_set_server, "
                    "character_set_connection = @@character_set_server, "
                    "character_set_results = @@character_set_server, "
                    "collation_connection = @@collation_server, "
                    "lock_wait_timeout = DEFAULT, div_precision_increment = DEFAULT")

    _on_servers(pair, set_globals)
    try:
        yield pair
    finally:
        _on_servers(pair, restore)
        c = pair.connect(db=None)
        try:
            with c.cursor() as cur:
                for db in (LOGICAL, REAL):
                    cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        finally:
            c.close()
        sync_pair(pair)


def fresh_database(pair, name):
    """Drops both databases on hostM1 (replicated to hostM2) and creates
    `name` alone: a logical name that reaches a backend unmapped must fail
    there (1049), not find a database of that name."""
    c = pair.connect(db=None)
    try:
        with c.cursor() as cur:
            for db in (LOGICAL, REAL):
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
            cur.execute(f"CREATE DATABASE `{name}`")
    finally:
        c.close()
    sync_pair(pair)


def start_manx(manx):
    """manx with two workers, balance = 1 and max_con = 2 (one connection
    per host and worker once both workers are busy).  One writeHost (hostM1)
    and its one readHost (hostS1): every read runs on hostS1 and every
    write on hostM1, so which pooled connection a session's statement gets
    depends only on the worker the session landed on, and a step can make
    sure both workers' connections hold what it tests (scenario.txt)."""
    m = manx(max_con=2, min_con=2, users_extra=MANX_USERS,
             manx_extra={"strict_schemas": "false"},
             datahost_extra={"balance": 1, "consistency": "session",
                             "write_hosts": "hostM1"})
    wait_hosts_up(m, ["hostM1", "hostS1"])
    return m


# --- the drivers -------------------------------------------------------------------

@pytest.fixture(scope="module")
def jdbc_classes(tmp_path_factory):
    """Scenario.java compiled once (javac), or a skip naming what is missing."""
    if not shutil.which("javac") or not JDBC_JAR.exists():
        pytest.skip("needs default-jdk-headless and libmariadb-java (tests/run installs them)")
    out = tmp_path_factory.mktemp("jdbc")
    r = subprocess.run(["javac", "-d", str(out), "-cp", str(JDBC_JAR), str(HERE / "Scenario.java")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out


def jdbc_cmd(classes):
    return ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", f"{classes}:{JDBC_JAR}",
            "Scenario"]


def run_driver(cmd, port, workdir, name):
    """Runs one driver program against 127.0.0.1:port; its transcript."""
    r = subprocess.run(cmd + ["127.0.0.1", str(port), USER, PASSWORD, LOGICAL, str(SCENARIO)],
                       capture_output=True, text=True, timeout=150, cwd=str(workdir))
    (workdir / f"{name}.txt").write_text(r.stdout)
    (workdir / f"{name}.err").write_text(r.stderr)
    assert r.returncode == 0, f"{name}: exit {r.returncode}\n{r.stderr[-3000:]}"
    return parse_transcript(r.stdout)


def check_direct(direct):
    bad = [f"{s}: {v}" for s, v in direct.items()
           if v.startswith("ERR") and s not in DIRECT_ERRORS]
    assert not bad, "the scenario fails directly against MariaDB:\n" + "\n".join(bad)


def run_both(driver, cmd, manx, env, tmp_path):
    fresh_database(env, LOGICAL)
    direct = run_driver(cmd, env.port1, tmp_path, f"{driver}-direct")
    check_direct(direct)
    fresh_database(env, REAL)
    m = start_manx(manx)
    via = run_driver(cmd, m.port, tmp_path, f"{driver}-manx")
    problems = compare(driver, direct, via)
    assert not problems, (f"{driver}: {len(problems)} step(s) wrong "
                          f"(transcripts in {tmp_path}):\n" + "\n".join(problems))


def test_jdbc(drv_env, manx, tmp_path, jdbc_classes):
    """MariaDB Connector/J 2.7 (text and server-side prepares, CallableStatement,
    DatabaseMetaData, setFetchSize streaming, batches)."""
    run_both("jdbc", jdbc_cmd(jdbc_classes), manx, drv_env, tmp_path)


def test_php_mysqli(drv_env, manx, tmp_path):
    """PHP mysqli on mysqlnd (server-side prepares, long data, cursors,
    use_result streaming, COM_CHANGE_USER, CLIENT_IGNORE_SPACE)."""
    if not shutil.which("php") or subprocess.run(
            ["php", "-r", "exit(extension_loaded('mysqli') ? 0 : 1);"], timeout=30).returncode:
        pytest.skip("needs php-cli and php-mysql (tests/run installs them)")
    run_both("php", ["php", str(HERE / "scenario.php")], manx, drv_env, tmp_path)


def test_perl_dbd_mariadb(drv_env, manx, tmp_path):
    """Perl DBI with DBD::MariaDB (client-side placeholders, server-side
    prepares, execute_array, the DBI catalog calls)."""
    if subprocess.run(["perl", "-MDBD::MariaDB", "-e", "1"], capture_output=True,
                      timeout=30).returncode:
        pytest.skip("needs libdbd-mariadb-perl (tests/run installs it)")
    run_both("perl", ["perl", str(HERE / "scenario.pl")], manx, drv_env, tmp_path)


# --- what no driver above can express: a transcript made here -------------------

def _val(r):
    """An mdb outcome as a transcript value: rows, OK, or the error."""
    if isinstance(r, Exception):
        return f"ERR {getattr(r, 'errno', type(r).__name__)}"
    if r is None:
        return "OK"
    return "[" + ";".join(",".join("NULL" if v is None else v.decode(errors="replace") for v in row)
                          for row in r) + "]"


def _cli(port, sql, *args):
    r = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-u", USER,
                        f"-p{PASSWORD}", "--connect-timeout=10", *args, LOGICAL, "-e", sql],
                       capture_output=True, timeout=60)
    if r.returncode:
        m = re.search(rb"ERROR (\d+)", r.stderr)
        return f"ERR {m.group(1).decode() if m else r.stderr.decode(errors='replace').strip()}"
    return r.stdout.decode(errors="replace").strip()


def raw_transcript(port):
    """Steps with libmariadb (mdb), a raw client (rawmysql) and the mariadb
    CLI, in the transcript format, against 127.0.0.1:port."""
    import mdb
    import rawmysql
    out = {}

    def run(step, fn):
        try:
            out[step] = _val(fn())
        except (mdb.Error, rawmysql.ServerError, rawmysql.ProtocolError, OSError) as e:
            out[step] = _val(e)

    # 9: the greeting's collation (the server's default; 45 on this pair,
    # so it cannot differ here).
    with rawmysql.Conn("127.0.0.1", port, login=False) as c:
        g = c.read_packet()
        pos = g.index(b"\0", 1) + 1 + 4 + 8 + 1 + 2
        out["c9.greeting_collation"] = str(g[pos])

    # 4: one text prepared by sessions whose handshakes asked for
    # utf8mb4_unicode_ci (224) and utf8mb4_general_ci (45), eight of each
    # one after the other (both workers; see scenario.txt).
    for step, coll in (("c4.raw_handshake_unicode", 224), ("c4.raw_handshake_general", 45)):
        seen = set()
        for _ in range(8):
            with rawmysql.Conn("127.0.0.1", port, USER, PASSWORD, LOGICAL, charset=coll) as c:
                st = c.prepare("SELECT 'ß' = 'ss'")
                r = st if st.kind == "err" else c.execute(st.stmt_id)
                v = f"ERR {r.errno}" if r.kind == "err" else ",".join(x.hex() for x in r.rows)
                coll_now = c.query1("SELECT @@collation_connection")[0][0].decode()
                seen.add(f"{v} {coll_now}")
        out[step] = " | ".join(sorted(seen))

    # 13: libmariadb's mysql_change_user with a wrong password, then the
    # same connection again.
    with mdb.Conn("127.0.0.1", port, USER, PASSWORD, LOGICAL) as c:
        run("c13.raw_change_user_bad", lambda: c.change_user(USER, "wrong-password", LOGICAL))
        run("c13.raw_after_bad", lambda: c.query("SELECT 1"))
        if out["c13.raw_after_bad"] in ("ERR 2006", "ERR 2013"):
            # The connection is gone; libmariadb 3.3 aborts the process in
            # a mysql_change_user on it.
            out["c13.raw_change_user_good"] = out["c13.raw_after_good"] = "ERR connection lost"
        else:
            run("c13.raw_change_user_good", lambda: c.change_user(USER, PASSWORD, LOGICAL))
            run("c13.raw_after_good", lambda: c.query("SELECT DATABASE()"))

    # 15: the CLI's -i (CLIENT_IGNORE_SPACE).
    out["c15.cli_ignore_space"] = _cli(port, "SELECT count (*) FROM (SELECT 1) AS t", "-i", "-N", "-B")

    # 16: a non-ASCII value dumped as XML after other sessions ran SET NAMES
    # latin1 (8 of them: both workers).
    for _ in range(8):
        c = pymysql.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD,
                            database=LOGICAL, connect_timeout=10, read_timeout=30, autocommit=True)
        try:
            with c.cursor() as cur:
                cur.execute("SET NAMES latin1")
                cur.execute("SELECT 1")
        finally:
            c.close()
    seen = set()
    for _ in range(4):
        x = _cli(port, "SELECT 'é🐬' AS v", "--xml", "--default-character-set=utf8mb4")
        m = re.search(r'<field name="v">(.*?)</field>', x)
        seen.add(m.group(1) if m else x.strip())
    out["c16.cli_xml"] = " | ".join(sorted(seen))
    return out


def test_raw_clients(drv_env, manx, tmp_path):
    """What no driver program expresses: libmariadb's COM_CHANGE_USER,
    handshake collations, the CLI's -i and --xml, the greeting."""
    if not shutil.which("mariadb"):
        pytest.skip("needs mariadb-client")
    fresh_database(drv_env, LOGICAL)
    direct = raw_transcript(drv_env.port1)
    (tmp_path / "raw-direct.txt").write_text("".join(f"{k}\t{v}\n" for k, v in direct.items()))
    check_direct(direct)
    fresh_database(drv_env, REAL)
    m = start_manx(manx)
    via = raw_transcript(m.port)
    (tmp_path / "raw-manx.txt").write_text("".join(f"{k}\t{v}\n" for k, v in via.items()))
    problems = compare("raw", direct, via)
    assert not problems, (f"raw: {len(problems)} step(s) wrong (transcripts in {tmp_path}):\n"
                          + "\n".join(problems))


def test_known_differences_name_real_steps():
    """Every KNOWN_DIFFERENCES entry names a step of the scenario."""
    steps = set()
    for line in SCENARIO.read_text().splitlines():
        w = line.split()
        if len(w) >= 3 and not w[0].startswith("#") and w[0] not in ("close", "repeat", "end"):
            steps.add(w[2])
    # The raw transcript's steps are string literals in raw_transcript().
    import inspect
    steps |= set(re.findall(r'"(c\d+\.[a-z_]+)"', inspect.getsource(raw_transcript)))
    for key in list(KNOWN_DIFFERENCES) + list(UNSTABLE):
        driver, _, step = key.rpartition(":")
        assert driver in ("", "jdbc", "php", "perl", "raw"), f"unknown driver in {key!r}"
        assert step in steps, f"KNOWN_DIFFERENCES names {key!r}, which no step prints"
