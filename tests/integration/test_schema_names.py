"""Logical schema names: clients see `aiurt-platform`, never the real
database `aiurt_platform`, in SHOW DATABASES and SELECT DATABASE(), and
only the schemas their user may use."""

import pytest

pytestmark = pytest.mark.manx_only


def q(m, sql, **kw):
    c = m.connect(**kw)
    with c.cursor() as cur:
        cur.execute(sql)
        rows, desc = cur.fetchall(), cur.description
    c.close()
    return rows, desc[0][0] if desc else None


def test_show_databases_lists_the_users_schemas(manx):
    m = manx(users_extra="\n[user both]\npassword = 123456\nschemas = aiurt-platform, other\n")
    assert q(m, "SHOW DATABASES") == ((("aiurt-platform",),), "Database")
    assert q(m, "show schemas;", user="both") == ((("aiurt-platform",), ("other",)), "Database")
    assert q(m, "SHOW DATABASES LIKE 'oth%'", user="both") == ((("other",),), "Database (oth%)")
    assert q(m, "SHOW DATABASES LIKE 'nope%'")[0] == ()


def test_select_database_gives_the_logical_name(manx):
    m = manx()
    assert q(m, "SELECT DATABASE()") == ((("aiurt-platform",),), "DATABASE()")
    assert q(m, "select schema() as db") == ((("aiurt-platform",),), "db")
    assert q(m, "SELECT DATABASE()", db="")[0] == ((None,),)
    r = m.cli("select database(); use aiurt-platform; select database()", db="")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["database()", "NULL", "database()", "aiurt-platform"]


def test_logical_schema_qualifiers_are_mapped(manx, backend, table):
    """Mycat's checkSQLschema: `aiurt-platform`.t means aiurt_platform.t;
    text inside strings and comments is left alone.  The reads may run on the
    replica: consistency = session makes them wait for this session's write."""
    m = manx(datahost_extra={"balance": 1, "consistency": "session"})
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v VARCHAR(40))")
    c = m.connect()
    with c.cursor() as cur:
        cur.execute(f"INSERT INTO `aiurt-platform`.`{table}` VALUES (1, '`aiurt-platform`.x')")
        cur.execute(f"SELECT v FROM `aiurt-platform`.`{table}` /* `aiurt-platform`.y */ WHERE id = 1")
        assert cur.fetchone() == ("`aiurt-platform`.x",)
        cur.execute(f"SELECT t.v FROM `aiurt-platform`.`{table}` t JOIN `aiurt-platform`.`{table}` u USING (id)")
        assert cur.fetchone() == ("`aiurt-platform`.x",)
    c.close()
    with m.capi() as cc, cc.stmt(f"SELECT COUNT(*) FROM `aiurt-platform`.`{table}` WHERE id = ?") as st:
        st.bind([1])
        for _ in range(4):  # prepared again wherever it runs, with the mapped text
            st.execute()
            assert st.fetch_all() == [(b"1",)]


def test_logical_names_in_answers_and_information_schema(manx, backend, table):
    """Issue 9 items 6 and 7: wherever the client sees a schema name it sees
    the logical one: DATABASE() inside a statement, SHOW TABLES' column,
    information_schema rows, error messages; and information_schema asked
    with the logical name finds the real database (JDBC DatabaseMetaData)."""
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE aiurt_platform.`{table}` (id INT PRIMARY KEY, v VARCHAR(40))")
        cur.execute(f"INSERT INTO aiurt_platform.`{table}` VALUES (1, 'aiurt_platform')")
    m = manx()
    c = m.connect()
    try:
        with c.cursor() as cur:
            cur.execute("SELECT CONCAT('db=', DATABASE()), DATABASE() IS NOT NULL, database( )")
            assert cur.fetchall() == (("db=aiurt-platform", 1, "aiurt-platform"),)
            # Column names as the client wrote the call (spelled DATABASE()).
            assert [d[0] for d in cur.description] == ["CONCAT('db=', DATABASE())",
                                                       "DATABASE() IS NOT NULL", "DATABASE()"]
            cur.execute(f"SHOW TABLES LIKE '{table}'")
            assert cur.fetchall() == ((table,),)
            assert cur.description[0][0] == f"Tables_in_aiurt-platform ({table})"
            cur.execute(f"SHOW TABLES FROM `aiurt-platform` LIKE '{table}'")
            assert cur.fetchall() == ((table,),)
            cur.execute("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                        f"WHERE TABLE_SCHEMA = 'aiurt-platform' AND TABLE_NAME = '{table}'")
            assert cur.fetchall() == (("aiurt-platform", table),)
            cur.execute("SELECT TABLE_SCHEMA FROM information_schema.TABLES "
                        f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'")
            assert cur.fetchall() == (("aiurt-platform",),)
            cur.execute("SELECT COUNT(*) FROM information_schema.COLUMNS "
                        f"WHERE TABLE_SCHEMA LIKE 'aiurt-platform' AND TABLE_NAME = '{table}'")
            assert cur.fetchall() == ((2,),)
            # A data value that happens to be the real name stays as it is,
            # and so does a literal outside information_schema statements.
            cur.execute(f"SELECT v, 'aiurt_platform' AS TABLE_SCHEMA FROM `{table}`")
            assert cur.fetchall() == (("aiurt_platform", "aiurt_platform"),)
            cur.execute(f"SELECT COUNT(*) FROM `{table}` WHERE v = 'aiurt-platform'")
            assert cur.fetchall() == ((0,),)
            with pytest.raises(Exception) as e:
                cur.execute("SELECT * FROM no_such_table_here")
            assert e.value.args[0] == 1146
            assert "'aiurt-platform.no_such_table_here'" in e.value.args[1]
    finally:
        c.close()


def test_logical_names_in_prepared_statements(manx, backend, table):
    """Binary protocol: a prepared USE, DATABASE() and information_schema
    rows come back with the logical name."""
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE aiurt_platform.`{table}` (id INT PRIMARY KEY)")
    m = manx(users_extra="\n[user both]\npassword = 123456\nschemas = aiurt-platform, other\n")
    with m.capi(user="both", db="other") as cc:
        with cc.stmt("USE `aiurt-platform`") as st:
            st.execute()
        assert cc.query("SELECT DATABASE()") == [(b"aiurt-platform",)]
        with cc.stmt("SELECT DATABASE(), ?") as st:
            st.bind([7])
            st.execute()
            assert st.fetch_all() == [(b"aiurt-platform", b"7")]
        with cc.stmt("SELECT TABLE_SCHEMA, TABLE_ROWS IS NULL, TABLE_NAME FROM information_schema.TABLES "
                     "WHERE TABLE_SCHEMA = 'aiurt-platform' AND TABLE_NAME = ?") as st:
            st.bind([table])
            st.execute()
            assert st.fetch_all() == [(b"aiurt-platform", b"0", table.encode())]


def test_session_without_database_has_none_on_any_backend(manx, backend, table):
    """Issue 9 item 17: a login without a database gets 1046 No database
    selected, as directly, even on backends that other sessions used with
    one (max_con = 1: every session shares the same backends)."""
    m = manx(max_con=1, min_con=0)
    for _ in range(3):
        c = m.connect()  # with the schema
        with c.cursor() as cur:
            cur.execute("SELECT 1")
        c.close()
        n = m.connect(db="", client_flag=1 << 16)  # CLIENT_MULTI_STATEMENTS
        try:
            with n.cursor() as cur:
                cur.execute("SELECT DATABASE()")
                assert cur.fetchall() == ((None,),)
                with pytest.raises(Exception) as e:
                    cur.execute(f"CREATE TABLE `{table}` (a INT)")
                assert e.value.args[0] == 1046
                # A database chosen by a statement the backend runs: the
                # session follows it; the connection never serves a
                # session without a database again.
                cur.execute("SELECT 1; USE `aiurt-platform`")
                while cur.nextset():
                    pass
                cur.execute("SELECT DATABASE()")
                assert cur.fetchall() == (("aiurt-platform",),)
        finally:
            n.close()
