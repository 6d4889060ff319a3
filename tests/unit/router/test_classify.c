/* Tests for router/classify.c: every line of classify.eval is run under its
 * mode and compared (class, readonly verdict, then any expectation the line
 * lists), then direct checks of hints, flags, offsets, the statements manx
 * answers itself, a mode without the server's version, and that every prefix
 * of some statements is classified without reading past its end. */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

#include "router/classify.h"
#include "test.h"

/* The mode of classify.eval lines without mode=: a utf8 client in the
 * default sql_mode on MariaDB 10.11.6. */
static const mx_lexmode_t default_mode = {.sql_mode = 0, .charset = MX_CS_UTF8,
                                          .server_version = 101106, .mariadb = true};

static void classify_str(const char *s, mx_sql_info_t *out)
{
    mx_sql_scan((const uint8_t *)s, strlen(s), &default_mode, NULL, out);
}

static void flags_str(uint64_t flags, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < 64; i++) {
        const char *name = mx_sql_flag_name(UINT64_C(1) << i);
        if (!(flags & (UINT64_C(1) << i)))
            continue;
        len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "|" : "",
                                name ? name : "?");
    }
}

/* Parses "A|B|C" into flag bits; returns false on an unknown name. */
static bool parse_flags(const char *s, uint64_t *out)
{
    *out = 0;
    while (*s) {
        size_t len = strcspn(s, "|");
        bool found = false;
        for (int i = 0; i < 64; i++) {
            const char *name = mx_sql_flag_name(UINT64_C(1) << i);
            if (name && strlen(name) == len && strncmp(name, s, len) == 0) {
                *out |= UINT64_C(1) << i;
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

/* "\n", "\t" and "\xNN" in the SQL column stand for a newline, a tab and
 * the byte NN; a backslash followed by anything else is itself. */
static size_t unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && (r[1] == 'n' || r[1] == 't')) {
            *w++ = r[1] == 'n' ? '\n' : '\t';
            r++;
        } else if (r[0] == '\\' && r[1] == 'x' && isxdigit((unsigned char)r[2]) &&
                   isxdigit((unsigned char)r[3])) {
            char hex[3] = {r[2], r[3], 0};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

/* mode=nbe,ansi,modeunknown,cs=<kind>,v=<version>,mysql */
static bool parse_mode(const char *s, mx_lexmode_t *m)
{
    static const struct {
        const char *name;
        uint8_t kind;
    } kinds[] = {{"utf8", MX_CS_UTF8},  {"single", MX_CS_SINGLE},    {"gbk", MX_CS_GBK},
                 {"big5", MX_CS_BIG5},  {"sjis", MX_CS_SJIS},        {"othermb", MX_CS_OTHER_MB},
                 {"unknown", MX_CS_UNKNOWN}};
    *m = default_mode;
    while (*s) {
        size_t len = strcspn(s, ",");
        bool ok = false;
        if (len == 3 && strncmp(s, "nbe", 3) == 0) {
            m->sql_mode |= MX_LEX_NO_BACKSLASH_ESCAPES;
            ok = true;
        } else if (len == 4 && strncmp(s, "ansi", 4) == 0) {
            m->sql_mode |= MX_LEX_ANSI_QUOTES;
            ok = true;
        } else if (len == 11 && strncmp(s, "modeunknown", 11) == 0) {
            m->sql_mode |= MX_LEX_SQL_MODE_UNKNOWN;
            ok = true;
        } else if (len == 5 && strncmp(s, "mysql", 5) == 0) {
            m->mariadb = false;
            ok = true;
        } else if (len > 2 && strncmp(s, "v=", 2) == 0) {
            m->server_version = (uint32_t)strtoul(s + 2, NULL, 10);
            ok = true;
        } else if (len > 3 && strncmp(s, "cs=", 3) == 0) {
            for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
                if (strlen(kinds[k].name) == len - 3 && strncmp(s + 3, kinds[k].name, len - 3) == 0) {
                    m->charset = kinds[k].kind;
                    ok = true;
                }
        }
        if (!ok)
            return false;
        s += len;
        if (*s == ',')
            s++;
    }
    return true;
}

/* What the callbacks saw, as text: "Q:db|U:name|F:database()" (a call as
 * typed), "a=1;b='x';" and "lit;lit;". */
typedef struct seen_s {
    const char *q;
    char db[1024];
    char uv[1024];
    char lit[1024];
} seen_t;

static void seen_db(void *arg, int kind, size_t off, size_t len, const char *name, size_t nlen)
{
    seen_t *s = arg;
    static const char kinds[] = "?QUSDF";
    size_t n = strlen(s->db);
    if (kind == MX_SQL_DB_FUNC) {
        name = s->q + off;
        nlen = len;
    }
    snprintf(s->db + n, sizeof(s->db) - n, "%s%c:%.*s", n ? "|" : "", kinds[kind > 0 && kind < 6 ? kind : 0],
             (int)nlen, name);
}

static void seen_lit(void *arg, size_t off, size_t len, const char *val, size_t vlen)
{
    seen_t *s = arg;
    size_t n = strlen(s->lit);
    (void)off;
    (void)len;
    snprintf(s->lit + n, sizeof(s->lit) - n, "%.*s;", (int)vlen, val);
}

static void seen_uv(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
    seen_t *s = arg;
    size_t n = strlen(s->uv);
    snprintf(s->uv + n, sizeof(s->uv) - n, "%.*s=%.*s;", (int)nlen, name, (int)vlen, val);
}

static const char *local_name(int local)
{
    static const char *const names[] = {"none", "use", "select_database", "connection_id",
                                        "show_databases"};
    return local >= 0 && local < 5 ? names[local] : "?";
}

static int eval_fail(int lineno, const char *sql, const char *what, const char *want,
                     const char *got)
{
    mx_test_failures++;
    fprintf(stderr, "classify.eval:%d: %s\n  sql:  %s\n  want: %s\n  got:  %s\n", lineno, what, sql,
            want, got);
    return 0;
}

static int check_field(int lineno, const char *sql, const char *field, const mx_sql_info_t *info,
                       const seen_t *seen)
{
    char got[1100], want[1100];
    const char *eq = strchr(field, '=');
    if (!eq)
        return eval_fail(lineno, sql, "bad expectation", "key=value", field);
    size_t klen = (size_t)(eq - field);
    const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && strncmp(field, k, klen) == 0)
    mx_test_checks++;
    if (KEY("mode")) {
        /* read before the scan */
    } else if (KEY("hint")) {
        if (strcmp(v, mx_sql_hint_name(info->hint)) != 0)
            return eval_fail(lineno, sql, "hint", v, mx_sql_hint_name(info->hint));
    } else if (KEY("flags") || KEY("has") || KEY("lacks")) {
        uint64_t f;
        if (!parse_flags(v, &f))
            return eval_fail(lineno, sql, "unknown flag", "a flag name", v);
        uint64_t have = KEY("flags") ? info->flags : info->flags & f;
        uint64_t expect = KEY("lacks") ? 0 : f;
        if (have != expect) {
            flags_str(f, want, sizeof(want));
            flags_str(info->flags, got, sizeof(got));
            return eval_fail(lineno, sql, KEY("lacks") ? "lacks" : KEY("has") ? "has" : "flags", want, got);
        }
    } else if (KEY("n")) {
        snprintf(got, sizeof(got), "%u", info->n_stmts);
        if (strcmp(v, got) != 0)
            return eval_fail(lineno, sql, "n_stmts", v, got);
    } else if (KEY("limit_pos")) {
        snprintf(got, sizeof(got), "%zu", info->limit_pos);
        if (strcmp(v, got) != 0)
            return eval_fail(lineno, sql, "limit_pos", v, got);
    } else if (KEY("use")) {
        if (strcmp(v, info->use_db) != 0)
            return eval_fail(lineno, sql, "use_db", v, info->use_db);
    } else if (KEY("kill")) {
        snprintf(got, sizeof(got), "%llu", (unsigned long long)info->kill_id);
        if (strcmp(v, got) != 0)
            return eval_fail(lineno, sql, "kill_id", v, got);
    } else if (KEY("amb")) {
        if ((v[0] == '1') != info->ambiguous)
            return eval_fail(lineno, sql, "ambiguous", v, info->ambiguous ? "1" : "0");
    } else if (KEY("local")) {
        if (strcmp(v, local_name(info->local)) != 0)
            return eval_fail(lineno, sql, "local", v, local_name(info->local));
    } else if (KEY("lname")) {
        if (strcmp(v, info->local_name) != 0)
            return eval_fail(lineno, sql, "local_name", v, info->local_name);
    } else if (KEY("like")) {
        if ((v[0] == '1') != info->local_like)
            return eval_fail(lineno, sql, "local_like", v, info->local_like ? "1" : "0");
    } else if (KEY("db")) {
        if (strcmp(v, seen->db) != 0)
            return eval_fail(lineno, sql, "db_name callbacks", v, seen->db);
    } else if (KEY("lit")) {
        if (strcmp(v, seen->lit) != 0)
            return eval_fail(lineno, sql, "literal callbacks", v, seen->lit);
    } else if (KEY("uv")) {
        if (strcmp(v, seen->uv) != 0)
            return eval_fail(lineno, sql, "uservar callbacks", v, seen->uv);
    } else {
        return eval_fail(lineno, sql, "unknown expectation",
                         "mode|hint|flags|has|lacks|n|limit_pos|use|kill|amb|local|lname|like|db|uv|lit", field);
    }
#undef KEY
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
    int lineno = 0, cases = 0, ro = 0;
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
        if (nf < 3 || (strcmp(fields[1], "ro") != 0 && strcmp(fields[1], "rw") != 0)) {
            eval_fail(lineno, line, "malformed line", "CLASS<TAB>ro|rw<TAB>sql", line);
            continue;
        }
        cases++;
        mx_lexmode_t mode = default_mode;
        for (int i = 3; i < nf; i++)
            if (strncmp(fields[i], "mode=", 5) == 0 && !parse_mode(fields[i] + 5, &mode))
                eval_fail(lineno, fields[2], "bad mode", "nbe,ansi,modeunknown,cs=..,v=..,mysql", fields[i]);
        char *sql = fields[2];
        size_t n = unescape(sql);
        /* An exact-size copy lets ASan catch reads past the end. */
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            abort();
        memcpy(copy, sql, n);
        seen_t seen = {.q = (const char *)copy};
        mx_sql_cb_t cb = {.arg = &seen, .db_name = seen_db, .uservar = seen_uv, .literal = seen_lit};
        mx_sql_info_t info;
        mx_sql_scan(copy, n, &mode, &cb, &info);
        free(copy);
        mx_test_checks++;
        char got[700], fl[600];
        flags_str(info.flags, fl, sizeof(fl));
        snprintf(got, sizeof(got), "%s %s amb=%d flags=%s", mx_sql_class_name(info.cls),
                 info.ro_ok ? "ro" : "rw", info.ambiguous, fl);
        if (strcmp(fields[0], mx_sql_class_name(info.cls)) != 0) {
            eval_fail(lineno, sql, "class", fields[0], got);
            continue;
        }
        mx_test_checks++;
        if ((strcmp(fields[1], "ro") == 0) != info.ro_ok) {
            eval_fail(lineno, sql, "readonly verdict", fields[1], got);
            continue;
        }
        ro += info.ro_ok;
        for (int i = 3; i < nf; i++)
            if (fields[i][0])
                check_field(lineno, sql, fields[i], &info, &seen);
    }
    fclose(f);
    fprintf(stderr, "classify.eval: %d statements, %d of them ro_ok\n", cases, ro);
    ASSERT_TRUE(cases >= 450);
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
    /* QUERY ID names a query, not a connection: not manx's to answer. */
    classify_str("KILL HARD QUERY ID 99", &info);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_EQ(info.flags, MX_SQLF_KILL | MX_SQLF_KILL_QUERY | MX_SQLF_KILL_USER);
    classify_str("KILL 99999999999999999999999", &info);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_EQ(info.flags, MX_SQLF_KILL | MX_SQLF_KILL_USER);
    classify_str("KILL 0", &info);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_EQ(info.flags, MX_SQLF_KILL | MX_SQLF_KILL_USER);
    classify_str("KILL USER bob", &info);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_EQ(info.flags, MX_SQLF_KILL | MX_SQLF_KILL_USER);
    classify_str("KILL 5 + 1", &info);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_EQ(info.flags, MX_SQLF_KILL | MX_SQLF_KILL_USER);
    classify_str("KILL @id", &info);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_TRUE(info.flags & MX_SQLF_KILL_USER);
    classify_str("KILL 3; KILL 4", &info);
    ASSERT_EQ(info.kill_id, 3);
    /* KILL is reserved: inside a compound statement it is still a KILL. */
    classify_str("BEGIN NOT ATOMIC KILL 5; END", &info);
    ASSERT_EQ(info.n_stmts, 1);
    ASSERT_EQ(info.kill_id, 0);
    ASSERT_EQ(info.flags & (MX_SQLF_KILL | MX_SQLF_KILL_USER), MX_SQLF_KILL | MX_SQLF_KILL_USER);

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
    ASSERT_STR_EQ(mx_sql_flag_name(MX_SQLF_KILL_USER), "KILL_USER");
    ASSERT_STR_EQ(mx_sql_flag_name(MX_SQLF_USERVAR_LITERAL), "USERVAR_LITERAL");
    ASSERT_TRUE(mx_sql_flag_name(3) == NULL);
    ASSERT_TRUE(mx_sql_flag_name(UINT64_C(1) << MX_SQLF_NBITS) == NULL);
    ASSERT_TRUE(mx_sql_flag_name(0) == NULL);
    for (int i = 0; i < MX_SQLF_NBITS; i++)
        ASSERT_TRUE(mx_sql_flag_name(UINT64_C(1) << i) != NULL);
}

/* A mode that does not know the server's version: a versioned comment
 * makes the text ambiguous, as it should, and the rest reads as the
 * default sql_mode and utf8. */
static void test_unknown_version(void)
{
    static const mx_lexmode_t m = {0, MX_CS_UTF8, 0, true};
    mx_sql_info_t info;
    const char *s = "SELECT /*!40001 SQL_NO_CACHE */ * FROM t";
    mx_sql_scan((const uint8_t *)s, strlen(s), &m, NULL, &info);
    ASSERT_TRUE(info.ambiguous);
    ASSERT_EQ(info.cls, MX_SQL_WRITE);
    ASSERT_TRUE(!info.ro_ok);
    ASSERT_EQ(info.flags & MX_SQLF_SELECT_NO_LIMIT, 0);
    s = "SELECT 1 /*!mycat: not a version */";
    mx_sql_scan((const uint8_t *)s, strlen(s), &m, NULL, &info);
    ASSERT_TRUE(!info.ambiguous);
    s = "SELECT * FROM t WHERE a = 'x\\\\'";
    mx_sql_scan((const uint8_t *)s, strlen(s), &m, NULL, &info);
    ASSERT_EQ(info.cls, MX_SQL_READ);
    ASSERT_TRUE(info.ro_ok);
    ASSERT_TRUE(!info.ambiguous);
    s = "SELECT 'a\\'; DELETE FROM t; -- '";
    mx_sql_scan((const uint8_t *)s, strlen(s), &m, NULL, &info);
    ASSERT_EQ(info.cls, MX_SQL_READ);
    ASSERT_EQ(info.n_stmts, 1);
}

/* The db_name callback gets the token's range in the text. */
typedef struct range_s {
    int kind, calls;
    size_t off, len, nlen;
    char name[70];
} range_t;

static void range_cb(void *arg, int kind, size_t off, size_t len, const char *name, size_t nlen)
{
    range_t *r = arg;
    r->calls++;
    r->kind = kind;
    r->off = off;
    r->len = len;
    r->nlen = nlen;
    snprintf(r->name, sizeof(r->name), "%s", name);
}

static void test_db_ranges(void)
{
    range_t r = {0};
    mx_sql_cb_t cb = {.arg = &r, .db_name = range_cb};
    mx_sql_info_t info;
    const char *s = "select * from `a``b` . t";
    mx_sql_scan((const uint8_t *)s, strlen(s), &default_mode, &cb, &info);
    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.kind, MX_SQL_DB_QUALIFIER);
    ASSERT_EQ(r.off, 14);
    ASSERT_EQ(r.len, 6);
    ASSERT_STR_EQ(r.name, "a`b");
    ASSERT_EQ(r.nlen, 3);
    char q[200];
    memset(&r, 0, sizeof(r));
    snprintf(q, sizeof(q), "use `%065d`", 0);
    mx_sql_scan((const uint8_t *)q, strlen(q), &default_mode, &cb, &info);
    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.kind, MX_SQL_DB_USE);
    ASSERT_EQ(r.off, 4);
    ASSERT_EQ(r.len, 67);
    ASSERT_EQ(r.nlen, 0);
    ASSERT_STR_EQ(r.name, "");
    memset(&r, 0, sizeof(r));
    snprintf(q, sizeof(q), "use `%064d`", 0);
    mx_sql_scan((const uint8_t *)q, strlen(q), &default_mode, &cb, &info);
    ASSERT_EQ(r.nlen, 64);
}

/* Every prefix of these, in an exact-size buffer, must classify without
 * reading out of bounds (ASan builds) and with sane outputs, in every mode. */
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
        "SET NAMES gbk; SELECT '\xbf\\'; SELECT `\x81`'` FROM @a\xbf`x`; /*M!999999 x */ --\x80",
        "IF 1 THEN WHILE 0 DO SELECT 1; END WHILE; ELSE CASE WHEN 1 THEN SELECT 2; END CASE; "
        "END IF; x: LOOP LEAVE x; END LOOP",
        "SHOW CREATE DATABASE IF NOT EXISTS `d`; CREATE OR REPLACE SCHEMA s; SELECT x'0F', b'1', "
        "0x1f, .5e-3, 1.e2, t.5col FROM db.t",
    };
    static const mx_lexmode_t modes[] = {
        {0, MX_CS_UTF8, 101106, true},
        {MX_LEX_NO_BACKSLASH_ESCAPES | MX_LEX_ANSI_QUOTES, MX_CS_GBK, 100000, true},
        {MX_LEX_SQL_MODE_UNKNOWN, MX_CS_SJIS, 80036, false},
        {MX_LEX_ANSI_QUOTES, MX_CS_UNKNOWN, 0, true},
        {0, MX_CS_SINGLE, 50700, true},
    };
    for (size_t k = 0; k < sizeof(stmts) / sizeof(stmts[0]); k++) {
        size_t len = strlen(stmts[k]);
        for (size_t n = 0; n <= len; n++) {
            uint8_t *buf = malloc(n ? n : 1);
            if (!buf)
                abort();
            memcpy(buf, stmts[k], n);
            for (size_t m = 0; m <= sizeof(modes) / sizeof(modes[0]); m++) {
                mx_sql_info_t info;
                static const mx_lexmode_t unknown_version = {0, MX_CS_UTF8, 0, true};
                mx_sql_scan(buf, n, m == 0 ? &unknown_version : &modes[m - 1], NULL, &info);
                mx_test_checks++;
                if (info.cls > MX_SQL_WRITE || info.hint > MX_HINT_SLAVE || info.limit_pos > n ||
                    info.hint_end > n || strlen(info.use_db) > MX_SQL_USE_DB_MAX ||
                    info.n_stmts > n || memchr(info.local_name, 0, sizeof(info.local_name)) == NULL ||
                    (info.ambiguous && (info.ro_ok || info.cls != MX_SQL_WRITE || info.local)) ||
                    (info.ro_ok && info.n_stmts == 0)) {
                    mx_test_failures++;
                    fprintf(stderr, "prefix %zu of statement %zu, mode %zu: bad output\n", n, k, m);
                }
            }
            free(buf);
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
    test_unknown_version();
    test_db_ranges();
    test_prefixes();
    return mx_test_summary("classify");
}
