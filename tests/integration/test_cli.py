"""The mariadb command-line client and pymysql through manx: queries,
multi-statements, USE, errors, warnings, long results, BLOBs over 16 MB and
LOAD DATA LOCAL INFILE."""

import hashlib
import random

import pymysql
import pytest
from pymysql.constants import CLIENT


def test_simple_query(manx):
    m = manx()
    r = m.cli("select 1+1 as two, 'héllo' as s", args=["-N", "-B"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "2\théllo\n"


def test_multi_statements_cli(manx):
    m = manx()
    r = m.cli("select 1; select 2; select 'x' as c", args=["-N", "-B"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "2", "x"]


def test_multi_statements_pymysql(manx):
    m = manx()
    with m.connect(client_flag=CLIENT.MULTI_STATEMENTS) as c, c.cursor() as cur:
        cur.execute("select 1; select 2, 3; do 0; select 4")
        assert cur.fetchall() == ((1,),)
        assert cur.nextset()
        assert cur.fetchall() == ((2, 3),)
        assert cur.nextset()          # DO: an OK packet, no rows
        assert cur.nextset()
        assert cur.fetchall() == ((4,),)
        assert not cur.nextset()
        cur.execute("select 5")
        assert cur.fetchone() == (5,)


def test_use(manx):
    m = manx()
    r = m.cli(f"use `{m.db}`; select database()", db="", args=["-N", "-B"])
    assert r.returncode == 0, r.stderr
    # manx may report the logical schema or the real database name.
    assert r.stdout.strip() in (m.db, m.database)
    r = m.cli("use nope", args=["-N", "-B"])
    assert r.returncode != 0
    assert "ERROR 1049 (42000)" in r.stderr and "nope" in r.stderr


def test_error_keeps_code_and_sqlstate(manx):
    m = manx()
    r = m.cli("select * from no_such_table_xyz")
    assert r.returncode == 1
    assert "ERROR 1146 (42S02)" in r.stderr, r.stderr
    assert "no_such_table_xyz" in r.stderr
    r = m.cli("selec 1")
    assert "ERROR 1064 (42000)" in r.stderr, r.stderr
    # The session survives an error.
    with m.connect() as c, c.cursor() as cur:
        with pytest.raises(pymysql.err.ProgrammingError) as e:
            cur.execute("select * from no_such_table_xyz")
        assert e.value.args[0] == 1146
        cur.execute("select 7")
        assert cur.fetchone() == (7,)


def test_warnings(manx):
    m = manx()
    r = m.cli("set sql_mode='ERROR_FOR_DIVISION_BY_ZERO'; select 1/0; show warnings",
              args=["-N", "-B"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "NULL"
    assert lines[1].split("\t") == ["Warning", "1365", "Division by 0"]
    with m.connect() as c, c.cursor() as cur:
        cur.execute("set sql_mode='ERROR_FOR_DIVISION_BY_ZERO'")
        cur.execute("select 1/0, cast('abc' as signed)")
        assert cur.fetchone() == (None, 0)
        assert cur._result.warning_count == 2
        cur.execute("show warnings")
        codes = sorted(w[1] for w in cur.fetchall())
        assert codes == [1292, 1365]


def test_long_result_cli(manx):
    m = manx()
    r = m.cli("select seq, sha1(seq) from seq_1_to_200000", args=["-N", "-B", "--quick"],
              timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 200000
    h = hashlib.sha1()
    for i in range(1, 200001):
        h.update(f"{i}\t{hashlib.sha1(str(i).encode()).hexdigest()}\n".encode())
    assert hashlib.sha1(r.stdout.encode()).hexdigest() == h.hexdigest()


def test_long_result_streamed(manx):
    m = manx()
    with m.connect(cursorclass=pymysql.cursors.SSCursor) as c, c.cursor() as cur:
        cur.execute("select seq, repeat('x', seq % 300) from seq_1_to_200000")
        n = total = length = 0
        for seq, s in cur:
            n += 1
            total += seq
            length += len(s)
        assert n == 200000
        assert total == 200000 * 200001 // 2
        assert length == sum(i % 300 for i in range(1, 200001))
        cur.execute("select 'after'")
        assert cur.fetchone() == ("after",)


def _blob(size, seed):
    return random.Random(seed).randbytes(size)


def test_blob_over_16mb_read(manx, backend, table):
    """Server to client: a row of more than 16 MB, stored behind manx's back."""
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, b longblob)")
    data = _blob(18 * 1024 * 1024 + 3, 3)
    digest = hashlib.sha1(data).hexdigest()
    with m.pair.connect(max_allowed_packet=256 << 20) as c, c.cursor() as cur:
        cur.execute(f"insert into `{table}` values (1, %s)", (data,))
    with m.connect(max_allowed_packet=256 << 20, read_timeout=30) as c, c.cursor() as cur:
        cur.execute(f"select b, id from `{table}` where id = 1")
        b, i = cur.fetchone()
        assert i == 1 and len(b) == len(data) and hashlib.sha1(b).hexdigest() == digest
        cur.execute("select repeat('z', 17 * 1024 * 1024) as s, 'tail'")
        s, t = cur.fetchone()
        assert len(s) == 17 * 1024 * 1024 and set(s) == {"z"} and t == "tail"
    r = m.cli(f"select length(b), sha1(b), hex(b) from `{table}` where id = 1",
              args=["--max-allowed-packet=256M", "-N", "-B"], timeout=40)
    assert r.returncode == 0, r.stderr
    ln, sh, hx = r.stdout.split()
    assert int(ln) == len(data) and sh == digest and hx.lower() == data.hex()


def test_blob_over_16mb_pymysql(manx, backend, table):
    """Client to server and back: a COM_QUERY of more than 16 MB."""
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, b longblob)")
    data = _blob(20 * 1024 * 1024 + 7, 1)
    digest = hashlib.sha1(data).hexdigest()
    with m.connect(max_allowed_packet=256 * 1024 * 1024, read_timeout=30,
                   write_timeout=30) as c, c.cursor() as cur:
        cur.execute(f"insert into `{table}` values (1, %s)", (data,))
        assert cur.rowcount == 1
        cur.execute(f"select length(b), sha1(b) from `{table}` where id = 1")
        assert cur.fetchone() == (len(data), digest)
        cur.execute(f"select b from `{table}` where id = 1")
        (back,) = cur.fetchone()
        assert len(back) == len(data)
        assert hashlib.sha1(back).hexdigest() == digest
        # A row with two big columns and a small one after them.
        cur.execute(f"select b, id, b from `{table}` where id = 1")
        b1, i, b2 = cur.fetchone()
        assert i == 1 and b1 == data and b2 == data
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
    with backend.cursor() as cur:
        cur.execute(f"select length(b), sha1(b) from `{table}` where id = 1")
        assert cur.fetchone() == (len(data), digest)


def test_blob_over_16mb_cli(manx, backend, table, tmp_path):
    """The CLI sends an INSERT of 34 MB and reads 34 MB of hex back."""
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, b longblob)")
    data = _blob(17 * 1024 * 1024, 2)
    sql = f"insert into `{table}` values (2, x'{data.hex()}');\n"
    r = m.cli(None, args=["--max-allowed-packet=256M", "-N", "-B"], input=sql, timeout=40)
    assert r.returncode == 0, r.stderr
    r = m.cli(f"select hex(b) from `{table}` where id = 2",
              args=["--max-allowed-packet=256M", "-N", "-B"], timeout=40)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().lower() == data.hex()


def test_load_data_local_infile_cli(manx, backend, table, tmp_path):
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, name varchar(40), v double)")
    f = tmp_path / "rows.csv"
    n = 50000
    f.write_text("".join(f"{i},name-{i},{i * 0.5}\n" for i in range(1, n + 1)))
    r = m.cli(f"load data local infile '{f}' into table `{table}` fields terminated by ','; "
              f"select count(*), sum(id), sum(v) from `{table}`",
              args=["--local-infile=1", "-N", "-B"], timeout=120)
    assert r.returncode == 0, r.stderr
    cnt, s, v = r.stdout.split()
    assert int(cnt) == n and int(s) == n * (n + 1) // 2
    assert float(v) == sum(i * 0.5 for i in range(1, n + 1))


def test_load_data_local_infile_pymysql(manx, backend, table, tmp_path):
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, name varchar(40))")
    f = tmp_path / "rows.tsv"
    n = 20000
    f.write_text("".join(f"{i}\tnom-{i}\n" for i in range(1, n + 1)))
    with m.connect(local_infile=True) as c, c.cursor() as cur:
        cur.execute(f"load data local infile '{f}' into table `{table}`")
        assert cur.rowcount == n
        cur.execute(f"select count(*), max(name) from `{table}`")
        assert cur.fetchone() == (n, "nom-9999")
        # A missing local file: the client sends an empty file, the server
        # answers and the session goes on.
        try:
            cur.execute(f"load data local infile '{tmp_path}/missing' into table `{table}`")
        except pymysql.err.OperationalError:
            pass
        cur.execute("select 3")
        assert cur.fetchone() == (3,)


def test_ping(manx):
    m = manx()
    with m.connect() as c:
        for _ in range(5):
            c.ping(reconnect=False)
        with c.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
