/* The transitional wrappers of router/sql.c over mx_sql_scan(): markers,
 * USE, the statements manx answers itself, schema mapping and user
 * variables, with their old contracts. */
#include <stdio.h>
#include <string.h>

#include "protocol/packet.h"
#include "router/sql.h"
#include "test.h"

static const char *map(void *arg, const char *name, size_t len)
{
    (void)arg;
    if (len == 14 && memcmp(name, "aiurt-platform", 14) == 0)
        return "aiurt_platform";
    if (len == 4 && memcmp(name, "shop", 4) == 0)
        return "shop_real";
    return NULL;
}

static char uv[256];

static void uv_cb(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
    (void)arg;
    size_t n = strlen(uv);
    snprintf(uv + n, sizeof(uv) - n, "%.*s=%.*s;", (int)nlen, name, (int)vlen, val);
}

static int uvars(const char *q)
{
    uv[0] = 0;
    return mx_sql_set_uservars((const uint8_t *)q, strlen(q), uv_cb, NULL);
}

static void check_map(const char *in, const char *want, size_t n_want)
{
    mx_pktbuf_t b;
    mx_pktbuf_init(&b);
    size_t n = mx_sql_map_schemas((const uint8_t *)in, strlen(in), map, NULL, &b);
    ASSERT_EQ(n, n_want);
    if (n) {
        mx_put_u8(&b, 0);
        ASSERT_STR_EQ((const char *)b.data, want);
    } else {
        ASSERT_EQ(b.len, 0);
    }
    mx_pktbuf_free(&b);
}

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
    ASSERT_EQ(mx_sql_marks(S("select last_insert_id()")), MX_MARK_LAST_INSERT_ID);
    ASSERT_EQ(mx_sql_marks(S("select @@identity, @@session.last_insert_id")), MX_MARK_LAST_INSERT_ID);
    ASSERT_EQ(mx_sql_marks(S("select 'last_insert_id()', @@identity_x")), 0);
    /* What a compound statement does to the session counts too. */
    ASSERT_EQ(mx_sql_marks(S("BEGIN NOT ATOMIC CREATE TEMPORARY TABLE x (a INT); END")), MX_MARK_TEMP);
    ASSERT_EQ(mx_sql_marks(S("BEGIN NOT ATOMIC PREPARE s FROM 'select 1'; END")), MX_MARK_PREPARE);
    ASSERT_EQ(mx_sql_marks(S("BEGIN NOT ATOMIC SET @a = 1; END")), MX_MARK_USERVAR);
    ASSERT_EQ(mx_sql_marks(S("SELECT 'a\\'; SET @x = 1; -- '")), 0);
    ASSERT_EQ(mx_sql_marks(S("SELECT 1 /*!40000 , GET_LOCK('a', 0) */")), MX_MARK_LOCK);

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
    ASSERT_EQ(mx_sql_show_databases(S("show databases like 'a\\_b'"), buf, sizeof(buf)), 0);
    ASSERT_EQ(mx_sql_show_databases(S("show databases; show databases"), buf, sizeof(buf)), 0);
    ASSERT_EQ(mx_sql_select_database(S("SELECT DATABASE() AS xy"), buf, 2), 0); /* does not fit */
    ASSERT_EQ(mx_sql_use(S("USE `a`"), buf, 1), -1);

    check_map("select * from `aiurt-platform`.t", "select * from `aiurt_platform`.t", 1);
    check_map("select shop.t.c from shop.t join `shop` . u", "select `shop_real`.t.c from `shop_real`.t join `shop_real` . u", 3);
    check_map("select 'shop.t', \"`aiurt-platform`.x\" /* shop.y */ # shop.z", "", 0);
    check_map("select t.shop.x, shopping.t, myshop.t from t", "", 0);
    check_map("select `unterminated", "", 0);
    check_map("", "", 0);

    ASSERT_EQ(uvars("SET @a = 1, @b := 'x''y', @@session.sql_mode = 'ANSI', NAMES utf8mb4, @c=-2.5e3, @d=NULL, @e=_utf8mb4'z', @f=0xFF;"), 1);
    ASSERT_STR_EQ(uv, "a=1;b='x''y';c=-2.5e3;d=NULL;e=_utf8mb4'z';f=0xFF;");
    ASSERT_EQ(uvars("set @a = now()"), 0);
    ASSERT_EQ(uvars("set @a = 1 + 1"), 0);
    ASSERT_EQ(uvars("set @a = @b"), 0);
    ASSERT_EQ(uvars("set sql_mode = concat(@@sql_mode, @x)"), 0);
    ASSERT_EQ(uvars("select @a := 1"), 0);
    ASSERT_EQ(uvars("set @`quoted` = 1"), 0);
    ASSERT_EQ(uvars("set @a = 'unterminated"), 0);
    ASSERT_EQ(uvars("set autocommit = 0"), 1);
    ASSERT_STR_EQ(uv, "");
    /* Replayed verbatim elsewhere, a literal must read the same in every
     * sql_mode and charset, and the name must survive being written back. */
    ASSERT_EQ(uvars("set @a = 'x\\'y'"), 0);
    ASSERT_EQ(uvars("set @a = \"x\""), 0);
    ASSERT_EQ(uvars("set @`a b` = 1"), 0);
    ASSERT_EQ(uvars("set @a = 1; set @b = 2"), 0);
    ASSERT_EQ(uvars("SET @a = 1 /*!40000 , @b = 2 */"), 0); /* server version unknown */
    ASSERT_EQ(uvars("set @a = 1, @b = @a"), 0);
    ASSERT_EQ(uvars("set @a = - 1, @b = N'x', @c = X'41', @d = TRUE"), 1);
    ASSERT_STR_EQ(uv, "a=- 1;b=N'x';c=X'41';d=TRUE;");

    ASSERT_TRUE(mx_sql_like("aiurt%", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("%PLAT%", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("a_urt-platform", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("%", ""));
    ASSERT_TRUE(!mx_sql_like("a_", "a"));
    ASSERT_TRUE(!mx_sql_like("x%", "aiurt"));
    return mx_test_summary("sql");
}
