/* Tests for router/digest.c: the fingerprints of a set of statements as
 * applications send them (values, IN-lists, multi-row inserts, comments,
 * hints, case and spacing), that statements differing only in values share
 * a fingerprint and hash while different statements do not, the cut of a
 * long text, and that a fingerprint is its own fingerprint. */
#include <stdlib.h>

#include "router/digest.h"
#include "test.h"

static const mx_lexmode_t base = {.sql_mode = 0, .charset = MX_CS_UTF8, .server_version = 101106,
                                  .mariadb = true};

static uint64_t fp(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    uint8_t *q = malloc(n ? n : 1); /* exact size: ASan sees overreads */
    if (!q)
        abort();
    memcpy(q, s, n);
    uint64_t h = mx_digest(q, n, &base, out, cap);
    free(q);
    return h;
}

static void test_table(void)
{
    static const struct {
        const char *sql, *want;
    } t[] = {
        {"SELECT * FROM t WHERE id = 42", "select * from t where id = ?"},
        {"select *\n  from   t\twhere id=42;", "select * from t where id = ?"},
        {"SELECT name FROM users WHERE name = 'bob' AND age > 30", "select name from users where name = ? and age > ?"},
        {"SELECT * FROM t WHERE id IN (1, 2, 3)", "select * from t where id in (?)"},
        {"select * from t where id in (7)", "select * from t where id in (?)"},
        {"SELECT * FROM t WHERE id IN ('a','b') AND x IN (SELECT y FROM u)",
         "select * from t where id in (?) and x in (select y from u)"},
        {"SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))", "select * from t where (a, b) in (?)"},
        {"INSERT INTO t (a, b) VALUES (1, 'x')", "insert into t (a, b) values (?, ?)"},
        {"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", "insert into t (a, b) values (?, ?)"},
        {"INSERT INTO t VALUES (1, NOW()), (2, NOW())", "insert into t values (?, now()), (?, now())"},
        {"insert into t values (1) on duplicate key update a = values(a)",
         "insert into t values (?) on duplicate key update a = values (a)"},
        {"UPDATE t SET a = -5, b = b - 1 WHERE id = +3", "update t set a = ?, b = b - ? where id = ?"},
        {"SELECT a-1, f(-2) FROM t", "select a - ?, f(?) from t"},
        {"SELECT /* comment */ 1 -- tail\n", "select ?"},
        {"/*+ db_type=master */ SELECT 1", "select ?"},
        {"/* mycat:db_type=slave */select 1", "select ?"},
        {"SELECT `Id` FROM `db`.`T` WHERE x >= 1 AND y <> 2", "select id from db.t where x >= ? and y <> ?"},
        {"SELECT @a := 1, @@session.sql_mode", "select @a := ?, @@session.sql_mode"},
        {"SELECT 0x1F, x'1F', 1.5e3, N'abc', _utf8mb4'x'", "select ?, ?, ?, ?, _utf8mb4 ?"},
        {"SELECT * FROM t WHERE id = ?", "select * from t where id = ?"},
        {"SELECT * FROM t WHERE id IN (?, ?, ?)", "select * from t where id in (?)"},
        {"begin; update t set a=1 where id=2; commit;", "begin; update t set a = ? where id = ?; commit"},
        {"SELECT COUNT(*) FROM t LIMIT 10, 20", "select count(*) from t limit ?, ?"},
        {"", ""},
        {";;", ""},
        {"SELECT 'unterminated", "select ?"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char out[MX_DIGEST_TEXT_MAX];
        fp(t[i].sql, out, sizeof(out));
        ASSERT_STR_EQ(out, t[i].want);
        /* A fingerprint is its own fingerprint. */
        char again[MX_DIGEST_TEXT_MAX];
        fp(out, again, sizeof(again));
        ASSERT_STR_EQ(again, out);
    }
}

static void test_hash(void)
{
    char a[MX_DIGEST_TEXT_MAX], b[MX_DIGEST_TEXT_MAX];
    ASSERT_EQ(fp("SELECT * FROM t WHERE id IN (1,2)", a, sizeof(a)),
              fp("select * from t where id in ( 9 )", b, sizeof(b)));
    ASSERT_TRUE(fp("SELECT * FROM t WHERE id = 1", a, sizeof(a)) != fp("SELECT * FROM u WHERE id = 1", b, sizeof(b)));
    ASSERT_TRUE(fp("SELECT a FROM t", a, sizeof(a)) != fp("SELECT b FROM t", b, sizeof(b)));
}

static void test_cut(void)
{
    char sql[4000] = "SELECT ";
    for (int i = 0; i < 400; i++)
        strcat(sql, "col, ");
    strcat(sql, "x FROM t");
    char out[64];
    fp(sql, out, sizeof(out));
    ASSERT_TRUE(strlen(out) < sizeof(out));
    ASSERT_STR_EQ(out + strlen(out) - 3, "...");
    ASSERT_TRUE(strncmp(out, "select col, col,", 16) == 0);
    /* Control bytes of stray punctuation never reach the console. */
    char ctl[MX_DIGEST_TEXT_MAX];
    uint8_t raw[] = {'s', 'e', 'l', 'e', 'c', 't', ' ', 0x01, ' ', '1'};
    mx_digest(raw, sizeof(raw), &base, ctl, sizeof(ctl));
    ASSERT_STR_EQ(ctl, "select . ?");
}

static void test_modes(void)
{
    /* Under ANSI_QUOTES "x" is a name, otherwise a string. */
    mx_lexmode_t ansi = base;
    ansi.sql_mode = MX_LEX_ANSI_QUOTES;
    const char *s = "SELECT \"Col\" FROM t";
    char out[MX_DIGEST_TEXT_MAX];
    mx_digest((const uint8_t *)s, strlen(s), &ansi, out, sizeof(out));
    ASSERT_STR_EQ(out, "select col from t");
    mx_digest((const uint8_t *)s, strlen(s), &base, out, sizeof(out));
    ASSERT_STR_EQ(out, "select ? from t");
}

int main (void)
{
    test_table();
    test_hash();
    test_cut();
    test_modes();
    return mx_test_summary("digest");
}
