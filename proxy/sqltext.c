/* One scan of a COM_QUERY / COM_STMT_PREPARE text (router/classify.c) and
 * what the session does with it: refuse it (router/policy.c decides),
 * answer it locally, or rewrite it (routing hint cut, logical schema names
 * mapped, sql_max_limit's LIMIT added) before it goes to a backend. */
#include "sqltext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client-t.h"
#include "client.h"
#include "command.h"
#include "login.h"
#include "router/sql.h"
#include "server.h"
#include "session.h"

/* What the scan of one statement text found that needs the session. */
typedef struct scan_s {
    mx_client_t *cl;
    char denied[MX_NAME_MAX + 1];  /* strict_schemas: first database named outside the user's */
    bool refused;
    struct {                       /* logical schema names to rewrite, in text order */
        uint32_t off, len;
        uint8_t kind;              /* MAP_* */
        const char *name;          /* MAP_NAME, MAP_LITERAL: the real name; MAP_FUNC: the logical */
    } *maps;
    size_t n_maps, cap_maps;
    bool info_schema;              /* the text names information_schema */
    bool oom;
} scan_t;

enum {
    MAP_NAME,    /* `logical` as a qualifier, USE or SHOW ... FROM name: `real` */
    MAP_LITERAL, /* 'logical' in a statement reading information_schema: 'real' */
    MAP_FUNC     /* DATABASE() where the session's schema is mapped: the logical name */
};

/* A leading routing hint: the server must not see it (the `!` spelling
 * would be parsed as SQL), so the command starts after it. */
static void cut_hint(mx_client_t *cl, uint32_t cut)
{
    if (cl->big_ready) {
        cl->big.data[cl->big_off + cut] = cl->cmd;
        cl->big_off += cut;
        return;
    }
    mx_conn_t *c = &cl->conn;
    uint32_t len = mx_pkt_len(c->buf + c->rpos);
    uint8_t *nh = c->buf + c->rpos + cut;
    mx_wr_u24(nh, len - cut);
    nh[3] = 0;
    nh[4] = cl->cmd;
    c->rpos += cut;
}

static void add_map(scan_t *x, size_t off, size_t len, uint8_t kind, const char *name)
{
    if (x->oom)
        return;
    if (x->n_maps == x->cap_maps) {
        size_t cap = x->cap_maps ? x->cap_maps * 2 : 8;
        void *m = realloc(x->maps, cap * sizeof(*x->maps));
        if (!m) {
            x->oom = true;
            return;
        }
        x->maps = m;
        x->cap_maps = cap;
    }
    x->maps[x->n_maps].off = (uint32_t)off;
    x->maps[x->n_maps].len = (uint32_t)len;
    x->maps[x->n_maps].kind = kind;
    x->maps[x->n_maps].name = name;
    x->n_maps++;
}

static const mx_schema_t *users_schema(const mx_user_t *u, const char *name, size_t len, bool real_too)
{
    for (size_t i = 0; i < u->n_schemas; i++) {
        const mx_schema_t *s = u->schemas[i];
        if ((strlen(s->name) == len && strncasecmp(s->name, name, len) == 0) ||
            (real_too && strlen(s->datanode->database) == len && strncasecmp(s->datanode->database, name, len) == 0))
            return s;
    }
    return NULL;
}

/* A name the backends know as a database: listed by the heartbeat (which
 * says yes to everything until it has listed them), or in the config. */
static bool known_database(const mx_config_t *cfg, const char *name, size_t len)
{
    if (mx_health_database_exists(&mx_proc.health, name, len))
        return true;
    for (size_t i = 0; i < cfg->n_schemas; i++) {
        const mx_schema_t *s = &cfg->schemas[i];
        if ((strlen(s->name) == len && strncasecmp(s->name, name, len) == 0) ||
            (strlen(s->datanode->database) == len && strncasecmp(s->datanode->database, name, len) == 0))
            return true;
    }
    return false;
}

static void on_db_name(void *arg, int kind, size_t off, size_t len, const char *name, size_t nlen)
{
    scan_t *x = arg;
    mx_client_t *cl = x->cl;
    const mx_user_t *u = cl->user;
    if (kind == MX_SQL_DB_FUNC) {
        /* DATABASE() answers the real name on the backend: the client sees
         * its logical schema, except where the call is compared with
         * information_schema's real names (decided once the text is read). */
        const mx_schema_t *sc = cl->schema;
        if (sc && strcmp(sc->name, sc->datanode->database) != 0 && strcmp(cl->st.db, sc->datanode->database) == 0)
            add_map(x, off, len, MAP_FUNC, sc->name);
        return;
    }
    if (kind == MX_SQL_DB_QUALIFIER && nlen == 18 && strncasecmp(name, "information_schema", 18) == 0)
        x->info_schema = true;
    const mx_schema_t *own = nlen ? users_schema(u, name, nlen, false) : NULL;
    if ((kind == MX_SQL_DB_QUALIFIER || kind == MX_SQL_DB_USE || kind == MX_SQL_DB_SHOW) && own &&
        strcmp(own->name, own->datanode->database) != 0) {
        /* Mycat's checkSQLschema: `logical`.t reaches the backend as `real`.t. */
        add_map(x, off, len, MAP_NAME, own->datanode->database);
    }
    if (!u->strict_schemas || x->refused)
        return;
    if (nlen && users_schema(u, name, nlen, true))
        return;
    /* USE and CREATE/DROP DATABASE name a database for sure; a qualifier or
     * SHOW ... FROM x may name a table alias or a table, so those are
     * refused when x is a database the backends know. */
    bool refuse = nlen == 0 || kind == MX_SQL_DB_USE || kind == MX_SQL_DB_DDL || known_database(x->cl->cfg, name, nlen);
    if (refuse) {
        x->refused = true;
        snprintf(x->denied, sizeof(x->denied), "%.*s", (int)(nlen ? nlen : 0), name);
    }
}

/* 'logical' compared with information_schema's columns, where the backend
 * knows only the real name (JDBC's DatabaseMetaData asks this way). */
static void on_literal(void *arg, size_t off, size_t len, const char *val, size_t vlen)
{
    scan_t *x = arg;
    const mx_client_t *cl = x->cl;
    for (size_t i = 0; vlen && i < cl->n_smap; i++)
        if (strlen(cl->smap[i].logical) == vlen && memcmp(cl->smap[i].logical, val, vlen) == 0 &&
            !strpbrk(cl->smap[i].real, "'\\"))
            add_map(x, off, len, MAP_LITERAL, cl->smap[i].real);
}

static void on_uservar(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
    scan_t *x = arg;
    if (!mx_sstate_set_var(&x->cl->pending_uv, name, nlen, val, vlen))
        x->oom = true;
}

/* Statements manx answers itself: logical names rather than the backends'
 * databases, the session's own id. */
static bool answer_locally(mx_client_t *cl, const mx_sql_info_t *info)
{
    const char *name = info->local_name;
    mx__drop_command(cl);
    switch (info->local) {
    case MX_LOCAL_USE:
        if (mx__select_schema(cl, name, strlen(name), 1))
            return mx__send_ok(cl, 1);
        return cl->state != CL_CLOSED;
    case MX_LOCAL_SELECT_DATABASE: {
        /* The logical schema the client chose, not the real name (unless
         * a USE the backend ran chose a database no schema stands for). */
        const char *val = cl->schema ? cl->schema->name : cl->st.db[0] ? cl->st.db : NULL;
        return mx__send_resultset(cl, &name, 1, &val, 1);
    }
    case MX_LOCAL_SELECT_CONNECTION_ID: {
        /* The session's own id, stable across pooled backends (the one the
         * handshake announced). */
        char id[16];
        snprintf(id, sizeof(id), "%u", cl->id);
        const char *val = id;
        return mx__send_resultset(cl, &name, 1, &val, 1);
    }
    default: {
        char colname[160];
        snprintf(colname, sizeof(colname), info->local_like ? "Database (%s)" : "Database", name);
        const char *col = colname;
        const char *vals[32];
        size_t nv = 0;
        for (size_t i = 0; i < cl->user->n_schemas && nv < 32; i++)
            if (!info->local_like || mx_sql_like(name, cl->user->schemas[i]->name))
                vals[nv++] = cl->user->schemas[i]->name;
        return mx__send_resultset(cl, &col, 1, vals, nv);
    }
    }
}

/* The replacement text of one logical schema name (scan_t.maps). */
static bool put_mapped(mx_bytes_t *b, uint8_t kind, const char *name)
{
    size_t n = strlen(name);
    switch (kind) {
    case MAP_NAME: {
        /* A backtick in the name is doubled inside backticks. */
        if (!mx__bytes_put(b, "`", 1))
            return false;
        for (const char *p = name; *p; p++)
            if (!mx__bytes_put(b, p, 1) || (*p == '`' && !mx__bytes_put(b, "`", 1)))
                return false;
        return mx__bytes_put(b, "`", 1);
    }
    case MAP_LITERAL:
        return mx__bytes_put(b, "'", 1) && mx__bytes_put(b, name, n) && mx__bytes_put(b, "'", 1);
    default: {
        static const char hex[] = "0123456789abcdef";
        if (!mx__bytes_put(b, MX_SMAP_DBF_PREFIX, sizeof(MX_SMAP_DBF_PREFIX) - 1))
            return false;
        for (size_t i = 0; i < n; i++) {
            char h[2] = {hex[(uint8_t)name[i] >> 4], hex[(uint8_t)name[i] & 15]};
            if (!mx__bytes_put(b, h, 2))
                return false;
        }
        return mx__bytes_put(b, MX_SMAP_DBF_SUFFIX, sizeof(MX_SMAP_DBF_SUFFIX) - 1);
    }
    }
}

/* Keeps the maps that apply now that the whole text is read: literals only
 * in a statement reading information_schema, DATABASE() only outside one
 * (there it is compared with the real names the backend lists). */
static void settle_maps(scan_t *x)
{
    bool info = x->info_schema || strcasecmp(x->cl->st.db, "information_schema") == 0;
    size_t k = 0;
    for (size_t i = 0; i < x->n_maps; i++) {
        uint8_t kind = x->maps[i].kind;
        if ((kind == MAP_LITERAL && !info) || (kind == MAP_FUNC && info))
            continue;
        x->maps[k++] = x->maps[i];
    }
    x->n_maps = k;
}

/* The statement text as the backend must see it, in cl->rewrite: from
 * `skip` (a routing hint cut off), logical schema qualifiers replaced by
 * real names (x->maps, in text order), " LIMIT n" inserted at limit_pos
 * when limit > 0.  Offsets are in the text (p + 1).  False when out of memory. */
static bool rewrite_text(mx_client_t *cl, const scan_t *x, const uint8_t *p, uint32_t len, size_t skip,
                         size_t limit_pos, int limit)
{
    const uint8_t *q = p + 1;
    size_t n = len - 1, last = skip;
    char add[32];
    int an = limit > 0 ? snprintf(add, sizeof(add), " LIMIT %d", limit) : 0;
    cl->rewrite.len = 0;
    if (!mx__bytes_put(&cl->rewrite, p, 1))
        return false;
    for (size_t i = 0; i <= x->n_maps; i++) {
        size_t off = i < x->n_maps ? x->maps[i].off : n;
        if (off < last)
            continue;
        if (an && limit_pos >= last && limit_pos <= off) {
            if (!mx__bytes_put(&cl->rewrite, q + last, limit_pos - last) || !mx__bytes_put(&cl->rewrite, add, (size_t)an))
                return false;
            last = limit_pos;
            an = 0;
        }
        if (!mx__bytes_put(&cl->rewrite, q + last, off - last))
            return false;
        last = off;
        if (i == x->n_maps)
            break;
        if (!put_mapped(&cl->rewrite, x->maps[i].kind, x->maps[i].name))
            return false;
        last = off + x->maps[i].len;
    }
    if (x->n_maps)
        CL_DEBUG(cl, "mapped %zu logical schema name%s", x->n_maps, x->n_maps == 1 ? "" : "s");
    if (limit > 0)
        CL_LOG(cl, MX_LOG_INFO, "sql_max_limit: added LIMIT %d to a SELECT without one", limit);
    return true;
}

/* COM_QUERY and COM_STMT_PREPARE, whole: one scan of the text (classes,
 * flags, readonly verdict, database names, user variables), then answer or
 * refuse what manx handles itself and rewrite what must be.  Returns -1
 * when the command goes on to a backend, else whether the caller may go on. */
int mx__dispatch_query(mx_client_t *cl, mx_sql_info_t *info)
{
    uint32_t len, have;
    const uint8_t *p = mx__cmd_payload(cl, &len, &have);
    bool prepare = cl->cmd == MX_COM_STMT_PREPARE;
    mx_lexmode_t mode;
    mx__session_lexmode(cl, &mode);
    scan_t x = {.cl = cl};
    mx_sql_cb_t cb = {.arg = &x, .db_name = on_db_name, .uservar = prepare ? NULL : on_uservar,
                      .literal = cl->n_smap ? on_literal : NULL};
    mx_sstate_clear(&cl->pending_uv);
    mx_sql_scan(p + 1, len - 1, &mode, &cb, info);
    settle_maps(&x);
    int rc = -1;
    if (x.oom) {
        mx__client_close(cl, "out of memory");
        rc = false;
        goto out;
    }
    cl->cls = info->cls;
    cl->qflags = info->flags | (info->ambiguous ? MX_QF_AMBIGUOUS : 0);
    cl->uv_ok = (info->flags & MX_SQLF_USERVAR_LITERAL) && cl->pending_uv.n_vars > 0;
    /* What manx answers or refuses itself, before any backend sees the
     * text; where the text goes is decided again in route_command(). */
    mx_route_in_t in;
    mx__route_input(cl, info, x.refused, x.denied, &in);
    mx_decision_t d = mx_route_decide(&in);
    switch (d.kind) {
    case MX_DECIDE_ANSWER:
        rc = answer_locally(cl, info);
        goto out;
    case MX_DECIDE_KILL:
        rc = mx__handle_kill(cl, info->kill_id, (info->flags & MX_SQLF_KILL_QUERY) != 0);
        mx__drop_command(cl);
        goto out;
    case MX_DECIDE_REFUSE:
        if (d.release)
            mx__unlink_server(cl, false);
        rc = mx__send_refusal(cl, &d);
        goto out;
    default:
        break;
    }
    const mx_schema_t *es = mx__effective_schema(cl);
    size_t cut = info->hint != MX_HINT_NONE && info->hint_end > 0 && info->hint_end < len - 1 ? info->hint_end : 0;
    int limit = !prepare && es && es->sql_max_limit > 0 && info->n_stmts == 1 &&
                (info->flags & MX_SQLF_SELECT_NO_LIMIT) && info->limit_pos >= cut && info->limit_pos <= len - 1
                    ? es->sql_max_limit : 0;
    if (x.n_maps || limit) {
        if (!rewrite_text(cl, &x, p, len, cut, info->limit_pos, limit)) {
            mx__client_close(cl, "out of memory");
            rc = false;
            goto out;
        }
    } else if (cut) {
        cut_hint(cl, (uint32_t)cut);
        p = mx__cmd_payload(cl, &len, &have);
    }
    if (prepare) {
        /* The text as the backend prepares it: hint cut, names mapped. */
        const uint8_t *t = cl->rewrite.len ? cl->rewrite.data : p;
        size_t tl = cl->rewrite.len ? cl->rewrite.len : len;
        free(cl->prep_sql);
        cl->prep_sql = malloc(tl);
        if (!cl->prep_sql) {
            mx__client_close(cl, "out of memory");
            rc = false;
            goto out;
        }
        memcpy(cl->prep_sql, t + 1, tl - 1);
        cl->prep_len = (uint32_t)(tl - 1);
    }
out:
    free(x.maps);
    return rc;
}
