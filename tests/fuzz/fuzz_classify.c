/* libFuzzer driver for router/classify.c: any bytes, in any mode (from the
 * first two bytes, see fuzz_mode.h), must classify without reading outside
 * the input, and the outputs and callbacks must keep their promises. */
#include <stdint.h>
#include <string.h>

#include "fuzz_mode.h"
#include "router/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen_s {
    const uint8_t *q;
    size_t n;
    size_t last_off; /* db_name calls come in text order */
    unsigned uservars;
} seen_t;

static void on_db(void *arg, int kind, size_t off, size_t len, const char *name, size_t nlen)
{
    seen_t *s = arg;
    if (kind < MX_SQL_DB_QUALIFIER || kind > MX_SQL_DB_FUNC || off > s->n || len > s->n - off || len == 0 ||
        nlen > 64 || name == NULL || name[nlen] != 0 || off < s->last_off)
        __builtin_trap();
    s->last_off = off;
}

static void on_literal(void *arg, size_t off, size_t len, const char *val, size_t vlen)
{
    seen_t *s = arg;
    if (off > s->n || len == 0 || len > s->n - off || vlen > 64 || val == NULL || val[vlen] != 0)
        __builtin_trap();
}

static void on_uservar(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
    seen_t *s = arg;
    if (nlen == 0 || nlen > 64 || name[nlen] != 0 || val < s->q || vlen == 0 || (size_t)(val - s->q) > s->n ||
        vlen > s->n - (size_t)(val - s->q))
        __builtin_trap();
    s->uservars++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mx_lexmode_t mode;
    fuzz_mode(&data, &size, &mode);
    seen_t seen = {data, size, 0, 0};
    mx_sql_cb_t cb = {.arg = &seen, .db_name = on_db, .uservar = on_uservar, .literal = on_literal};
    mx_sql_info_t info;
    mx_sql_scan(data, size, &mode, &cb, &info);
    if (info.cls > MX_SQL_WRITE || info.hint > MX_HINT_SLAVE || info.n_stmts > size ||
        info.hint_end > size || info.limit_pos > size || (info.flags >> MX_SQLF_NBITS) != 0 ||
        info.local > MX_LOCAL_SHOW_DATABASES)
        __builtin_trap();
    if (memchr(info.use_db, 0, sizeof(info.use_db)) == NULL ||
        memchr(info.local_name, 0, sizeof(info.local_name)) == NULL)
        __builtin_trap();
    /* Empty text is WRITE; LIMIT offsets and MULTI follow n_stmts. */
    if (info.n_stmts == 0 && info.cls != MX_SQL_WRITE)
        __builtin_trap();
    if (((info.flags & MX_SQLF_MULTI) != 0) != (info.n_stmts > 1))
        __builtin_trap();
    if ((info.flags & MX_SQLF_SELECT_NO_LIMIT) && (info.n_stmts != 1 || info.limit_pos == 0))
        __builtin_trap();
    if (!(info.flags & MX_SQLF_SELECT_NO_LIMIT) && info.limit_pos != 0)
        __builtin_trap();
    if ((info.hint == MX_HINT_NONE) != (info.hint_end == 0))
        __builtin_trap();
    if ((info.flags & MX_SQLF_SELECT_NO_LIMIT) && info.cls == MX_SQL_SESSION)
        __builtin_trap();
    /* Fail closed: what manx cannot read for sure is a write, never ro_ok,
     * never answered locally, never rewritten. */
    if (info.ambiguous && (info.cls != MX_SQL_WRITE || info.ro_ok || info.local != MX_LOCAL_NONE ||
                           (info.flags & (MX_SQLF_SELECT_NO_LIMIT | MX_SQLF_USERVAR_LITERAL))))
        __builtin_trap();
    if (info.ro_ok && info.n_stmts == 0)
        __builtin_trap();
    if (info.local != MX_LOCAL_NONE && info.n_stmts != 1)
        __builtin_trap();
    if (info.local == MX_LOCAL_NONE && (info.local_name[0] || info.local_like))
        __builtin_trap();
    if ((info.flags & MX_SQLF_USERVAR_LITERAL) &&
        (info.n_stmts != 1 || !(info.flags & MX_SQLF_USERVAR_SET) || (info.flags & MX_SQLF_USERVAR_ASSIGN)))
        __builtin_trap();
    if (seen.uservars && !(info.flags & MX_SQLF_USERVAR_LITERAL))
        __builtin_trap();
    /* The same text in the same mode gives the same answer. */
    mx_sql_info_t again;
    mx_sql_scan(data, size, &mode, NULL, &again);
    if (memcmp(&info, &again, sizeof(info)) != 0)
        __builtin_trap();
    return 0;
}
