"""Protocol commands other than COM_QUERY: COM_FIELD_LIST, COM_CHANGE_USER,
COM_RESET_CONNECTION, an unknown command byte, and malformed packets."""

import socket
import struct
import threading
import time

import pymysql
import pytest

import mdb


def test_field_list(manx, backend, table):
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, name varchar(20), "
                    f"created datetime, note text)")
    with m.capi() as c:
        assert c.list_fields(table) == 4
        assert c.list_fields(table, "n%") == 2
        with pytest.raises(mdb.Error) as e:
            c.list_fields("no_such_table_fl")
        assert e.value.errno == 1146
        assert c.query("select 11") == [(b"11",)]


def test_change_user(manx):
    m = manx()
    with m.capi() as c:
        c.query("set @before = 1")
        u, p = m.creds("test")
        c.change_user(u, p, m.db)
        # COM_CHANGE_USER resets the session: user variables are gone.
        assert c.query("select @before, 5") == [(None, b"5")]
        c.change_user(*m.creds("root"), m.db)
        assert c.query("select 6") == [(b"6",)]
        c.query("set @kept = 7")
        with pytest.raises(mdb.Error) as e:
            c.change_user(u, "wrong-password", m.db)
        assert e.value.errno == 1045
        # A failed COM_CHANGE_USER leaves the connection open, logged in as
        # before with its session, as the server does (issue 9, item 13).
        assert c.query("select @kept, 9") == [(b"7", b"9")]
        with pytest.raises(mdb.Error) as e:
            c.change_user("nobody", "x", m.db)
        assert e.value.errno == 1045
        c.query("create temporary table tmp_cu (a int)")  # root may write, test may not
        c.change_user(u, p, m.db)
        with pytest.raises(mdb.Error) as e:
            c.query("create temporary table tmp_cu2 (a int)")
        assert e.value.errno == 1290
    # Other sessions are unaffected.
    with m.connect() as c2, c2.cursor() as cur:
        cur.execute("select 8")
        assert cur.fetchone() == (8,)


def test_reset_connection(manx):
    m = manx()
    with m.capi() as c:
        c.query("set @x = 5")
        c.query("create temporary table tmp_reset (a int)")
        c.query("insert into tmp_reset values (1)")
        assert c.query("select @x, count(*) from tmp_reset") == [(b"5", b"1")]
        c.reset_connection()
        assert c.query("select @x") == [(None,)]
        with pytest.raises(mdb.Error) as e:
            c.query("select * from tmp_reset")
        assert e.value.errno == 1146
        assert c.query("select database()")[0][0] in (m.db.encode(), m.database.encode())


def test_unknown_command_gets_error(manx):
    m = manx()
    with m.connect() as c:
        c._execute_command(0x40, b"")
        with pytest.raises(pymysql.err.MySQLError) as e:
            c._read_packet()
        assert e.value.args[0] == 1047
        with c.cursor() as cur:
            cur.execute("select 'still here'")
            assert cur.fetchone() == ("still here",)


def _logged_in_socket(m):
    """A pymysql connection whose raw socket the test then abuses."""
    c = m.connect()
    c._sock.settimeout(10)
    return c


def _wait_closed(sock, timeout=10):
    """True when the peer closed the connection (EOF or reset) in time."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def _others_work(m, n=3):
    for i in range(n):
        with m.connect() as c, c.cursor() as cur:
            cur.execute("select %s", (i,))
            assert cur.fetchone() == (i,)


def test_huge_header_then_close(manx):
    m = manx()
    bystander = m.connect()
    try:
        c = _logged_in_socket(m)
        # A packet claiming 16 MB - 1 bytes, a few of them sent, then gone.
        c._sock.sendall(b"\xff\xff\xff\x00\x03select ")
        c._sock.close()
        _others_work(m)
        with bystander.cursor() as cur:
            cur.execute("select 'bystander'")
            assert cur.fetchone() == ("bystander",)
        assert m.running()
    finally:
        bystander.close()


def test_truncated_header_then_eof(manx):
    m = manx()
    c = _logged_in_socket(m)
    c._sock.sendall(b"\x05\x00")
    c._sock.shutdown(socket.SHUT_WR)
    assert _wait_closed(c._sock), "manx kept a half-closed client with half a header"
    c._sock.close()
    _others_work(m)
    assert m.running()


def test_stalled_big_packet_does_not_block_others(manx):
    m = manx()
    c = _logged_in_socket(m)
    try:
        # Half of a 1 MB COM_QUERY, then silence: only this client waits.
        c._sock.sendall(struct.pack("<I", 1 << 20)[:3] + b"\x00\x03" + b"x" * 1000)
        _others_work(m)
    finally:
        c._sock.close()
    _others_work(m, 1)
    assert m.running()


def test_garbage_login(manx):
    m = manx()
    s = socket.create_connection((m.host, m.port), timeout=10)
    try:
        hdr = s.recv(4)
        assert len(hdr) == 4
        ln = int.from_bytes(hdr[:3], "little")
        greeting = b""
        while len(greeting) < ln:
            chunk = s.recv(ln - len(greeting))
            assert chunk
            greeting += chunk
        assert greeting[0] == 10                  # protocol version 10
        # A "handshake response" that is nothing of the kind.
        body = b"\xff" * 40
        s.sendall(len(body).to_bytes(3, "little") + b"\x01" + body)
        assert _wait_closed(s), "manx kept a client after a garbage handshake response"
    finally:
        s.close()
    _others_work(m)


def test_zero_length_packet(manx):
    m = manx()
    c = _logged_in_socket(m)
    try:
        c._sock.sendall(b"\x00\x00\x00\x00")
        # Either an ERR packet or a closed connection is acceptable; a hang is not.
        c._sock.settimeout(10)
        try:
            data = c._sock.recv(4096)
        except ConnectionResetError:
            data = b""
        assert data == b"" or data[4] == 0xFF, data[:64]
    finally:
        c._sock.close()
    _others_work(m)


def test_many_short_connections(manx):
    m = manx()
    for i in range(50):
        with m.connect() as c, c.cursor() as cur:
            cur.execute("select %s", (i,))
            assert cur.fetchone() == (i,)


def test_concurrent_clients(manx, backend, table):
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int auto_increment primary key, t int, v int)")
    errors = []

    def worker(t):
        try:
            with m.connect() as c, c.cursor() as cur:
                for i in range(100):
                    cur.execute(f"insert into `{table}` (t, v) values (%s, %s)", (t, i))
                    cur.execute(f"select count(*) from `{table}` where t = %s", (t,))
                    assert cur.fetchone() == (i + 1,)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads), "workers hung"
    assert errors == []
    with backend.cursor() as cur:
        cur.execute(f"select count(*), count(distinct t), sum(id % 2) from `{table}`")
        # hostM1 has auto_increment_offset 1: every id it generates is odd.
        assert cur.fetchone() == (800, 8, 800)
