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
