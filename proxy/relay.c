/* One statement in flight: forwarding the client's command to the linked
 * backend (statement ids mapped), following the response's boundaries and
 * streaming it back packet by packet from the backend's buffer (OK packets
 * re-encoded for clients without session tracking, schema names mapped for
 * sessions with renamed schemas), and what happens when it ends or the
 * backend is lost. */
#include "relay.h"

#include <string.h>
#include <strings.h>

#include "client-t.h"
#include "client.h"
#include "command.h"
#include "conn.h"
#include "metrics.h"
#include "server.h"
#include "session.h"
#include "stats.h"
#include "stmt.h"

/* Response packets that may carry a real database name (protocol/schemamap.h). */
enum { SM_NONE, SM_COLDEF, SM_ROW, SM_ERR };

static void server_data_once(mx_client_t *cl);
static void response_finished(mx_client_t *cl);

/* Forward as much of the current command's bytes as are buffered. */
bool mx__pump_request(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    mx_server_t *sv = cl->server;
    for (;;) {
        if (cl->fwd_left == 0) {
            if (!cl->fwd_cont)
                return true;
            /* The previous packet was 0xFFFFFF long: another follows. */
            if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
                return true;
            uint32_t len = mx_pkt_len(c->buf + c->rpos);
            cl->fwd_cont = len == MX_PKT_MAX;
            cl->fwd_left = (uint64_t)len + MX_PKT_HDR;
        }
        if (!c->buf || mx_conn_avail(c) == 0)
            return true;
        uint32_t n = mx_conn_avail(c);
        if (n > cl->fwd_left)
            n = (uint32_t)cl->fwd_left;
        uv_buf_t ub = uv_buf_init((char *)c->buf + c->rpos, n);
        if (!mx_conn_write(&sv->conn, &ub, 1)) {
            mx_server_close(sv, "write failed");
            return false;
        }
        c->rpos += n;
        cl->fwd_left -= n;
        if (sv->conn.wq_bytes > 0) {
            /* Backend is slow to take the data: stop reading the client. */
            mx_conn_read_stop(c);
            return true;
        }
    }
}

/* A bulk execute that sends no types, on a backend statement that never
 * saw the ones the client bound: rebuild it with them (stmt.h).  Returns
 * false on failure (the client is closed). */
static bool map_bulk_types(mx_client_t *cl, mx_stmt_t *st, mx_sstmt_t *ss, const uint8_t *p, uint32_t len,
                           uint32_t have)
{
    int rc = mx_stmt_bulk_types(st, ss, p, have);
    size_t tlen = 2u * st->n_params;
    if (rc == 0)
        return true;
    if (rc > 0 && (have != len || len + tlen >= MX_PKT_MAX)) {
        mx__client_close(cl, "cannot re-send parameter types of a large bulk execute");
        return false;
    }
    uint8_t head[7];
    memcpy(head, p, 7);
    mx_wr_u16(head + 5, mx_rd_u16(p + 5) | MX_BULK_SEND_TYPES);
    cl->rewrite.len = 0;
    if (rc < 0 || !mx__bytes_put(&cl->rewrite, head, 7) || !mx__bytes_put(&cl->rewrite, st->types, tlen) ||
        !mx__bytes_put(&cl->rewrite, p + 7, len - 7) || !mx_sstmt_set_types(ss, st->types)) {
        mx__client_close(cl, "out of memory");
        return false;
    }
    return true;
}

/* A statement command is about to go to the backend: put the backend's
 * statement id in place of manx's, and for an EXECUTE that relies on types
 * bound earlier (new_params_bound_flag = 0) send the types again when this
 * backend statement has not seen them.  Returns false on failure (the
 * client is closed). */
static bool map_statement(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    uint8_t *h = c->buf + c->rpos;
    uint32_t len = mx_pkt_len(h);
    uint32_t have = mx_conn_avail(c) - MX_PKT_HDR;
    if (have > len)
        have = len;
    uint8_t *p = h + MX_PKT_HDR;
    mx_stmt_t *st = cl->cur_stmt;
    mx_sstmt_t *ss = mx_sstmt_find(cl->server, st);
    if (!ss) {
        mx__client_close(cl, "statement not prepared on its backend");
        return false;
    }
    mx_wr_u32(p + 1, ss->backend_id);
    if (cl->cmd == MX_COM_STMT_BULK_EXECUTE)
        return map_bulk_types(cl, st, ss, p, len, have);
    if (cl->cmd != MX_COM_STMT_EXECUTE || st->n_params == 0)
        return true;
    size_t flag_at = 10 + ((size_t)st->n_params + 7) / 8;
    size_t tlen = 2u * st->n_params;
    if (have <= flag_at)
        return true; /* malformed: the server will say so */
    if (p[flag_at] == 1) {
        if (have >= flag_at + 1 + tlen) {
            if (!mx_stmt_set_types(st, p + flag_at + 1) || !mx_sstmt_set_types(ss, p + flag_at + 1)) {
                mx__client_close(cl, "out of memory");
                return false;
            }
        }
        return true;
    }
    if (!st->has_types || (ss->has_types && memcmp(ss->types, st->types, tlen) == 0))
        return true;
    /* This backend statement never saw the types the client bound on
     * another one: rebuild the packet with them. */
    if (have != len || len + tlen >= MX_PKT_MAX) {
        mx__client_close(cl, "cannot re-send parameter types of a large EXECUTE");
        return false;
    }
    static const uint8_t one = 1;
    cl->rewrite.len = 0;
    if (!mx__bytes_put(&cl->rewrite, p, flag_at) || !mx__bytes_put(&cl->rewrite, &one, 1) ||
        !mx__bytes_put(&cl->rewrite, st->types, tlen) ||
        !mx__bytes_put(&cl->rewrite, p + flag_at + 1, len - flag_at - 1) || !mx_sstmt_set_types(ss, st->types)) {
        mx__client_close(cl, "out of memory");
        return false;
    }
    return true;
}

static void log_forward(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have)
{
    const mx_server_t *sv = cl->server;
    const mx_pool_t *sp = sv->pool;
    const char *cls = cl->cls == MX_CLS_NONE ? "-" : mx_sql_class_name(cl->cls);
    if (cl->cmd != MX_COM_QUERY && cl->cmd != MX_COM_STMT_PREPARE) {
        CL_DEBUG(cl, "%s -> S-%u %s %s: command 0x%02x%s", cls, sv->id, sp->host->name, sp->host->address, cl->cmd,
                 cl->cur_stmt ? " (prepared statement)" : "");
        return;
    }
    /* Statement text, truncated, control bytes shown as '.'. */
    char text[201];
    size_t n = have - 1 > 200 ? 200 : have - 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[1 + i];
        text[i] = ch < 0x20 || ch == 0x7f ? '.' : (char)ch;
    }
    text[n] = 0;
    CL_DEBUG(cl, "%s -> S-%u %s %s (balance=%d): %s%s", cls, sv->id, sp->host->name, sp->host->address,
             sp->dh ? sp->dh->balance : 0, text, len - 1 > n ? "..." : "");
}

void mx__forward_command(mx_client_t *cl)
{
    if (cl->cur_stmt && !map_statement(cl))
        return;
    mx_server_t *sv = cl->server;
    uint32_t len, have;
    const uint8_t *p = mx__cmd_payload(cl, &len, &have);
    /* What goes to the backend: manx's rewrite of the command, the command
     * assembled in `big`, or the client's bytes in place. */
    bool heap = cl->rewrite.len || cl->big_ready;
    const uint8_t *src = cl->rewrite.len ? cl->rewrite.data : p;
    size_t slen = cl->rewrite.len ? cl->rewrite.len : len;
    mx__client_set_state(cl, CL_ACTIVE);
    cl->queries++;
    mx_stats_statement_start(cl, p, have);
    mx_metrics_stmt_begin(cl);
    if (cl->routed_read)
        sv->pool->n_reads++;
    else
        sv->pool->n_writes++;
    cl->skip_left = 0;
    cl->state_change = cl->state_known = false;
    cl->reported = 0;
    cl->next_seq = 1;
    if (cl->qflags & MX_SQLF_LAST_INSERT_ID_SET) {
        /* LAST_INSERT_ID(expr) sets it without an OK packet saying so: the
         * value is the session's on this backend only (not replayed
         * elsewhere), and another session reading it here gets its own
         * value replayed first. */
        sv->st.last_insert_id = cl->st.last_insert_id = MX_LID_UNKNOWN;
    }
    bool expects = mx_resp_expected(cl->cmd);
    if (expects)
        mx_resp_begin(&cl->resp, sv->caps, src, heap ? slen : have);
    if (mx_log_level >= MX_LOG_DEBUG)
        log_forward(cl, src, (uint32_t)slen, heap ? (uint32_t)slen : have);
    if (heap) {
        bool ok = mx__send_payload(&sv->conn, src, slen);
        mx__drop_command(cl);
        cl->rewrite.len = 0;
        cl->fwd_left = 0;
        cl->fwd_cont = false;
        if (!ok) {
            mx_server_close(sv, "write failed");
            return;
        }
    } else {
        cl->fwd_left = (uint64_t)len + MX_PKT_HDR;
        cl->fwd_cont = len == MX_PKT_MAX;
        if (!mx__pump_request(cl))
            return;
    }
    if (!expects && cl->fwd_left == 0 && !cl->fwd_cont) {
        mx__command_done(cl);
        return;
    }
    /* Reached from a replay or a pool hand-over, not from mx__client_work():
     * a command bigger than the buffer needs the client read again. */
    mx__resume_reading(cl);
}

/* What the packet at h (payload len) is, read before it is fed to the
 * tracker; also starts a result set's column record at its column count. */
static int smap_kind(mx_client_t *cl, const uint8_t *h, uint32_t len)
{
    const mx_resp_t *r = &cl->resp;
    uint8_t b = h[MX_PKT_HDR];
    bool eof = b == 0xFE && len < 9;
    if (r->continuing || len == 0)
        return SM_NONE;
    if (b == 0xFF)
        return len >= 3 && h[MX_PKT_HDR + 1] == 0xFF && h[MX_PKT_HDR + 2] == 0xFF ? SM_NONE : SM_ERR;
    switch (r->phase) {
    case MX_RP_FIRST:
        if (b != 0x00 && b != 0xFB) /* a column count, or PREPARE_OK's columns to come */
            mx_smap_rs_begin(cl->smap_rs);
        else if (r->cmd == MX_COM_STMT_PREPARE)
            mx_smap_rs_begin(cl->smap_rs);
        return SM_NONE;
    case MX_RP_COLS:
    case MX_RP_PREP_COLS:
        return SM_COLDEF;
    case MX_RP_FIELDS:
        return eof ? SM_NONE : SM_COLDEF;
    case MX_RP_ROWS:
        /* COM_STMT_FETCH rows belong to the cursor's result set, whose
         * columns may not be the last ones seen: left as they are. */
        return eof || r->cmd == MX_COM_STMT_FETCH || !cl->smap_rs->any ? SM_NONE : SM_ROW;
    default:
        return SM_NONE;
    }
}

/* The packet at h with real names mapped, NULL when it needs no change. */
/* Appends the packet at h with real names mapped to cl->smap_out; false
 * when it needs no change (nothing appended). */
static bool smap_packet(mx_client_t *cl, int kind, const uint8_t *h, uint32_t len)
{
    mx_pktbuf_t *out = &cl->smap_out;
    const uint8_t *p = h + MX_PKT_HDR;
    uint8_t seq = mx_pkt_seq(h);
    int rc;
    switch (kind) {
    case SM_COLDEF:
        /* The backend's format, which is the client's (MX_FLAVOR_EXT_TYPES). */
        rc = mx_smap_coldef(cl->smap, cl->n_smap, cl->smap_rs,
                            cl->server && (cl->server->ext_caps & MX_MARIADB_EXTENDED_TYPE_INFO), p, len, out, seq);
        break;
    case SM_ROW:
        rc = mx_smap_row(cl->smap, cl->n_smap, cl->smap_rs,
                         cl->resp.cmd == MX_COM_STMT_EXECUTE || cl->resp.cmd == MX_COM_STMT_BULK_EXECUTE, p, len,
                         out, seq);
        break;
    default:
        rc = mx_smap_err(cl->smap, cl->n_smap, p, len, out, seq);
        break;
    }
    return rc == 1;
}

/* Stream the backend's response to the client from the backend's buffer. */
void mx_client_server_data(mx_client_t *cl)
{
    mx_server_t *sv = cl->server;
    do {
        server_data_once(cl);
    } while (cl->state == CL_ACTIVE && cl->server == sv && sv->conn.ssl && cl->conn.wq_bytes == 0 &&
             mx_conn_tls_more(&sv->conn));
}

/* PREPARE_OK: the client gets manx's id for the statement; the backend's
 * is remembered on this connection.  False when the session closed. */
static bool take_prepare_ok(mx_client_t *cl, mx_server_t *sv, uint8_t *h)
{
    uint8_t cls = cl->cls == MX_CLS_NONE ? MX_SQL_WRITE : cl->cls;
    mx_stmt_t *st = mx_stmt_add(cl, cl->prep_sql, cl->prep_len, cls, cl->resp.prepare.num_params);
    if (!st) {
        mx__client_close(cl, "out of memory");
        return false;
    }
    if (mx_sstmt_find(sv, st)) {
        /* Already prepared here by some session: keep that one and close
         * this duplicate, or every client PREPARE would add one to the
         * server's max_prepared_stmt_count. */
        mx_sstmt_queue_close(sv, cl->resp.prepare.stmt_id);
    } else if (!mx_sstmt_add(sv, st, cl->resp.prepare.stmt_id)) {
        mx__client_close(cl, "out of memory");
        return false;
    }
    st->flags = cl->qflags;
    cl->prep_sql = NULL;
    mx_wr_u32(h + MX_PKT_HDR + 1, st->vid);
    return true;
}

/* Appends to cl->smap_out what the client gets instead of the whole packet
 * at h; false when it goes as it is: schema names mapped (sm), or an OK
 * packet re-encoded for a client without session tracking.  An OK
 * packet's session state is taken here too. */
static bool replacement(mx_client_t *cl, mx_server_t *sv, int sm, const uint8_t *h, uint32_t len)
{
    if (sm != SM_NONE && smap_packet(cl, sm, h, len))
        return true;
    if (!cl->resp.last_ok)
        return false;
    mx__track_ok(cl, h + MX_PKT_HDR, len);
    mx_ok_t ok;
    if (!cl->rewrite_ok || mx_parse_ok(h + MX_PKT_HDR, len, sv->caps, &ok) != 0)
        return false;
    mx_pkt_ok_reencode(&cl->smap_out, mx_pkt_seq(h), h[MX_PKT_HDR], &ok, cl->caps);
    return true;
}

/* What one pass sends the client, in order: ranges of the backend's buffer
 * and packets manx wrote in cl->smap_out; one write for them all. */
#define OUT_SEGS 16
typedef struct out_seg_s {
    bool own;          /* in cl->smap_out, else in the backend's buffer */
    uint32_t off, len;
} out_seg_t;

typedef struct out_s {
    out_seg_t seg[OUT_SEGS];
    int n;
} out_t;

static bool out_flush(mx_client_t *cl, out_t *o)
{
    uv_buf_t ub[OUT_SEGS];
    const uint8_t *buf = cl->server->conn.buf;
    for (int i = 0; i < o->n; i++)
        ub[i] = uv_buf_init((char *)(o->seg[i].own ? cl->smap_out.data : buf) + o->seg[i].off, o->seg[i].len);
    bool ok = o->n == 0 || (!cl->smap_out.failed && mx_conn_write(&cl->conn, ub, (unsigned)o->n));
    o->n = 0;
    mx_pktbuf_reset(&cl->smap_out);
    if (!ok)
        mx__client_close(cl, "write failed");
    return ok;
}

static void out_add(out_t *o, bool own, size_t off, size_t len)
{
    if (len)
        o->seg[o->n++] = (out_seg_t){own, (uint32_t)off, (uint32_t)len};
}

static void server_data_once(mx_client_t *cl)
{
    mx_server_t *sv = cl->server;
    mx_conn_t *sc = &sv->conn;
    if (cl->state != CL_ACTIVE || !sc->buf)
        return;
    uint32_t fwd_start = sc->rpos;
    int rc = MX_RESP_MORE;
    out_t o = {.n = 0};
    mx_pktbuf_reset(&cl->smap_out);
    while (rc != MX_RESP_DONE && rc != MX_RESP_INFILE) {
        if (cl->skip_left) {
            uint32_t take = mx_conn_avail(sc);
            if (take > cl->skip_left)
                take = (uint32_t)cl->skip_left;
            sc->rpos += take;
            cl->skip_left -= take;
            if (cl->skip_left)
                break;
            continue;
        }
        uint32_t avail = mx_conn_avail(sc);
        if (avail < MX_PKT_HDR)
            break;
        uint8_t *h = sc->buf + sc->rpos;
        uint32_t len = mx_pkt_len(h);
        uint32_t peek = len < MX_RESP_PEEK ? len : MX_RESP_PEEK;
        if (avail < MX_PKT_HDR + peek)
            break;
        uint32_t have = avail - MX_PKT_HDR < len ? avail - MX_PKT_HDR : len;
        int sm = cl->n_smap && !sv->internal ? smap_kind(cl, h, len) : SM_NONE;
        if (sm != SM_NONE && have < len && len <= MX_BUF_SIZE - MX_PKT_HDR)
            break; /* mapped whole: wait for the rest of it */
        rc = mx_resp_feed(&cl->resp, h + MX_PKT_HDR, have, len);
        if (rc < 0) {
            CL_LOG(cl, MX_LOG_WARNING, "malformed response from S-%u %s", sv->id, sv->pool->host->name);
            mx_server_close(sv, "malformed response");
            return;
        }
        cl->next_seq = (uint8_t)(mx_pkt_seq(h) + 1);
        if (cl->cmd == MX_COM_STMT_PREPARE && cl->resp.packets == 1 && !cl->resp.is_error && have >= 5 &&
            cl->prep_sql && !take_prepare_ok(cl, sv, h))
            return;
        if (have < len) {
            /* Bigger than what is here: it streams through as it comes. */
            cl->skip_left = (uint64_t)len - have;
            sc->rpos = sc->rend;
            continue;
        }
        size_t mark = cl->smap_out.len;
        if (replacement(cl, sv, sm, h, len)) {
            out_add(&o, false, fwd_start, sc->rpos - fwd_start);
            out_add(&o, true, mark, cl->smap_out.len - mark);
            fwd_start = sc->rpos + MX_PKT_HDR + len;
            if (o.n > OUT_SEGS - 3 && !out_flush(cl, &o))
                return;
        }
        sc->rpos += MX_PKT_HDR + len;
    }
    out_add(&o, false, fwd_start, sc->rpos - fwd_start);
    if (!out_flush(cl, &o))
        return;
    if (cl->conn.wq_bytes > 0)
        mx_conn_read_stop(sc); /* slow client: let the backend wait */
    if (sc->rpos == sc->rend)
        mx_conn_consume_done(sc);
    else
        mx_conn_compact(sc);
    if (rc == MX_RESP_DONE && cl->skip_left == 0) {
        response_finished(cl);
        return;
    }
    if (rc == MX_RESP_INFILE) {
        mx__client_set_state(cl, CL_INFILE);
        cl->fwd_left = 0;
        cl->fwd_cont = false;
        mx__client_work(cl);
    }
}

void mx_client_server_drained(mx_client_t *cl)
{
    /* The backend took everything: read the client again. */
    if (cl->state == CL_ACTIVE || cl->state == CL_INFILE) {
        mx_conn_read_start(&cl->conn);
        mx__client_work(cl);
    }
}

static void response_finished(mx_client_t *cl)
{
    const mx_resp_t *r = &cl->resp;
    uint64_t us;
    if (mx_stats_statement_done(cl, r, &us))
        mx_metrics_stmt_done(&cl->conn.w->wstats, us);
    if (r->is_error && cl->server)
        cl->server->pool->n_errors++;
    if (r->is_error)
        mx_metrics_error(&cl->conn.w->wstats, r->err_code, MX_ERR_FROM_BACKEND);
    if (cl->cmd == MX_COM_STMT_EXECUTE) {
        cl->long_data_pin = false;
        /* A cursor lives on this backend until fetched to the end. */
        if (!r->is_error && (r->status & MX_STATUS_CURSOR_EXISTS))
            cl->cursor_open = true;
    } else if (cl->cmd == MX_COM_STMT_FETCH) {
        if (r->is_error || (r->status & MX_STATUS_LAST_ROW_SENT))
            cl->cursor_open = false;
    } else if (cl->cmd == MX_COM_STMT_RESET) {
        cl->cursor_open = false;
    }
    if (!r->is_error || r->got_ok)
        cl->status = r->status;
    if (cl->cmd == MX_COM_QUERY || cl->cmd == MX_COM_STMT_EXECUTE || cl->cmd == MX_COM_STMT_BULK_EXECUTE)
        mx__note_session_state(cl, !r->is_error);
    if ((cl->reported & RPT_CS_CONNECTION) && !(cl->reported & RPT_COLLATION) && cl->server &&
        mx__learn_collation(cl))
        return;
    mx__command_done(cl);
}

/* The command and its response are complete. */
void mx__command_done(mx_client_t *cl)
{
    mx_server_t *sv = cl->server;
    mx__client_set_state(cl, CL_IDLE);
    /* FOUND_ROWS() after SQL_CALC_FOUND_ROWS, and SHOW WARNINGS after a
     * statement that left warnings, only make sense on the same backend. */
    cl->pin_next = ((cl->cmd == MX_COM_QUERY || cl->cmd == MX_COM_STMT_EXECUTE) &&
                    (cl->qflags & MX_SQLF_SQL_CALC_FOUND_ROWS)) ||
                   (mx_resp_expected(cl->cmd) && cl->resp.warnings > 0);
    if (sv && sv->lost_read_only) {
        /* The second wall fell: this connection never serves a statement
         * again, whatever the session had going on it. */
        CL_LOG(cl, MX_LOG_WARNING, "S-%u is no longer READ ONLY after a statement of readonly user %s: closed",
               sv->id, cl->user_name);
        cl->server = NULL;
        sv->client = NULL;
        mx_server_close(sv, "READ ONLY lifted");
        cl->sticky = cl->pin_next = cl->long_data_pin = cl->cursor_open = false;
        cl->status = MX_STATUS_AUTOCOMMIT;
        sv = NULL;
    }
    if (sv && !mx__must_keep_server(cl)) {
        mx__unlink_server(cl, false);
    } else if (sv && !sv->conn.reading) {
        mx_conn_read_start(&sv->conn);
    }
    if (cl->conn.w->stopping) {
        mx__client_close(cl, "shutting down");
        return;
    }
    mx__client_work(cl);
}

void mx_client_server_lost(mx_client_t *cl, mx_server_t *sv, const char *why)
{
    const mx_host_t *h = sv->pool->host;
    bool in_trans = (cl->status & MX_STATUS_IN_TRANS) || !(cl->status & MX_STATUS_AUTOCOMMIT);
    mx_cl_state_t old = cl->state;
    cl->server = NULL;
    cl->long_data_pin = false; /* statements are re-prepared where they run next */
    cl->cursor_open = false;
    cl->sticky = false;
    cl->pin_next = false;
    cl->trx_chars = false;
    cl->status = MX_STATUS_AUTOCOMMIT;
    if (mx__find_var(&cl->st, "autocommit") && strcasecmp(mx__find_var(&cl->st, "autocommit"), "OFF") == 0)
        cl->status = 0;
    CL_LOG(cl, MX_LOG_WARNING, "backend S-%u %s %s lost (%s)%s", sv->id, h->name, h->address, why,
           in_trans ? "; its transaction is rolled back" : "");
    if (old == CL_ACTIVE || old == CL_REPLAY) {
        if (cl->skip_left || cl->fwd_left || cl->fwd_cont) {
            mx__client_close(cl, "backend lost mid-packet");
            return;
        }
        if (old == CL_REPLAY && cl->learning) {
            /* The statement was answered; only manx's own question was lost. */
            cl->learning = false;
            mx__client_set_state(cl, CL_IDLE);
            mx__client_work(cl);
            return;
        }
        if (old == CL_REPLAY)
            mx__drop_command(cl);
        mx__client_set_state(cl, CL_IDLE);
        if (mx__send_err(cl, old == CL_REPLAY ? 1 : cl->next_seq, MX_ER_BACKEND_LOST, "70100",
                     "Lost connection to backend %s (%s) during query%s", h->name, h->address,
                     in_trans ? "; the transaction was rolled back" : ""))
            mx__client_work(cl);
        return;
    }
    if (old == CL_INFILE) {
        mx__client_close(cl, "backend lost during LOAD DATA");
        return;
    }
}
