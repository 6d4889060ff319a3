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
