/* Client sessions: the server side of the MySQL protocol.  This file holds
 * a session's life (events, the dispatcher made of short phase functions,
 * choosing the backend, closing) and manx's own replies; the rest lives in
 * rooms of its own: command.c (reading and consuming one command),
 * login.c (handshake, TLS, auth, change user), local.c (commands manx
 * answers or maps itself), sqltext.c (one scan of a statement's text:
 * refusals, local answers, rewrites), session.c (tracked session state and
 * its replay on another backend), relay.c (one statement in flight:
 * forwarding, response boundaries, streaming back). */
#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "client-t.h"
#include "command.h"
#include "conn.h"
#include "local.h"
#include "login.h"
#include "metrics.h"
#include "pool.h"
#include "registry.h"
#include "relay.h"
#include "server.h"
#include "session.h"
#include "sqltext.h"
#include "stmt.h"
#include "worker.h"

static bool route_command(mx_client_t *cl, const mx_sql_info_t *ip);
static void client_work_once(mx_client_t *cl);

static const char *const cl_state_names[] = {
    [CL_TLS] = "tls", [CL_LOGIN] = "login", [CL_AUTH_MORE] = "auth", [CL_IDLE] = "idle",
    [CL_WAIT_POOL] = "wait_pool", [CL_REPLAY] = "replay", [CL_ACTIVE] = "active", [CL_INFILE] = "infile",
    [CL_CLOSED] = "closed",
};

const char *mx_client_state_name(int st)
{
    return st >= 0 && st < (int)(sizeof(cl_state_names) / sizeof(cl_state_names[0])) && cl_state_names[st]
               ? cl_state_names[st] : "?";
}

/* The one way a session changes state (the lists each state is on are in
 * proxy-t.h: w->clients always; pool->waiters is the pool's, pool.c). */
void mx__client_set_state(mx_client_t *cl, mx_cl_state_t st)
{
    if (cl->state != st)
        CL_DEBUG(cl, "%s -> %s", mx_client_state_name(cl->state), mx_client_state_name(st));
    cl->state = st;
}

uint8_t mx_client_flavor(const mx_client_t *cl)
{
    return ((cl->caps & MX_CLIENT_FOUND_ROWS) ? MX_FLAVOR_FOUND_ROWS : 0) |
           ((cl->caps & MX_CLIENT_IGNORE_SPACE) ? MX_FLAVOR_IGNORE_SPACE : 0) |
           (cl->user && cl->user->readonly ? MX_FLAVOR_READ_ONLY : 0) |
           (cl->st.db[0] ? 0 : MX_FLAVOR_NODB) |
           ((cl->ext_caps & MX_MARIADB_EXTENDED_TYPE_INFO) ? MX_FLAVOR_EXT_TYPES : 0);
}

bool mx__send_pkt(mx_client_t *cl, mx_pktbuf_t *b)
{
    if (!mx_conn_write_pkt(&cl->conn, b)) {
        mx__client_close(cl, "write failed");
        return false;
    }
    return true;
}

bool mx__send_err(mx_client_t *cl, uint8_t seq, uint16_t code, const char *state, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    uint8_t mem[700];
    mx_pktbuf_t b;
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    mx_pkt_err(&b, seq, code, state, "%s", msg);
    mx_metrics_error(&cl->conn.w->wstats, code, MX_ERR_FROM_MANX);
    return mx__send_pkt(cl, &b);
}

/* A text result set built by manx: `ncols` string columns, `nrows` rows
 * of `vals` (row-major, NULL = SQL NULL).  Sequence ids start at 1. */
bool mx__send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
                           size_t nrows)
{
    mx_pktbuf_t b;
    mx_pktbuf_init(&b);
    uint8_t seq = 1;
    mx_pkt_column_count(&b, seq++, ncols);
    for (size_t i = 0; i < ncols; i++)
        mx_pkt_column_def(&b, seq++, "", "", cols[i], MX_TYPE_VAR_STRING, 256, 33,
                          (cl->ext_caps & MX_MARIADB_EXTENDED_TYPE_INFO) != 0);
    mx_pkt_eof(&b, seq++, 0, cl->status);
    for (size_t r = 0; r < nrows; r++)
        mx_pkt_text_row(&b, seq++, vals + r * ncols, ncols);
    mx_pkt_eof(&b, seq++, 0, cl->status);
    bool ok = mx__send_pkt(cl, &b);
    mx_pktbuf_free(&b);
    return ok;
}

bool mx_client_send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
                              size_t nrows)
{
    return mx__send_resultset(cl, cols, ncols, vals, nrows);
}

bool mx_client_send_ok(mx_client_t *cl)
{
    return mx__send_ok(cl, 1);
}

bool mx_client_send_error(mx_client_t *cl, uint16_t code, const char *state, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return mx__send_err(cl, 1, code, state, "%s", msg);
}

bool mx__send_ok(mx_client_t *cl, uint8_t seq)
{
    uint8_t mem[64];
    mx_pktbuf_t b;
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    mx_pkt_ok(&b, seq, cl->caps & ~MX_CLIENT_SESSION_TRACK, 0, 0, cl->status, 0, NULL);
    return mx__send_pkt(cl, &b);
}

static void on_close_timer(uv_handle_t *h)
{
    mx_client_t *cl = h->data;
    mx_worker_t *w = cl->conn.w;
    mx_sstate_clear(&cl->st);
    free(cl->rewrite.data);
    free(cl->big.data);
    mx_stmt_clear_all(cl);
    mx_sstate_clear(&cl->pending_uv);
    free(cl->prep_sql);
    free(cl->smap);
    free(cl->smap_rs);
    mx_pktbuf_free(&cl->smap_out);
    atomic_fetch_sub(cl->admin ? &mx_proc.n_admin : &mx_proc.n_clients, 1);
    mx_conf_unref(cl->cfg);
    free(cl);
    w->n_clients--;
    if (w->stopping && mx_list_empty(&w->clients) && w->n_clients == 0)
        mx_worker_finish(w);
}

static void on_close_conn(uv_handle_t *h)
{
    mx_conn_t *c = h->data;
    mx_client_t *cl = MX_CONTAINER_OF(c, mx_client_t, conn);
    uv_close((uv_handle_t *)&cl->timer, on_close_timer);
}

/* What ties the session to its backend, as router/policy.h reads it. */
static void route_pins(const mx_client_t *cl, mx_route_pins_t *p)
{
    *p = (mx_route_pins_t){.status = cl->status, .sticky = cl->sticky, .long_data_pin = cl->long_data_pin,
                           .cursor_open = cl->cursor_open, .trx_chars = cl->trx_chars, .pin_next = cl->pin_next};
}

/* Whether the backend must stay with this session after the statement. */
bool mx__must_keep_server(const mx_client_t *cl)
{
    mx_route_pins_t p;
    route_pins(cl, &p);
    return mx_route_keeps_backend(&p);
}

void mx__unlink_server(mx_client_t *cl, bool dirty)
{
    mx_server_t *sv = cl->server;
    if (!sv)
        return;
    cl->server = NULL;
    sv->client = NULL;
    sv->owner = cl->user ? cl->user->key : 0;
    if (!sv->conn.reading && !sv->conn.closing)
        mx_conn_read_start(&sv->conn);
    mx_server_release(sv, dirty);
}

void mx__client_close(mx_client_t *cl, const char *why)
{
    if (cl->state == CL_CLOSED)
        return;
    CL_DEBUG(cl, "closing: %s", why);
    mx_cl_state_t old = cl->state;
    mx__client_set_state(cl, CL_CLOSED);
    mx_list_del(&cl->link);
    mx_registry_del(cl);
    uv_timer_stop(&cl->timer);
    if (old == CL_WAIT_POOL && cl->want)
        mx_pool_cancel_wait(cl->want, cl);
    if (cl->server) {
        mx_server_t *sv = cl->server;
        if (old == CL_ACTIVE || old == CL_INFILE || old == CL_REPLAY) {
            /* A response is still coming: the backend cannot be reused. */
            cl->server = NULL;
            sv->client = NULL;
            mx_server_close(sv, "client left during a statement");
        } else {
            mx__unlink_server(cl, mx__must_keep_server(cl));
        }
    }
    mx_conn_close(&cl->conn, on_close_conn);
}

const mx_schema_t *mx__effective_schema(const mx_client_t *cl)
{
    if (cl->schema)
        return cl->schema;
    return cl->user && cl->user->n_schemas ? cl->user->schemas[0] : NULL;
}

/* Outstanding requests on a host from this worker, all accounts. */
static int pool_load(void *arg, int host)
{
    mx_worker_t *w = arg;
    int n = 0;
    for (int a = 0; a < w->cfg->n_acct_slots; a++) {
        const mx_pool_t *p = mx_worker_pool(w, host, a);
        if (p)
            n += p->n_busy + p->n_waiting;
    }
    return n;
}

/* The routing decision's input for the command at hand (router/policy.h):
 * `info` is NULL when the command was not classified; `db_refused` and
 * `denied` are what the text's scan found for strict_schemas.  Returns the
 * dataHost of the session's schema, NULL without one. */
const mx_datahost_t *mx__route_input(const mx_client_t *cl, const mx_sql_info_t *info, bool db_refused,
                                        const char *denied, mx_route_in_t *in)
{
    const mx_schema_t *s = mx__effective_schema(cl);
    const mx_datahost_t *dh = s ? s->datanode->datahost : NULL;
    *in = (mx_route_in_t){
        .cmd = cl->cmd,
        .sql = info,
        .db_refused = db_refused,
        .db_denied = denied,
        .has_schema = s != NULL,
        .has_backend = cl->server != NULL,
        .backend_host = -1,
        .force_writer = cl->force_writer,
        .has_gtid = cl->last_gtid[0] != 0,
        .gtid_ok_host = strcmp(cl->gtid_ok, cl->last_gtid) == 0 ? cl->gtid_ok_host : -1,
        .user_name = cl->user_name,
        .readonly = cl->user->readonly,
        .strict_schemas = cl->user->strict_schemas,
        .balance = dh ? dh->balance : 0,
        .consistency_session = dh && dh->consistency_session,
        .writer = MX_ROUTE_UNASKED,
        .reader = MX_ROUTE_UNASKED,
    };
    route_pins(cl, &in->pins);
    if (cl->server) {
        /* Pools are per host and account: a backend of the same host for
         * another account is not where this session's statements go. */
        const mx_pool_t *p = cl->server->pool;
        if (p->acct == cl->acct)
            in->backend_host = p->host->index;
    }
    return dh;
}

/* A refusal router/policy decided: the command goes nowhere. */
bool mx__send_refusal(mx_client_t *cl, const mx_decision_t *d)
{
    if (d->log_level != MX_DECIDE_LOG_NONE && mx_log_level >= d->log_level)
        CL_LOG(cl, d->log_level, "%s", d->log);
    mx__drop_command(cl);
    return mx__send_err(cl, 1, d->code, d->sqlstate, "%s", d->msg);
}

static void on_wait_timeout(uv_timer_t *t)
{
    mx_client_t *cl = t->data;
    if (cl->state != CL_WAIT_POOL)
        return;
    mx_pool_t *p = cl->want;
    mx_pool_cancel_wait(p, cl);
    CL_LOG(cl, MX_LOG_WARNING, "no backend connection to %s within %d ms (this worker: %d open, %d busy; "
           "max_con %d over all workers)", p->host->name, cl->cfg->pool_wait_timeout_ms, p->n_total, p->n_busy,
           p->max);
    mx__drop_command(cl);
    mx__client_set_state(cl, CL_IDLE);
    if (mx__send_err(cl, 1, MX_ER_CON_COUNT, "08004",
                 "manx: no free backend connection to %s (%s) within %d ms: pool full (max_con %d)",
                 p->host->name, p->host->address, cl->cfg->pool_wait_timeout_ms, p->max))
        mx__client_work(cl);
}

void mx_client_pool_failed(mx_client_t *cl, mx_pool_t *p, const char *reason)
{
    if (cl->state != CL_WAIT_POOL)
        return;
    uv_timer_stop(&cl->timer);
    mx__drop_command(cl);
    mx__client_set_state(cl, CL_IDLE);
    if (mx__send_err(cl, 1, MX_ER_PROXY_BACKEND, "HY000", "manx: can't connect to backend %s (%s): %s",
                 p->host->name, p->host->address, reason))
        mx__client_work(cl);
}

void mx_client_got_server(mx_client_t *cl, mx_server_t *sv)
{
    uv_timer_stop(&cl->timer);
    cl->server = sv;
    sv->client = cl;
    mx__client_set_state(cl, CL_REPLAY);
    cl->replay_step = RP_GTID;
    if (sv->synced_id == cl->id && sv->synced_version == cl->st_version && !cl->need_gtid_wait && !sv->n_close &&
        (sv->st.last_insert_id == cl->st.last_insert_id || !(cl->qflags & MX_SQLF_LAST_INSERT_ID)) &&
        (!cl->cur_stmt || mx_sstmt_find(sv, cl->cur_stmt))) {
        mx__forward_command(cl);
        return;
    }
    mx__replay_next(cl);
}

/* The console answers everything itself. */
static bool dispatch_admin(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have)
{
    switch (cl->cmd) {
    case MX_COM_QUIT:
        mx__client_close(cl, "client quit");
        return false;
    case MX_COM_QUERY: {
        bool ok = mx_admin_query(cl, p + 1, len - 1);
        mx__drop_command(cl);
        return ok && cl->state != CL_CLOSED;
    }
    case MX_COM_PING:
    case MX_COM_INIT_DB:
        mx__drop_command(cl);
        return mx__send_ok(cl, 1);
    default:
        mx__drop_command(cl);
        return mx__send_err(cl, 1, MX_ER_UNKNOWN_COM, "08S01", "manx admin console: only queries");
    }
}

/* Handle the command in hand: whole when dispatch_ready() said so, else at
 * least its first MX_RESP_PEEK bytes.  Returns true when the caller may go
 * on with the next buffered command. */
static bool dispatch(mx_client_t *cl)
{
    uint32_t len, have;
    const uint8_t *p = mx__cmd_payload(cl, &len, &have);
    cl->cmd = p[0];
    cl->qflags = 0;
    cl->cur_stmt = NULL;
    cl->cls = MX_CLS_NONE;
    cl->routed_read = false;
    cl->need_gtid_wait = false;
    cl->rewrite.len = 0;
    const mx_config_t *was = cl->cfg;
    const char *gone = mx_worker_session_gen(cl);
    if (gone) {
        CL_LOG(cl, MX_LOG_WARNING, "closing: %s after a reload", gone);
        mx__drop_command(cl);
        mx__send_err(cl, 1, 1045, "28000", "manx: %s after a reload", gone);
        mx__client_close(cl, gone);
        return false;
    }
    if (cl->cfg != was && !mx__build_smap(cl)) { /* its names lived in the old generation */
        mx__drop_command(cl);
        mx__client_close(cl, "out of memory");
        return false;
    }
    if (cl->admin)
        return dispatch_admin(cl, p, len, have);
    int rc = mx__dispatch_local(cl, p, len, have);
    if (rc >= 0)
        return rc;
    mx_route_in_t in;
    mx_decision_t d;
    mx__route_input(cl, NULL, false, "", &in);
    if (mx_route_refuse_command(&in, &d))
        return mx__send_refusal(cl, &d);
    mx_sql_info_t info;
    const mx_sql_info_t *ip = NULL;
    switch (cl->cmd) {
    case MX_COM_STMT_CLOSE:
    case MX_COM_STMT_SEND_LONG_DATA:
    case MX_COM_STMT_EXECUTE:
    case MX_COM_STMT_FETCH:
    case MX_COM_STMT_RESET:
        rc = mx__dispatch_stmt(cl, p, len, have, &info);
        if (rc >= 0)
            return rc;
        ip = &info;
        break;
    case MX_COM_STMT_BULK_EXECUTE:
        rc = mx__dispatch_bulk(cl, p, len, have, &info);
        if (rc >= 0)
            return rc;
        ip = &info;
        break;
    case MX_COM_QUERY:
    case MX_COM_STMT_PREPARE:
        rc = mx__dispatch_query(cl, &info);
        if (rc >= 0)
            return rc;
        ip = cl->cls == MX_CLS_NONE ? NULL : &info;
        break;
    default:
        break;
    }
    return route_command(cl, ip);
}

/* Find a backend for the command in hand, as router/policy decides, and
 * hand it over. */
static bool route_command(mx_client_t *cl, const mx_sql_info_t *ip)
{
    mx_worker_t *w = cl->conn.w;
    mx_route_in_t in;
    const mx_datahost_t *dh = mx__route_input(cl, ip, false, "", &in);
    size_t di = dh ? (size_t)dh->index : 0;
    mx_decision_t d = mx_route_resolve(&in, dh, di, &mx_proc.health, pool_load, w, &w->rr);
    while (d.release) {
        /* A weak pin yields: the backend goes back to its pool, and the
         * host choice is asked again without it. */
        mx__unlink_server(cl, false);
        in.has_backend = false;
        in.backend_host = -1;
        in.writer = in.reader = MX_ROUTE_UNASKED;
        d = mx_route_resolve(&in, dh, di, &mx_proc.health, pool_load, w, &w->rr);
    }
    cl->force_writer = in.force_writer;
    cl->routed_read = d.read;
    cl->need_gtid_wait = d.gtid_wait;
    switch (d.kind) {
    case MX_DECIDE_KEEP:
        mx_client_got_server(cl, cl->server);
        return false;
    case MX_DECIDE_WRITER:
    case MX_DECIDE_READER:
        break;
    case MX_DECIDE_REFUSE:
        return mx__send_refusal(cl, &d);
    default:
        /* ANSWER and KILL were acted on in mx__dispatch_query() for the same
         * input; PICK never leaves mx_route_resolve(). */
        abort();
    }
    mx_pool_t *pool = mx_worker_pool_in(w, cl->cfg, d.host, cl->acct);
    cl->want = pool;
    mx__client_set_state(cl, CL_WAIT_POOL);
    mx_server_t *sv = mx_pool_acquire(pool, cl, mx_client_flavor(cl));
    if (sv) {
        mx_client_got_server(cl, sv);
    } else if (cl->state == CL_WAIT_POOL) {
        cl->timer_kind = CT_POOL;
        uv_timer_start(&cl->timer, on_wait_timeout, (uint64_t)cl->cfg->pool_wait_timeout_ms, 0);
    }
    return false;
}

/* Whether the command at the head of the input can be dispatched: 1 yes
 * (whole, or its first MX_RESP_PEEK bytes for commands that stream), 0 when
 * more must arrive, -1 when the client was closed.  A query or prepare too
 * big for the read buffer is assembled in cl->big. */
static int dispatch_ready(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    if (cl->big_filling) {
        int rc = mx__assemble(cl);
        return rc;
    }
    if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
        return 0;
    const uint8_t *h = c->buf + c->rpos;
    uint32_t len = mx_pkt_len(h);
    if (len == 0 || mx_pkt_seq(h) != 0) {
        mx__client_close(cl, len == 0 ? "empty command packet" : "command with a bad sequence id");
        return -1;
    }
    if (len > cl->cfg->max_packet && len != MX_PKT_MAX) {
        mx__send_err(cl, 1, MX_ER_NET_PACKET_TOO_LARGE, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes");
        mx__client_close(cl, "packet too large");
        return -1;
    }
    if (mx_conn_avail(c) < MX_PKT_HDR + 1)
        return 0;
    uint8_t cmd = h[MX_PKT_HDR];
    bool whole = cmd == MX_COM_QUERY || cmd == MX_COM_STMT_PREPARE;
    if (whole && (len == MX_PKT_MAX || len + MX_PKT_HDR > MX_BUF_SIZE)) {
        cl->big.len = 0;
        cl->big_left = 0;
        return mx__assemble(cl);
    }
    uint32_t need = MX_PKT_HDR + (whole || len < MX_RESP_PEEK ? len : MX_RESP_PEEK);
    if (mx_conn_avail(c) < need) {
        if (c->rpos + need > MX_BUF_SIZE)
            mx_conn_compact(c);
        return 0;
    }
    return 1;
}

/* Process what the client sent, as far as the session's state allows,
 * including what TLS still holds once there is room for it. */
void mx__client_work(mx_client_t *cl)
{
    do {
        client_work_once(cl);
    } while (cl->state != CL_CLOSED && cl->conn.ssl && mx_conn_tls_more(&cl->conn));
}

/* CL_ACTIVE / CL_INFILE: forward the request bytes still coming.  Returns
 * false when the session was closed or moved on. */
static bool work_forwarding(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    if (cl->state == CL_ACTIVE) {
        if (cl->fwd_left || cl->fwd_cont) {
            if (!mx__pump_request(cl))
                return false;
            if (cl->state == CL_ACTIVE && !cl->fwd_left && !cl->fwd_cont && !mx_resp_expected(cl->cmd)) {
                mx__command_done(cl);
                return false;
            }
        }
        return true;
    }
    /* File data: packets until an empty one, then the backend answers. */
    for (;;) {
        if (cl->fwd_left == 0 && c->buf && mx_conn_avail(c) >= MX_PKT_HDR) {
            uint32_t len = mx_pkt_len(c->buf + c->rpos);
            cl->fwd_left = (uint64_t)len + MX_PKT_HDR;
            if (len == 0) {
                if (!mx__pump_request(cl))
                    return false;
                mx__client_set_state(cl, CL_ACTIVE);
                mx_resp_infile_sent(&cl->resp);
                if (cl->server && cl->server->conn.buf)
                    mx_client_server_data(cl);
                return false;
            }
        }
        if (!cl->fwd_left)
            return true;
        if (!mx__pump_request(cl))
            return false;
        if (cl->fwd_left != 0 || cl->state != CL_INFILE || !c->buf || mx_conn_avail(c) < MX_PKT_HDR ||
            !c->reading)
            return true;
    }
}

/* CL_LOGIN / CL_AUTH_MORE: one whole login packet at a time. */
static bool work_login(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
        return false;
    const uint8_t *h = c->buf + c->rpos;
    uint32_t len = mx_pkt_len(h);
    if (len + MX_PKT_HDR > MX_BUF_SIZE) {
        mx__client_close(cl, "oversized login packet");
        return false;
    }
    if (mx_conn_avail(c) < MX_PKT_HDR + len) {
        if (c->rpos + MX_PKT_HDR + len > MX_BUF_SIZE)
            mx_conn_compact(c);
        return false;
    }
    c->rpos += MX_PKT_HDR + len;
    if (cl->state == CL_LOGIN)
        mx__handle_login(cl, h + MX_PKT_HDR, len, mx_pkt_seq(h));
    else
        mx__auth_more(cl, h + MX_PKT_HDR, len, mx_pkt_seq(h));
    return cl->state != CL_CLOSED && cl->state != CL_TLS;
}

static void client_work_once(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    for (;;) {
        if (cl->state == CL_ACTIVE || cl->state == CL_INFILE) {
            if (!work_forwarding(cl))
                return;
            break;
        }
        if (cl->state == CL_LOGIN || cl->state == CL_AUTH_MORE) {
            if (!work_login(cl)) {
                if (cl->state == CL_CLOSED || cl->state == CL_TLS)
                    return;
                break;
            }
            continue;
        }
        if (cl->state != CL_IDLE || !mx__discard_input(cl))
            break;
        int rc = dispatch_ready(cl);
        if (rc < 0)
            return;
        if (rc == 0 || !dispatch(cl))
            break;
    }
    if (cl->state == CL_CLOSED)
        return;
    if (c->buf && c->rpos == c->rend)
        mx_conn_consume_done(c);
    mx__arm_timer(cl);
    mx__resume_reading(cl);
}

void mx__client_io(mx_conn_t *c, int ev)
{
    mx_client_t *cl = MX_CONTAINER_OF(c, mx_client_t, conn);
    if (cl->state == CL_CLOSED)
        return;
    switch (ev) {
    case MX_EV_READ:
        mx__client_work(cl);
        return;
    case MX_EV_TLS_READY:
        if (cl->state == CL_TLS)
            mx__client_set_state(cl, CL_LOGIN);
        return;
    case MX_EV_DRAIN:
        /* The client caught up: let the backend's data flow again. */
        if (cl->server && (cl->state == CL_ACTIVE || cl->state == CL_INFILE)) {
            mx_conn_read_start(&cl->server->conn);
            mx_client_server_data(cl);
        }
        return;
    case MX_EV_EOF:
        mx__client_close(cl, "client disconnected");
        return;
    default:
        abort();
    }
}

void mx_client_kill(mx_worker_t *w, uint32_t id, bool query_only)
{
    for (mx_list_t *l = w->clients.next; l != &w->clients; l = l->next) {
        mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, link);
        if (cl->id != id)
            continue;
        mx_server_t *sv = cl->server;
        if (sv && (cl->state == CL_ACTIVE || cl->state == CL_INFILE)) {
            /* The statement runs on backend thread backend_thread_id:
             * kill it there, over another connection to that host, so
             * the client gets the server's own "interrupted" error. */
            CL_LOG(cl, MX_LOG_INFO, "KILL %s: killing backend thread %u on %s", query_only ? "QUERY" : "CONNECTION",
                   sv->backend_thread_id, sv->pool->host->name);
            if (!mx_server_kill_query(sv->pool, sv->backend_thread_id))
                mx_server_close(sv, "statement killed (no spare connection for KILL QUERY)");
        }
        if (!query_only)
            mx__client_close(cl, "killed by KILL CONNECTION");
        return;
    }
}

/* KILL [CONNECTION|QUERY] id and COM_PROCESS_KILL: ids are manx session ids
 * (what the handshake and CONNECTION_ID() give), whichever worker holds
 * them.  As MySQL without the PROCESS/SUPER privilege, a session may kill
 * only sessions of its own user; console sessions and anything that is not
 * a manx session (a backend's thread id) are unknown here, and nothing is
 * ever forwarded. */
bool mx__handle_kill(mx_client_t *cl, uint64_t id, bool query_only)
{
    mx_reg_info_t t;
    if (id == 0 || id > UINT32_MAX || !mx_registry_find((uint32_t)id, &t) || t.admin || !t.user_key)
        return mx__send_err(cl, 1, 1094, "HY000", "Unknown thread id: %llu", (unsigned long long)id);
    if (t.user_key != cl->user->key) {
        CL_LOG(cl, MX_LOG_WARNING, "refused KILL %llu: a session of another user", (unsigned long long)id);
        return mx__send_err(cl, 1, 1095, "HY000", "You are not owner of thread %llu", (unsigned long long)id);
    }
    if (id == cl->id && !query_only) {
        mx__client_close(cl, "KILL of its own connection");
        return false;
    }
    mx_worker_t *self = cl->conn.w;
    if (t.worker == self->index)
        mx_client_kill(self, (uint32_t)id, query_only);
    else
        mx_worker_post_kill(&mx_proc.workers[t.worker], (uint32_t)id, query_only);
    return mx__send_ok(cl, 1);
}

void mx_client_shutdown_step(mx_worker_t *w, bool force)
{
    mx_list_t *l = w->clients.next;
    while (l != &w->clients) {
        mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, link);
        l = l->next;
        if (force || cl->state == CL_IDLE || cl->state == CL_LOGIN || cl->state == CL_TLS ||
            cl->state == CL_AUTH_MORE || cl->state == CL_WAIT_POOL)
            mx__client_close(cl, force ? "shutdown timeout" : "shutting down");
    }
    if (mx_list_empty(&w->clients) && w->n_clients == 0)
        mx_worker_finish(w);
}
