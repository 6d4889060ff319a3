/* The small SQL recognizers of router/sql.c: markers, USE, and the
 * statements manx answers itself. */
#include <stdio.h>
#include <string.h>

#include "router/sql.h"
#include "test.h"

#define S(x) (const uint8_t *)(x), strlen(x)

int main(void)
{
    char buf[128];

    ASSERT_EQ(mx_sql_marks(S("SET @a = 1")), MX_MARK_USERVAR);
    ASSERT_EQ(mx_sql_marks(S("select @@session.sql_mode, '@x' /* @y */")), 0);
    ASSERT_EQ(mx_sql_marks(S("CREATE TEMPORARY TABLE t (id int)")), MX_MARK_TEMP);
    ASSERT_EQ(mx_sql_marks(S("lock tables t write")), MX_MARK_LOCK);
    ASSERT_EQ(mx_sql_marks(S("SELECT GET_LOCK('a', 1)")), MX_MARK_LOCK);
    ASSERT_EQ(mx_sql_marks(S("select sql_calc_found_rows * from t")), MX_MARK_FOUND_ROWS);
    ASSERT_EQ(mx_sql_marks(S("PREPARE s FROM 'select 1'")), MX_MARK_PREPARE);

    ASSERT_EQ(mx_sql_use(S("USE `aiurt-platform`;"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "aiurt-platform");
    ASSERT_EQ(mx_sql_use(S(" /* c */ use shop"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "shop");
    ASSERT_EQ(mx_sql_use(S("user()"), buf, sizeof(buf)), 0);
    ASSERT_EQ(mx_sql_use(S("use a; select 1"), buf, sizeof(buf)), -1);
    ASSERT_EQ(mx_sql_use(S("use `unterminated"), buf, sizeof(buf)), -1);

    ASSERT_EQ(mx_sql_select_database(S("SELECT DATABASE()"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "DATABASE()");
    ASSERT_EQ(mx_sql_select_database(S("select  schema ( ) as `my db`;"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "my db");
    ASSERT_EQ(mx_sql_select_database(S("select database() d"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "d");
    ASSERT_EQ(mx_sql_select_database(S("select database(), 1"), buf, sizeof(buf)), 0);
    ASSERT_EQ(mx_sql_select_database(S("select databases()"), buf, sizeof(buf)), 0);
    ASSERT_EQ(mx_sql_select_database(S("select database("), buf, sizeof(buf)), 0);

    ASSERT_EQ(mx_sql_select_connection_id(S("SELECT CONNECTION_ID()"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "CONNECTION_ID()");
    ASSERT_EQ(mx_sql_select_connection_id(S("select connection_id() as cid"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "cid");
    ASSERT_EQ(mx_sql_select_connection_id(S("select connection_id(), 2"), buf, sizeof(buf)), 0);

    ASSERT_EQ(mx_sql_show_databases(S("SHOW DATABASES"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "");
    ASSERT_EQ(mx_sql_show_databases(S("show schemas like 'a%';"), buf, sizeof(buf)), 1);
    ASSERT_STR_EQ(buf, "a%");
    ASSERT_EQ(mx_sql_show_databases(S("show databases where 1"), buf, sizeof(buf)), 0);
    ASSERT_EQ(mx_sql_show_databases(S("show databases like 'x"), buf, sizeof(buf)), 0);

    ASSERT_TRUE(mx_sql_like("aiurt%", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("%PLAT%", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("a_urt-platform", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("%", ""));
    ASSERT_TRUE(!mx_sql_like("a_", "a"));
    ASSERT_TRUE(!mx_sql_like("x%", "aiurt"));
    return mx_test_summary("sql");
}
