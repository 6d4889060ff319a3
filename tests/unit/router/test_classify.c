/* Tests for router/classify.c: every line of classify.eval is run and
 * compared (class, then any of hint=, flags=, has=, n=, limit_pos=, use=,
 * kill=), then direct checks of hints, flags, offsets and that every prefix
 * of some statements is classified without reading past its end. */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

#include "router/classify.h"
#include "test.h"

static void classify_str(const char *s, mx_sql_info_t *out)
{
    mx_sql_classify((const uint8_t *)s, strlen(s), out);
}

static void flags_str(uint32_t flags, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < 32; i++) {
        const char *name = mx_sql_flag_name(1u << i);
        if (!(flags & (1u << i)))
            continue;
        len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "|" : "",
                                name ? name : "?");
    }
}

/* Parses "A|B|C" into flag bits; returns false on an unknown name. */
static bool parse_flags(const char *s, uint32_t *out)
{
    *out = 0;
    while (*s) {
        size_t len = strcspn(s, "|");
        bool found = false;
        for (int i = 0; i < 32; i++) {
            const char *name = mx_sql_flag_name(1u << i);
            if (name && strlen(name) == len && strncmp(name, s, len) == 0) {
                *out |= 1u << i;
                found = true;
            }
        }
        if (!found)
            return false;
        s += len;
        if (*s == '|')
            s++;
    }
    return true;
}

/* "\n" and "\t" in the SQL column stand for a newline and a tab. */
static size_t unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && (r[1] == 'n' || r[1] == 't')) {
            *w++ = r[1] == 'n' ? '\n' : '\t';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

static int eval_fail(int lineno, const char *sql, const char *what, const char *want,
                     const char *got)
{
    mx_test_failures++;
    fprintf(stderr, "classify.eval:%d: %s\n  sql:  %s\n  want: %s\n  got:  %s\n", lineno, what, sql,
            want, got);
    return 0;
}

static int check_field(int lineno, const char *sql, const char *field, const mx_sql_info_t *info)
{
    char got[512], want[512];
    const char *eq = strchr(field, '=');
    if (!eq)
        return eval_fail(lineno, sql, "bad expectation", "key=value", field);
    size_t klen = (size_t)(eq - field);
    const char *v = eq + 1;
    mx_test_checks++;
    if (klen == 4 && strncmp(field, "hint", 4) == 0) {
        if (strcmp(v, mx_sql_hint_name(info->hint)) != 0)
            return eval_fail(lineno, sql, "hint", v, mx_sql_hint_name(info->hint));
    } else if ((klen == 5 && strncmp(field, "flags", 5) == 0) ||
               (klen == 3 && strncmp(field, "has", 3) == 0)) {
        uint32_t f;
        if (!parse_flags(v, &f))
            return eval_fail(lineno, sql, "unknown flag", "a flag name", v);
        uint32_t have = klen == 3 ? info->flags & f : info->flags;
        if (have != f) {
            flags_str(f, want, sizeof(want));
            flags_str(info->flags, got, sizeof(got));
            return eval_fail(lineno, sql, klen == 3 ? "has" : "flags", want, got);
        }
    } else if (klen == 1 && field[0] == 'n') {
        snprintf(got, sizeof(got), "%u", info->n_stmts);
        if (strcmp(v, got) != 0)
            return eval_fail(lineno, sql, "n_stmts", v, got);
    } else if (klen == 9 && strncmp(field, "limit_pos", 9) == 0) {
        snprintf(got, sizeof(got), "%zu", info->limit_pos);
        if (strcmp(v, got) != 0)
            return eval_fail(lineno, sql, "limit_pos", v, got);
    } else if (klen == 3 && strncmp(field, "use", 3) == 0) {
        if (strcmp(v, info->use_db) != 0)
            return eval_fail(lineno, sql, "use_db", v, info->use_db);
    } else if (klen == 4 && strncmp(field, "kill", 4) == 0) {
        snprintf(got, sizeof(got), "%llu", (unsigned long long)info->kill_id);
        if (strcmp(v, got) != 0)
            return eval_fail(lineno, sql, "kill_id", v, got);
    } else {
        return eval_fail(lineno, sql, "unknown expectation", "hint|flags|has|n|limit_pos|use|kill",
                         field);
    }
    return 1;
}

static void test_eval(const char *dir)
{
    char path[PATH_MAX], line[8192];
    snprintf(path, sizeof(path), "%s/router/classify.eval", dir);
    FILE *f = fopen(path, "r");
    ASSERT_TRUE(f != NULL);
    if (!f) {
        perror(path);
        return;
    }
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == 0 || line[0] == '#')
            continue;
        char *fields[16];
        int nf = 0;
        for (char *p = line; p && nf < 16;) {
            fields[nf++] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = 0;
        }
        if (nf < 2) {
            eval_fail(lineno, line, "malformed line", "CLASS<TAB>sql", line);
            continue;
        }
        cases++;
        char *sql = fields[1];
        size_t n = unescape(sql);
        /* An exact-size copy lets ASan catch reads past the end. */
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            abort();
        memcpy(copy, sql, n);
        mx_sql_info_t info;
        mx_sql_classify(copy, n, &info);
        free(copy);
        mx_test_checks++;
        if (strcmp(fields[0], mx_sql_class_name(info.cls)) != 0) {
            char got[600], fl[512];
            flags_str(info.flags, fl, sizeof(fl));
            snprintf(got, sizeof(got), "%s flags=%s", mx_sql_class_name(info.cls), fl);
            eval_fail(lineno, sql, "class", fields[0], got);
            continue;
        }
        for (int i = 2; i < nf; i++)
            if (fields[i][0])
                check_field(lineno, sql, fields[i], &info);
    }
    fclose(f);
    fprintf(stderr, "classify.eval: %d statements\n", cases);
    ASSERT_TRUE(cases >= 150);
}

static void test_hints(void)
{
    static const struct {
        const char *sql;
        int hint;
    } cases[] = {
        {"/*!mycat:db_type=master*/ select 1", MX_HINT_MASTER},
        {"/*#mycat:db_type=slave*/ select 1", MX_HINT_SLAVE},
        {"/*!manx:db_type=slave*/select 1", MX_HINT_SLAVE},
        {"/*#manx:db_type=master*/select 1", MX_HINT_MASTER},
        {"/*mycat:db_type=slave*/select 1", MX_HINT_SLAVE},
        {"/*!mycat: db_type = slave */ select 1", MX_HINT_SLAVE},
        {"/*# MyCat:DB_TYPE=Master */ select 1", MX_HINT_MASTER},
        {"  /* app */ /*#mycat:db_type=slave*/ select 1", MX_HINT_SLAVE},
        {"-- x\n/*#mycat:db_type=slave*/\nselect 1", MX_HINT_SLAVE},
        {"/*#mycat:db_type=slaves*/ select 1", MX_HINT_NONE},
        {"/*#mycat:db_type=*/ select 1", MX_HINT_NONE},
        {"/*#mycat:sql=select 1*/ call p()", MX_HINT_NONE},
        {"/*#mycat:schema=db1*/ select 1", MX_HINT_NONE},
        {"select 1 /*#mycat:db_type=slave*/", MX_HINT_NONE},
        {"select 1; /*#mycat:db_type=slave*/ select 2", MX_HINT_NONE},
        {"/*#other:db_type=slave*/ select 1", MX_HINT_NONE},
        {"/*#mycat:db_type=slave", MX_HINT_SLAVE},
        {"/*#mycat:db_type=master*/ /*#mycat:db_type=slave*/ select 1", MX_HINT_MASTER},
        {"/*!40001 /*#mycat:db_type=slave*/ */ select 1", MX_HINT_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mx_sql_info_t info;
        classify_str(cases[i].sql, &info);
        if (info.hint != cases[i].hint)
            fprintf(stderr, "hint case %zu: %s\n", i, cases[i].sql);
        ASSERT_EQ(info.hint, cases[i].hint);
    }

    /* The Mycat `!` spelling is not SQL: the statement is what follows, and
     * hint_end lets the proxy strip the comment before forwarding. */
    mx_sql_info_t info;
    const char *s = "/* a */ /*!mycat:db_type=master*/ update t set a=1";
    classify_str(s, &info);
    ASSERT_EQ(info.cls, MX_SQL_WRITE);
    ASSERT_EQ(info.hint, MX_HINT_MASTER);
    ASSERT_STR_EQ(s + info.hint_end, " update t set a=1");
    classify_str("/*!mycat:db_type=slave*/ select * from t", &info);
    ASSERT_EQ(info.cls, MX_SQL_READ);
    ASSERT_EQ(info.hint_end, 24);
    classify_str("/*!mycat:db_type=slave*/", &info);
    ASSERT_EQ(info.cls, MX_SQL_WRITE);
    ASSERT_EQ(info.n_stmts, 0);
    ASSERT_EQ(info.hint, MX_HINT_SLAVE);
}

static void test_limit_pos(void)
{
    static const struct {
        const char *sql;
        const char *before; /* text up to limit_pos, NULL when no LIMIT may be appended */
    } cases[] = {
        {"select * from t", "select * from t"},
        {"select * from t;", "select * from t"},
        {"select * from t ;  \n", "select * from t"},
        {"select * from t -- tail\n", "select * from t"},
        {"select * from t # tail", "select * from t"},
        {"select * from t /* tail */ ;", "select * from t"},
        {"select * from t where a = 'x;y' ;", "select * from t where a = 'x;y'"},
        {"select * from `t` order by `id` desc", "select * from `t` order by `id` desc"},
        {"select * from t /*!40001 where 1 */", "select * from t /*!40001 where 1 */"},
        {"select * from t /*!40001 where 1 */ -- x", "select * from t /*!40001 where 1 */"},
        {"select * from (select * from u limit 3) x", "select * from (select * from u limit 3) x"},
        {"with c as (select 1 from u limit 1) select * from c",
         "with c as (select 1 from u limit 1) select * from c"},
        {"select * from t limit 10", NULL},
        {"select * from t limit ?", NULL},
        {"select * from t for update", NULL},
        {"select * from t lock in share mode", NULL},
        {"select * from t /*!40001 lock in share mode */", NULL},
        {"select * from t union select * from u", NULL},
        {"(select * from t)", NULL},
        {"select 1", NULL},
        {"select @@version", NULL},
        {"select * from t into outfile '/tmp/x'", NULL},
        {"select * from t; select * from u", NULL},
        {"explain select * from t", NULL},
        {"update t set a = 1", NULL},
        {"select * from t fetch first 5 rows only", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mx_sql_info_t info;
        classify_str(cases[i].sql, &info);
        if (cases[i].before) {
            ASSERT_TRUE(info.flags & MX_SQLF_SELECT_NO_LIMIT);
            ASSERT_EQ(info.limit_pos, strlen(cases[i].before));
            if (!(info.flags & MX_SQLF_SELECT_NO_LIMIT) ||
                info.limit_pos != strlen(cases[i].before))
                fprintf(stderr, "limit case %zu: %s\n", i, cases[i].sql);
        } else {
            ASSERT_EQ(info.flags & MX_SQLF_SELECT_NO_LIMIT, 0);
            ASSERT_EQ(info.limit_pos, 0);
            if (info.flags & MX_SQLF_SELECT_NO_LIMIT)
                fprintf(stderr, "limit case %zu: %s\n", i, cases[i].sql);
        }
    }
}

static void test_kill_use(void)
{
    mx_sql_info_t info;
    classify_str("KILL 12", &info);
    ASSERT_EQ(info.kill_id, 12);
    ASSERT_EQ(info.flags, MX_SQLF_KILL);
    classify_str("kill query 4294967297;", &info);
    ASSERT_EQ(info.kill_id, 4294967297ull);
    ASSERT_EQ(info.flags, MX_SQLF_KILL | MX_SQLF_KILL_QUERY);
    classify_str("KILL CONNECTION 7", &info);
    ASSERT_EQ(info.kill_id, 7);
    classify_str("KILL HARD QUERY ID 99", &info);
    ASSERT_EQ(info.kill_id, 99);
    ASSERT_TRUE(info.flags & MX_SQLF_KILL_QUERY);
    classify_str("KILL 99999999999999999999999", &info);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_EQ(info.flags, MX_SQLF_KILL);
    classify_str("KILL USER bob", &info);
    ASSERT_EQ(info.kill_id, 0);
    classify_str("KILL 3; KILL 4", &info);
    ASSERT_EQ(info.kill_id, 3);

    classify_str("USE `shop`", &info);
    ASSERT_EQ(info.cls, MX_SQL_SESSION);
    ASSERT_STR_EQ(info.use_db, "shop");
    classify_str("use `we``ird`;", &info);
    ASSERT_STR_EQ(info.use_db, "we`ird");
    classify_str("USE 数据库", &info);
    ASSERT_STR_EQ(info.use_db, "数据库");
    classify_str("USE a; USE b", &info);
    ASSERT_STR_EQ(info.use_db, "b");
    ASSERT_EQ(info.n_stmts, 2);
    char longname[80];
    memset(longname, 'x', sizeof(longname));
    memcpy(longname, "use ", 4);
    longname[4 + 64] = 0;
    classify_str(longname, &info);
    ASSERT_EQ(strlen(info.use_db), 64);
    longname[4 + 64] = 'x';
    longname[4 + 65] = 0;
    classify_str(longname, &info);
    ASSERT_STR_EQ(info.use_db, "");
    ASSERT_TRUE(info.flags & MX_SQLF_USE);
    classify_str("use `unterminated", &info);
    ASSERT_STR_EQ(info.use_db, "");
}

static void test_names(void)
{
    ASSERT_STR_EQ(mx_sql_class_name(MX_SQL_READ), "READ");
    ASSERT_STR_EQ(mx_sql_class_name(MX_SQL_SESSION), "SESSION");
    ASSERT_STR_EQ(mx_sql_class_name(MX_SQL_WRITE), "WRITE");
    ASSERT_STR_EQ(mx_sql_class_name(7), "?");
    ASSERT_STR_EQ(mx_sql_hint_name(MX_HINT_SLAVE), "slave");
    ASSERT_STR_EQ(mx_sql_flag_name(MX_SQLF_DIAGNOSTICS), "DIAGNOSTICS");
    ASSERT_TRUE(mx_sql_flag_name(3) == NULL);
    ASSERT_TRUE(mx_sql_flag_name(1u << 31) == NULL);
    ASSERT_TRUE(mx_sql_flag_name(0) == NULL);
    for (int i = 0; i < 31; i++)
        ASSERT_TRUE(mx_sql_flag_name(1u << i) != NULL);
}

/* Every prefix of these, in an exact-size buffer, must classify without
 * reading out of bounds (ASan builds) and with sane outputs. */
static void test_prefixes(void)
{
    static const char *const stmts[] = {
        "/*!mycat: db_type = slave */ SELECT `a``b`, 'x\\'y''z', \"q\" FROM t WHERE c = N'中文' "
        "AND d = X'0F' AND e = _utf8mb4'é' -- tail\n;",
        "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */; # c\n"
        "SET autocommit = 0, @x := 1; USE `d``b`; KILL QUERY 12",
        "CREATE PROCEDURE p() BEGIN IF a THEN SELECT 1; END IF; CASE WHEN 1 THEN SELECT 2; "
        "END CASE; END; SELECT 1",
        "WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) "
        "(SELECT * FROM c) /*M!100100 FOR UPDATE */",
        "select @@identity, next value for s, get_lock('l', 1) into @a, @b from dual "
        "lock in share mode",
        "SET STATEMENT max_statement_time=1 FOR SELECT * FROM t LIMIT 1",
    };
    for (size_t k = 0; k < sizeof(stmts) / sizeof(stmts[0]); k++) {
        size_t len = strlen(stmts[k]);
        for (size_t n = 0; n <= len; n++) {
            uint8_t *buf = malloc(n ? n : 1);
            if (!buf)
                abort();
            memcpy(buf, stmts[k], n);
            mx_sql_info_t info;
            mx_sql_classify(buf, n, &info);
            free(buf);
            mx_test_checks++;
            if (info.cls > MX_SQL_WRITE || info.hint > MX_HINT_SLAVE || info.limit_pos > n ||
                info.hint_end > n || strlen(info.use_db) > MX_SQL_USE_DB_MAX ||
                info.n_stmts > n) {
                mx_test_failures++;
                fprintf(stderr, "prefix %zu of statement %zu: bad output\n", n, k);
            }
        }
    }
}

int main(void)
{
    const char *dir = getenv("MX_TEST_DATA");
    test_eval(dir ? dir : ".");
    test_hints();
    test_limit_pos();
    test_kill_use();
    test_names();
    test_prefixes();
    return mx_test_summary("classify");
}
