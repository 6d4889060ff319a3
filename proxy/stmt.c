/* Prepared statement tables: the client's (ids manx gives out) and each
 * backend connection's (what is prepared there, by SQL text). */
#include "stmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Statements kept prepared per backend connection.  The server's limit
 * (max_prepared_stmt_count, 16382 by default) is for all connections:
 * 64 x max_con stays under it for max_con up to 255. */
#define MX_SSTMT_MAX 64

uint32_t mx_stmt_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

mx_stmt_t *mx_stmt_find(mx_client_t *cl, uint32_t vid)
{
    for (uint32_t i = 0; i < cl->n_vstmts; i++)
        if (cl->vstmts[i].vid == vid)
            return &cl->vstmts[i];
    return NULL;
}

mx_stmt_t *mx_stmt_add(mx_client_t *cl, char *sql, uint32_t len, uint8_t cls, uint16_t n_params)
{
    if (cl->n_vstmts == cl->cap_vstmts) {
        uint32_t cap = cl->cap_vstmts ? cl->cap_vstmts * 2 : 8;
        mx_stmt_t *nv = realloc(cl->vstmts, cap * sizeof(*nv));
        if (!nv)
            return NULL;
        cl->vstmts = nv;
        cl->cap_vstmts = cap;
    }
    mx_stmt_t *st = &cl->vstmts[cl->n_vstmts++];
    memset(st, 0, sizeof(*st));
    st->vid = ++cl->next_vid;
    st->sql = sql;
    st->sql_len = len;
    st->hash = mx_stmt_hash((const uint8_t *)sql, len);
    st->cls = cls;
    st->n_params = n_params;
    return st;
}

static void stmt_free(mx_stmt_t *st)
{
    free(st->sql);
    free(st->types);
}

void mx_stmt_remove(mx_client_t *cl, uint32_t vid)
{
    for (uint32_t i = 0; i < cl->n_vstmts; i++) {
        if (cl->vstmts[i].vid != vid)
            continue;
        stmt_free(&cl->vstmts[i]);
        cl->vstmts[i] = cl->vstmts[--cl->n_vstmts];
        return;
    }
}

void mx_stmt_clear_all(mx_client_t *cl)
{
    for (uint32_t i = 0; i < cl->n_vstmts; i++)
        stmt_free(&cl->vstmts[i]);
    free(cl->vstmts);
    cl->vstmts = NULL;
    cl->n_vstmts = cl->cap_vstmts = 0;
}

bool mx_stmt_set_types(mx_stmt_t *st, const uint8_t *types)
{
    size_t n = 2u * st->n_params;
    if (!st->types && !(st->types = malloc(n ? n : 1)))
        return false;
    memcpy(st->types, types, n);
    st->has_types = true;
    return true;
}

bool mx_sstmt_set_types(mx_sstmt_t *ss, const uint8_t *types)
{
    size_t n = 2u * ss->n_params;
    if (!ss->types && !(ss->types = malloc(n ? n : 1)))
        return false;
    memcpy(ss->types, types, n);
    ss->has_types = true;
    return true;
}

mx_sstmt_t *mx_sstmt_find(mx_server_t *sv, const mx_stmt_t *st)
{
    /* The same text prepared under another collation is another statement:
     * its string literals carry the collation of their prepare. */
    const char *coll = mx_sstate_cs(&sv->st, MX_CS_COLLATION);
    for (uint32_t i = 0; i < sv->n_sstmts; i++) {
        mx_sstmt_t *s = &sv->sstmts[i];
        if (s->hash == st->hash && s->sql_len == st->sql_len && memcmp(s->sql, st->sql, st->sql_len) == 0 &&
            strcmp(s->coll, coll) == 0) {
            s->last_used = ++sv->stmt_clock;
            return s;
        }
    }
    return NULL;
}

void mx_sstmt_queue_close(mx_server_t *sv, uint32_t backend_id)
{
    if (sv->n_close < sizeof(sv->close_ids) / sizeof(sv->close_ids[0]))
        sv->close_ids[sv->n_close++] = backend_id;
    else
        sv->needs_reset = true; /* COM_RESET_CONNECTION closes them all */
}

mx_sstmt_t *mx_sstmt_add(mx_server_t *sv, const mx_stmt_t *st, uint32_t backend_id)
{
    if (sv->n_sstmts == MX_SSTMT_MAX) {
        /* Full: close the least recently used before the next command. */
        uint32_t lru = 0;
        for (uint32_t i = 1; i < sv->n_sstmts; i++)
            if (sv->sstmts[i].last_used < sv->sstmts[lru].last_used)
                lru = i;
        mx_sstmt_queue_close(sv, sv->sstmts[lru].backend_id);
        free(sv->sstmts[lru].sql);
        free(sv->sstmts[lru].types);
        sv->sstmts[lru] = sv->sstmts[--sv->n_sstmts];
    }
    if (sv->n_sstmts == sv->cap_sstmts) {
        uint32_t cap = sv->cap_sstmts ? sv->cap_sstmts * 2 : 8;
        mx_sstmt_t *nv = realloc(sv->sstmts, cap * sizeof(*nv));
        if (!nv)
            return NULL;
        sv->sstmts = nv;
        sv->cap_sstmts = cap;
    }
    char *sql = malloc(st->sql_len ? st->sql_len : 1);
    if (!sql)
        return NULL;
    memcpy(sql, st->sql, st->sql_len);
    mx_sstmt_t *s = &sv->sstmts[sv->n_sstmts++];
    memset(s, 0, sizeof(*s));
    s->sql = sql;
    s->sql_len = st->sql_len;
    s->hash = st->hash;
    s->backend_id = backend_id;
    s->n_params = st->n_params;
    s->last_used = ++sv->stmt_clock;
    snprintf(s->coll, sizeof(s->coll), "%s", mx_sstate_cs(&sv->st, MX_CS_COLLATION));
    return s;
}

const char *mx_stmt_bulk_refusal(const uint8_t *p, uint32_t have)
{
    mx_bulk_t bk;
    if (mx_parse_bulk_execute(p, have, &bk) < 0)
        return "Malformed communication packet (COM_STMT_BULK_EXECUTE shorter than its header)";
    /* SEND_UNIT_RESULTS asks for a result set per row, which only clients
     * that negotiated BULK_UNIT_RESULTS read; manx never offers it. */
    if (bk.flags & ~MX_BULK_SEND_TYPES)
        return "Malformed communication packet (COM_STMT_BULK_EXECUTE flags manx does not support)";
    return NULL;
}

int mx_stmt_bulk_types(mx_stmt_t *st, mx_sstmt_t *ss, const uint8_t *p, uint32_t have)
{
    mx_bulk_t bk;
    size_t tlen = 2u * st->n_params;
    if (st->n_params == 0 || mx_parse_bulk_execute(p, have, &bk) < 0)
        return 0;
    if (bk.flags & MX_BULK_SEND_TYPES) {
        if (have >= bk.types_at + tlen) {
            if (!mx_stmt_set_types(st, p + bk.types_at) || !mx_sstmt_set_types(ss, p + bk.types_at))
                return -1;
        } else {
            /* Types beyond what is at hand (thousands of parameters): what
             * either side holds is no longer known, so nothing will be
             * re-sent from it. */
            st->has_types = ss->has_types = false;
        }
        return 0;
    }
    if (!st->has_types || (ss->has_types && memcmp(ss->types, st->types, tlen) == 0))
        return 0;
    return 1;
}

void mx_sstmt_clear_all(mx_server_t *sv)
{
    for (uint32_t i = 0; i < sv->n_sstmts; i++) {
        free(sv->sstmts[i].sql);
        free(sv->sstmts[i].types);
    }
    free(sv->sstmts);
    sv->sstmts = NULL;
    sv->n_sstmts = sv->cap_sstmts = 0;
    sv->n_close = 0;
}
