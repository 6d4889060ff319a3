"""The binary protocol through manx, driven by libmariadb over ctypes:
COM_STMT_PREPARE/EXECUTE/FETCH/SEND_LONG_DATA/RESET/CLOSE."""

import hashlib
import random
import threading

import pytest

import mdb


def test_prepare_execute(manx):
    m = manx()
    with m.capi() as c, c.stmt("select ? + 1, ?, ?") as st:
        assert st.param_count == 3
        for i in range(20):
            st.bind([i, f"s{i}", None])
            st.execute()
            assert st.fetch_all() == [(str(i + 1).encode(), f"s{i}".encode(), None)]


def test_prepare_insert_select(manx, backend, table):
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, name varchar(40), n bigint)")
    with m.capi() as c:
        with c.stmt(f"insert into `{table}` values (?, ?, ?)") as ins:
            for i in range(1, 201):
                ins.bind([i, f"name-{i}", i * i])
                assert ins.execute() == 1
        with c.stmt(f"select id, name, n from `{table}` where id between ? and ? order by id") as sel:
            sel.bind([10, 12])
            sel.execute()
            sel.store_result()
            assert sel.fetch_all() == [(b"10", b"name-10", b"100"), (b"11", b"name-11", b"121"),
                                       (b"12", b"name-12", b"144")]
            sel.bind([1, 200])
            sel.execute()
            rows = sel.fetch_all()
            assert len(rows) == 200 and sum(int(r[2]) for r in rows) == sum(i * i for i in range(1, 201))
        # Text protocol still fine on the same connection.
        assert c.query(f"select count(*) from `{table}`") == [(b"200",)]


def test_prepare_error(manx):
    m = manx()
    with m.capi() as c:
        with pytest.raises(mdb.Error) as e:
            c.stmt("select * from no_such_table_ps")
        assert e.value.errno == 1146 and e.value.sqlstate == "42S02"
        with pytest.raises(mdb.Error) as e:
            c.stmt("selec ?")
        assert e.value.errno == 1064
        with c.stmt("select 1") as st:
            st.execute()
            assert st.fetch_all() == [(b"1",)]


def test_execute_error_keeps_statement(manx, backend, table):
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key)")
    with m.capi() as c, c.stmt(f"insert into `{table}` values (?)") as st:
        st.bind([1])
        st.execute()
        with pytest.raises(mdb.Error) as e:
            st.execute()
        assert e.value.errno == 1062 and e.value.sqlstate == "23000"
        st.bind([2])
        assert st.execute() == 1


def test_cursor_fetch(manx):
    m = manx()
    with m.capi() as c, c.stmt("select seq, concat('r', seq) from seq_1_to_1000 where seq > ?") as st:
        st.set_cursor(prefetch=7)
        st.bind([0])
        st.execute()
        # Another statement on the same connection between fetches.
        first = st.fetch_all(limit=10)
        assert [int(r[0]) for r in first] == list(range(1, 11))
        assert c.query("select 'between'") == [(b"between",)]
        rest = st.fetch_all()
        assert len(rest) == 990
        assert sum(int(r[0]) for r in rest) == sum(range(11, 1001))
        assert rest[-1] == (b"1000", b"r1000")
        # Re-execute the cursor statement.
        st.bind([995])
        st.execute()
        assert [int(r[0]) for r in st.fetch_all()] == [996, 997, 998, 999, 1000]


def test_send_long_data_and_reset(manx, backend, table):
    m = manx()
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, b longblob)")
    junk = b"j" * 100000
    data = random.Random(5).randbytes(3 * 1024 * 1024 + 11)
    with m.capi(max_allowed_packet=64 << 20) as c, c.stmt(f"insert into `{table}` values (?, ?)") as st:
        st.bind([1, None], long_data={1})
        st.send_long_data(1, junk)
        st.reset()           # drops the long data sent so far
        st.bind([1, None], long_data={1})
        st.send_long_data(1, data, chunk=256 * 1024)
        assert st.execute() == 1
        with c.stmt(f"select b from `{table}` where id = ?") as sel:
            sel.bind([1])
            sel.execute()
            sel.store_result()
            (row,) = sel.fetch_all()
            assert len(row[0]) == len(data) and row[0] == data
    with backend.cursor() as cur:
        cur.execute(f"select length(b), sha1(b) from `{table}` where id = 1")
        assert cur.fetchone() == (len(data), hashlib.sha1(data).hexdigest())


def test_many_prepare_close(manx):
    m = manx()
    with m.capi() as c:
        for i in range(100):
            with c.stmt(f"select {i}, ?") as st:
                st.bind([i])
                st.execute()
                assert st.fetch_all() == [(str(i).encode(), str(i).encode())]
        assert c.query("select 'ok'") == [(b"ok",)]


def test_prepared_many_clients_small_pool(manx, backend, table):
    """More clients than backend connections, each with its own prepared
    statements used in turn: a statement must work whichever pooled backend
    connection runs it."""
    m = manx(max_con=2, min_con=1)
    with backend.cursor() as cur:
        cur.execute(f"create table `{table}` (id int primary key, c int)")
    errors = []

    def worker(t):
        try:
            with m.capi() as c:
                ins = c.stmt(f"insert into `{table}` values (?, ?)")
                sel = c.stmt(f"select sum(c), count(*) from `{table}` where id div 1000 = ?")
                try:
                    for i in range(50):
                        ins.bind([t * 1000 + i, i])
                        assert ins.execute() == 1
                        sel.bind([t])
                        sel.execute()
                        assert sel.fetch_all() == [(str(i * (i + 1) // 2).encode(),
                                                    str(i + 1).encode())]
                finally:
                    ins.close()
                    sel.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {t}: {e!r}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(1, 5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads), "clients hung"
    assert errors == []
    with backend.cursor() as cur:
        cur.execute(f"select count(*) from `{table}`")
        assert cur.fetchone() == (200,)
