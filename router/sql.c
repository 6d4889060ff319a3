/* Transitional wrappers of router/sql.h over mx_sql_scan(), kept until
 * proxy/client.c moves to it; and mx_sql_like(), which stays.  No scanner
 * of its own: manx reads SQL text in one place, router/lex.c. */
#include "sql.h"

#include "protocol/packet.h"
#include "router/classify.h"

#include <string.h>

/* The mode the transitional functions read text under: what proxy/ assumed
 * before it told the lexer the session's real one. */
static const mx_lexmode_t legacy_mode = {
    .sql_mode = 0, .charset = MX_CS_UTF8, .server_version = 0, .mariadb = true};

uint32_t mx_sql_marks(const uint8_t *q, size_t n)
{
    mx_sql_info_t info;
    mx_sql_scan(q, n, &legacy_mode, NULL, &info);
    uint64_t f = info.flags;
    uint32_t m = 0;
    if (f & (MX_SQLF_USERVAR_SET | MX_SQLF_USERVAR_READ | MX_SQLF_USERVAR_ASSIGN))
        m |= MX_MARK_USERVAR;
    if (f & MX_SQLF_TEMP_TABLE)
        m |= MX_MARK_TEMP;
    if (f & (MX_SQLF_LOCK_FUNC | MX_SQLF_LOCK_TABLES))
        m |= MX_MARK_LOCK;
    if (f & MX_SQLF_PREPARE)
        m |= MX_MARK_PREPARE;
    if (f & MX_SQLF_SQL_CALC_FOUND_ROWS)
        m |= MX_MARK_FOUND_ROWS;
    if (f & MX_SQLF_LAST_INSERT_ID)
        m |= MX_MARK_LAST_INSERT_ID;
    return m;
}

/* Copies a local statement's name into name/cap; false when it does not fit. */
static bool copy_name(const mx_sql_info_t *info, char *name, size_t cap)
{
    size_t len = strlen(info->local_name);
    if (cap == 0 || len >= cap)
        return false;
    memcpy(name, info->local_name, len + 1);
    return true;
}

int mx_sql_use(const uint8_t *q, size_t n, char *name, size_t cap)
{
    mx_sql_info_t info;
    mx_sql_scan(q, n, &legacy_mode, NULL, &info);
    if (info.local == MX_LOCAL_USE)
        return copy_name(&info, name, cap) ? 1 : -1;
    return info.flags & MX_SQLF_USE ? -1 : 0;
}

static int local_answer(const uint8_t *q, size_t n, int kind, char *name, size_t cap)
{
    mx_sql_info_t info;
    mx_sql_scan(q, n, &legacy_mode, NULL, &info);
    return info.local == kind && copy_name(&info, name, cap) ? 1 : 0;
}

int mx_sql_select_database(const uint8_t *q, size_t n, char *name, size_t cap)
{
    return local_answer(q, n, MX_LOCAL_SELECT_DATABASE, name, cap);
}

int mx_sql_select_connection_id(const uint8_t *q, size_t n, char *name, size_t cap)
{
    return local_answer(q, n, MX_LOCAL_SELECT_CONNECTION_ID, name, cap);
}

int mx_sql_show_databases(const uint8_t *q, size_t n, char *like, size_t cap)
{
    return local_answer(q, n, MX_LOCAL_SHOW_DATABASES, like, cap);
}

bool mx_sql_like(const char *p, const char *s)
{
    for (; *p; p++, s++) {
        if (*p == '%') {
            while (p[1] == '%')
                p++;
            if (!p[1])
                return true;
            for (; *s; s++)
                if (mx_sql_like(p + 1, s))
                    return true;
            return false;
        }
        if (!*s)
            return false;
        char a = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        char b = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (*p != '_' && a != b)
            return false;
    }
    return *s == 0;
}

typedef struct map_ctx_s {
    const uint8_t *q;
    mx_sql_schema_map_fn map;
    void *arg;
    struct mx_pktbuf_s *out;
    size_t last; /* end of the text already copied to out */
    size_t done; /* qualifiers replaced */
} map_ctx_t;

static void map_one(void *arg, int kind, size_t off, size_t len, const char *name, size_t nlen)
{
    map_ctx_t *m = arg;
    if (kind != MX_SQL_DB_QUALIFIER || nlen == 0 || off < m->last)
        return;
    const char *real = m->map(m->arg, name, nlen);
    if (!real)
        return;
    mx_put_bytes(m->out, m->q + m->last, off - m->last);
    mx_put_u8(m->out, '`');
    mx_put_bytes(m->out, real, strlen(real));
    mx_put_u8(m->out, '`');
    m->last = off + len;
    m->done++;
}

size_t mx_sql_map_schemas(const uint8_t *q, size_t n, mx_sql_schema_map_fn map, void *arg,
                          struct mx_pktbuf_s *out)
{
    map_ctx_t m = {.q = q, .map = map, .arg = arg, .out = out};
    mx_sql_cb_t cb = {.arg = &m, .db_name = map_one};
    mx_sql_info_t info;
    mx_sql_scan(q, n, &legacy_mode, &cb, &info);
    if (m.done)
        mx_put_bytes(out, q + m.last, n - m.last);
    return m.done;
}

#define MAX_UVARS 32

typedef struct uv_ctx_s {
    uint32_t n;
    bool overflow;
    struct {
        char name[MX_SQL_USE_DB_MAX + 1];
        size_t nlen;
        const uint8_t *val;
        size_t vlen;
    } v[MAX_UVARS];
} uv_ctx_t;

static void uv_collect(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
    uv_ctx_t *c = arg;
    if (c->n >= MAX_UVARS || nlen > MX_SQL_USE_DB_MAX) {
        c->overflow = true;
        return;
    }
    memcpy(c->v[c->n].name, name, nlen);
    c->v[c->n].nlen = nlen;
    c->v[c->n].val = val;
    c->v[c->n].vlen = vlen;
    c->n++;
}

/* The replay writes the name back after '@' unquoted: only plain ASCII
 * names survive that unchanged. */
static bool plain_var_names(const uint8_t *q, size_t n)
{
    mx_lex_t lx;
    mx_lex_init(&lx, q, n, &legacy_mode);
    for (;;) {
        mx_tok_t t;
        mx_lex_next(&lx, &t);
        if (t.type == MX_TOK_END)
            return true;
        if (t.type != MX_TOK_USERVAR)
            continue;
        for (size_t i = t.s + 1; i < t.e; i++) {
            uint8_t c = q[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '$' || c == '.'))
                return false;
        }
    }
}

/* The first token is the word SET. */
static bool starts_with_set(const uint8_t *q, size_t n)
{
    mx_lex_t lx;
    mx_tok_t t;
    mx_lex_init(&lx, q, n, &legacy_mode);
    mx_lex_next(&lx, &t);
    return t.type == MX_TOK_WORD && t.e - t.s == 3 && (q[t.s] | 0x20) == 's' &&
           (q[t.s + 1] | 0x20) == 'e' && (q[t.s + 2] | 0x20) == 't';
}

int mx_sql_set_uservars(const uint8_t *q, size_t n, mx_sql_uservar_fn cb, void *arg)
{
    uv_ctx_t c;
    c.n = 0;
    c.overflow = false;
    mx_sql_cb_t scb = {.arg = &c, .uservar = uv_collect};
    mx_sql_info_t info;
    mx_sql_scan(q, n, &legacy_mode, &scb, &info);
    /* A SET of system variables only is replayed by session tracking. */
    bool literal = (info.flags & MX_SQLF_USERVAR_LITERAL) ||
                   (info.n_stmts == 1 && !(info.flags & MX_SQLF_USERVAR_SET) && starts_with_set(q, n));
    if (!literal || info.ambiguous || (info.flags & (MX_SQLF_USERVAR_READ | MX_SQLF_USERVAR_ASSIGN)) ||
        c.overflow || !plain_var_names(q, n))
        return 0;
    for (uint32_t i = 0; i < c.n; i++)
        cb(arg, (const uint8_t *)c.v[i].name, c.v[i].nlen, c.v[i].val, c.v[i].vlen);
    return 1;
}
