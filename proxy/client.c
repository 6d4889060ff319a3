/* Client sessions: the server side of the MySQL protocol.  A session logs
 * in against manx's own users, answers what it can locally (ping, USE,
 * COM_SET_OPTION, reset, change user) and forwards everything else to a
 * backend taken from the pool, replaying its state (schema, character set,
 * session variables, LAST_INSERT_ID, multi-statement option) when the
 * backend last served someone else.  Responses stream from the backend's
 * buffer to the client packet by packet; only OK packets may be rewritten. */
#include "client.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "conn.h"
#include "list.h"
#include "lockout.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "protocol/auth.h"
#include "registry.h"
#include "router/classify.h"
#include "router/policy.h"
#include "router/route.h"
#include "router/sql.h"
#include "router/lex.h"
#include "server.h"
#include "stmt.h"
#include "worker.h"

#define CL_LOG(cl, lvl, fmt, ...)                                                        \
    mx_log(lvl, "C-%u %s@%s db=%s: " fmt, (cl)->id, (cl)->user_name[0] ? (cl)->user_name : "-", \
           (cl)->peer, (cl)->schema ? (cl)->schema->name : "", ##__VA_ARGS__)
#define CL_DEBUG(cl, fmt, ...) \
    do { if (mx_log_level >= MX_LOG_DEBUG) CL_LOG(cl, MX_LOG_DEBUG, fmt, ##__VA_ARGS__); } while (0)

#define MX_DEFAULT_COLLATION 45
#define NATIVE_PLUGIN "mysql_native_password"
#define SHA2_PLUGIN "caching_sha2_password"

/* Auth exchange steps while CL_AUTH_MORE. */
enum { AUTH_SWITCHED, AUTH_SHA2_FULL, AUTH_SHA2_PUBKEY };

/* Bits of cl->qflags beyond the classifier's MX_SQLF_*. */
#define MX_QF_AMBIGUOUS (UINT64_C(1) << 63) /* manx could not read the text for sure */

/* cl->lex_unknown and cl->reported: the session's sql_mode / client
 * character set was changed in a way session tracking did not report
 * (MariaDB 10.11 does not report SET @@var = ... without a scope). */
#define LEX_SQL_MODE 0x1
#define LEX_CHARSET  0x2
#define RPT_CS_CONNECTION 0x4  /* cl->reported: character_set_connection */
#define RPT_COLLATION     0x8  /* cl->reported: collation_connection */

/* What cl->timer measures (cl->timer_kind). */
enum { CT_NONE, CT_LOGIN, CT_POOL, CT_IDLE, CT_READ };

/* Replay steps, in order. */
enum { RP_GTID, RP_DB, RP_SET, RP_LID, RP_OPTION, RP_CLOSE, RP_PREPARE, RP_END };

static const uint32_t server_caps =
    MX_CLIENT_LONG_PASSWORD | MX_CLIENT_FOUND_ROWS | MX_CLIENT_LONG_FLAG |
    MX_CLIENT_CONNECT_WITH_DB | MX_CLIENT_LOCAL_FILES | MX_CLIENT_IGNORE_SPACE |
    MX_CLIENT_PROTOCOL_41 | MX_CLIENT_INTERACTIVE | MX_CLIENT_TRANSACTIONS |
    MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_MULTI_STATEMENTS | MX_CLIENT_MULTI_RESULTS |
    MX_CLIENT_PS_MULTI_RESULTS | MX_CLIENT_PLUGIN_AUTH | MX_CLIENT_CONNECT_ATTRS |
    MX_CLIENT_PLUGIN_AUTH_LENENC | MX_CLIENT_SESSION_TRACK;

static void client_work(mx_client_t *cl);
static void client_close(mx_client_t *cl, const char *why);
static bool handle_kill(mx_client_t *cl, uint64_t id, bool query_only);
static void forward_command(mx_client_t *cl);
static void replay_next(mx_client_t *cl);
static void learned_collation(mx_client_t *cl, bool ok);
static void reset_session(mx_client_t *cl);

uint8_t mx_client_flavor(const mx_client_t *cl)
{
    return ((cl->caps & MX_CLIENT_FOUND_ROWS) ? MX_FLAVOR_FOUND_ROWS : 0) |
           ((cl->caps & MX_CLIENT_IGNORE_SPACE) ? MX_FLAVOR_IGNORE_SPACE : 0) |
           (cl->user && cl->user->readonly ? MX_FLAVOR_READ_ONLY : 0) |
           (cl->st.db[0] ? 0 : MX_FLAVOR_NODB) |
           ((cl->ext_caps & MX_MARIADB_EXTENDED_TYPE_INFO) ? MX_FLAVOR_EXT_TYPES : 0);
}

/* ---- output helpers -------------------------------------------------------- */

static bool send_pkt(mx_client_t *cl, mx_pktbuf_t *b)
{
    if (!mx_conn_write_pkt(&cl->conn, b)) {
        client_close(cl, "write failed");
        return false;
    }
    return true;
}

static bool send_err(mx_client_t *cl, uint8_t seq, uint16_t code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool send_err(mx_client_t *cl, uint8_t seq, uint16_t code, const char *state, const char *fmt, ...)
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
    mx_stats_error(&cl->conn.w->stats, code, MX_ERR_FROM_MANX);
    return send_pkt(cl, &b);
}

/* A text result set built by manx: `ncols` string columns, `nrows` rows
 * of `vals` (row-major, NULL = SQL NULL).  Sequence ids start at 1. */
static bool send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
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
    bool ok = send_pkt(cl, &b);
    mx_pktbuf_free(&b);
    return ok;
}

bool mx_client_send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
                              size_t nrows)
{
    return send_resultset(cl, cols, ncols, vals, nrows);
}

static bool send_ok(mx_client_t *cl, uint8_t seq);

bool mx_client_send_ok(mx_client_t *cl)
{
    return send_ok(cl, 1);
}

bool mx_client_send_error(mx_client_t *cl, uint16_t code, const char *state, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return send_err(cl, 1, code, state, "%s", msg);
}

static bool send_ok(mx_client_t *cl, uint8_t seq)
{
    uint8_t mem[64];
    mx_pktbuf_t b;
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    mx_pkt_ok(&b, seq, cl->caps & ~MX_CLIENT_SESSION_TRACK, 0, 0, cl->status, 0, NULL);
    return send_pkt(cl, &b);
}

/* ---- reading commands ----------------------------------------------------------
 * The command in hand starts at conn.rpos (its header is there), unless it
 * was assembled in cl->big.  Whoever is done with it - answered, refused,
 * gave up on it - calls drop_command(), the one way to consume a command:
 * it takes what has arrived and remembers how much more to discard
 * (in_skip, in_skip_cont), so the read position only ever moves over bytes
 * that are there, whatever size the client announced.  COM_QUERY and
 * COM_STMT_PREPARE are always looked at whole: one too big for the read
 * buffer is assembled in cl->big, bounded by max_packet. */

/* The payload of the command in hand: `len` its length (of the first
 * packet when it goes on past 0xFFFFFF and is streamed), `have` the bytes
 * of it at hand. */
static const uint8_t *cmd_payload(const mx_client_t *cl, uint32_t *len, uint32_t *have)
{
    if (cl->big_ready) {
        *len = *have = (uint32_t)(cl->big.len - cl->big_off);
        return cl->big.data + cl->big_off;
    }
    const mx_conn_t *c = &cl->conn;
    const uint8_t *h = c->buf + c->rpos;
    *len = mx_pkt_len(h);
    uint32_t avail = mx_conn_avail(c) - MX_PKT_HDR;
    *have = avail < *len ? avail : *len;
    return h + MX_PKT_HDR;
}

static bool bytes_put(mx_bytes_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

/* Empty it; a big one gives its memory back at once, so sessions stay small. */
static void bytes_clear(mx_bytes_t *b)
{
    b->len = 0;
    if (b->cap > MX_BUF_SIZE) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
}

static void big_release(mx_client_t *cl)
{
    cl->big_ready = cl->big_filling = false;
    cl->big_off = 0;
    bytes_clear(&cl->big);
}

/* Done with the command in hand: consume it, whole or not. */
static void drop_command(mx_client_t *cl)
{
    if (cl->big_ready) {
        big_release(cl);
        return;
    }
    mx_conn_t *c = &cl->conn;
    if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
        return; /* nothing in hand (already consumed) */
    uint32_t len = mx_pkt_len(c->buf + c->rpos);
    uint64_t total = (uint64_t)len + MX_PKT_HDR;
    uint32_t take = mx_conn_avail(c) < total ? mx_conn_avail(c) : (uint32_t)total;
    c->rpos += take;
    cl->in_skip = total - take;
    cl->in_skip_cont = len == MX_PKT_MAX;
}

/* Discard what remains of a dropped command.  Returns true when it is all
 * gone and the next command can be looked at. */
static bool discard_input(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    while (cl->in_skip || cl->in_skip_cont) {
        if (cl->in_skip == 0) {
            /* The dropped packet was 0xFFFFFF long: the next one is part of it. */
            if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
                return false;
            uint32_t len = mx_pkt_len(c->buf + c->rpos);
            cl->in_skip = (uint64_t)len + MX_PKT_HDR;
            cl->in_skip_cont = len == MX_PKT_MAX;
        }
        if (!c->buf || mx_conn_avail(c) == 0)
            return false;
        uint32_t take = mx_conn_avail(c) < cl->in_skip ? mx_conn_avail(c) : (uint32_t)cl->in_skip;
        c->rpos += take;
        cl->in_skip -= take;
    }
    return true;
}

/* Copy the command at rpos into cl->big as it arrives, following
 * continuation packets.  Returns 1 when it is whole, 0 when more must
 * arrive, -1 when it exceeds max_packet (the client was closed). */
static int assemble(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    for (;;) {
        if (cl->big_left == 0) {
            if (cl->big_filling && !cl->big_cont) {
                cl->big_filling = false;
                cl->big_ready = true;
                return 1;
            }
            if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
                return 0;
            const uint8_t *h = c->buf + c->rpos;
            uint32_t len = mx_pkt_len(h);
            if (cl->big.len + len > cl->cfg->max_packet) {
                send_err(cl, 1, MX_ER_NET_PACKET_TOO_LARGE, "08S01",
                         "Got a packet bigger than 'max_allowed_packet' bytes");
                client_close(cl, "packet too large");
                return -1;
            }
            c->rpos += MX_PKT_HDR;
            cl->big_filling = true;
            cl->big_left = len;
            cl->big_cont = len == MX_PKT_MAX;
            continue;
        }
        if (!c->buf || mx_conn_avail(c) == 0)
            return 0;
        uint32_t take = mx_conn_avail(c) < cl->big_left ? mx_conn_avail(c) : cl->big_left;
        if (!bytes_put(&cl->big, c->buf + c->rpos, take)) {
            client_close(cl, "out of memory");
            return -1;
        }
        c->rpos += take;
        cl->big_left -= take;
    }
}

/* Write `len` payload bytes to the backend as one command (packets of at
 * most 0xFFFFFF bytes, sequence ids from 0), without copying them unless
 * the socket cannot take them now. */
static bool send_payload(mx_conn_t *to, const uint8_t *p, size_t len)
{
    enum { MAXP = 80 };            /* 80 x 16 MB covers max_packet's 1 GB */
    uint8_t hdr[MAXP][MX_PKT_HDR];
    uv_buf_t ub[2 * MAXP];
    unsigned n = 0;
    size_t off = 0;
    for (uint8_t seq = 0;; seq++) {
        size_t chunk = len - off < MX_PKT_MAX ? len - off : MX_PKT_MAX;
        if (seq >= MAXP)
            return false;
        mx_wr_u24(hdr[seq], (uint32_t)chunk);
        hdr[seq][3] = seq;
        ub[n++] = uv_buf_init((char *)hdr[seq], MX_PKT_HDR);
        if (chunk)
            ub[n++] = uv_buf_init((char *)p + off, (unsigned)chunk);
        off += chunk;
        if (chunk < MX_PKT_MAX)
            break;
    }
    return mx_conn_write(to, ub, n);
}

/* ---- lifetime -------------------------------------------------------------- */

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
static bool must_keep_server(const mx_client_t *cl)
{
    mx_route_pins_t p;
    route_pins(cl, &p);
    return mx_route_keeps_backend(&p);
}

static void unlink_server(mx_client_t *cl, bool dirty)
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

static void client_close(mx_client_t *cl, const char *why)
{
    if (cl->state == CL_CLOSED)
        return;
    CL_DEBUG(cl, "closing: %s", why);
    mx_cl_state_t old = cl->state;
    cl->state = CL_CLOSED;
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
            unlink_server(cl, must_keep_server(cl));
        }
    }
    mx_conn_close(&cl->conn, on_close_conn);
}

/* ---- accept and login ------------------------------------------------------- */

static void on_login_timeout(uv_timer_t *t)
{
    mx_client_t *cl = t->data;
    if (cl->state == CL_LOGIN || cl->state == CL_TLS || cl->state == CL_AUTH_MORE)
        client_close(cl, "login timed out");
}

/* The collation the backends greet with (the server's default character
 * set), so that a client that takes the server's default gets the same
 * through manx; utf8mb4_general_ci until a backend has greeted. */
static uint8_t greeting_collation(void)
{
    uint8_t c = atomic_load(&mx_proc.backend_collation);
    return c ? c : MX_DEFAULT_COLLATION;
}

static const char *announced_version(const mx_config_t *cfg)
{
    if (cfg->server_version[0])
        return cfg->server_version;
    if (atomic_load(&mx_proc.version_known))
        return mx_proc.server_version;
    return "5.7.44-manx";
}

static const char *host_of(const mx_client_t *cl, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", cl->peer);
    char *colon = strrchr(buf, ':');
    if (colon)
        *colon = 0;
    return buf;
}

static void client_io(mx_conn_t *c, int ev);

void mx_client_accept(mx_worker_t *w, uv_stream_t *listener, bool admin)
{
    mx_client_t *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return;
    if (mx_conn_init(&cl->conn, w, client_io) < 0) {
        free(cl);
        return;
    }
    cl->conn.bytes = admin ? NULL : w->stats.v + MX_ST_CLIENT_BYTES;
    cl->cfg = w->cfg;
    mx_conf_ref(cl->cfg);
    uv_timer_init(&w->loop, &cl->timer);
    cl->timer.data = cl;
    mx_list_init(&cl->wait_link);
    mx_list_append(&w->clients, &cl->link);
    w->n_clients++;
    /* Console sessions have slots of their own, so an operator gets in when
     * max_connections is reached. */
    int total = atomic_fetch_add(admin ? &mx_proc.n_admin : &mx_proc.n_clients, 1) + 1;
    int limit = admin ? MX_ADMIN_MAX_SESSIONS : cl->cfg->max_connections;
    cl->id = atomic_fetch_add(&mx_proc.next_client_id, 1) + 1;
    cl->admin = admin;
    mx_registry_add(cl);
    cl->gtid_ok_host = -1;
    cl->state = CL_LOGIN;
    cl->status = MX_STATUS_AUTOCOMMIT;
    if (uv_accept(listener, (uv_stream_t *)&cl->conn.tcp) < 0) {
        client_close(cl, "accept failed");
        return;
    }
    uv_tcp_nodelay(&cl->conn.tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    strcpy(cl->peer, "?");
    if (uv_tcp_getpeername(&cl->conn.tcp, (struct sockaddr *)&ss, &sl) == 0) {
        char ip[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, ip, sizeof(ip));
            port = ntohs(a->sin6_port);
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, ip, sizeof(ip));
            port = ntohs(a->sin_port);
        }
        snprintf(cl->peer, sizeof(cl->peer), "%s:%d", ip, port);
    }
    char ip[64];
    uint64_t left;
    if (mx_lockout_blocked(cl->cfg, host_of(cl, ip, sizeof(ip)), &left)) {
        send_err(cl, 0, 1129, "HY000", "Host '%s' is blocked for %llu more seconds after %d failed logins "
                 "(manx max_login_failures)", ip, (unsigned long long)(left + 999) / 1000,
                 cl->cfg->max_login_failures);
        client_close(cl, "address locked out");
        return;
    }
    if (w->stopping || total > limit) {
        send_err(cl, 0, MX_ER_CON_COUNT, "08004", "Too many connections");
        client_close(cl, "too many connections");
        return;
    }
    if (!mx_auth_random_scramble(cl->scramble, MX_SCRAMBLE_LEN)) {
        client_close(cl, "no randomness for the scramble");
        return;
    }
    uint32_t caps = server_caps | (mx_proc.server_tls ? MX_CLIENT_SSL : 0);
    /* MariaDB's extended capabilities go out as a MariaDB server sends
     * them: without CLIENT_MYSQL (server.c decides which). */
    cl->ext_caps = mx_server_offer_ext_caps();
    if (cl->ext_caps)
        caps &= ~MX_CLIENT_LONG_PASSWORD;
    mx_pktbuf_t b;
    uint8_t mem[256];
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    mx_pkt_handshake(&b, announced_version(cl->cfg), cl->id, cl->scramble, caps, cl->ext_caps, greeting_collation(),
                     MX_STATUS_AUTOCOMMIT, NATIVE_PLUGIN);
    if (!send_pkt(cl, &b))
        return;
    cl->timer_kind = CT_LOGIN;
    uv_timer_start(&cl->timer, on_login_timeout, (uint64_t)cl->cfg->connect_timeout_ms * 2, 0);
    if (mx_conn_read_start(&cl->conn) < 0)
        client_close(cl, "read start failed");
}

/* A COM_CHANGE_USER that failed leaves the session as it was, logged in as
 * the previous user (MariaDB does the same), so the client may retry. */
static void change_user_failed(mx_client_t *cl)
{
    cl->cu.active = false;
    cl->user = cl->cu.user;
    memcpy(cl->user_name, cl->cu.user_name, sizeof(cl->user_name));
    cl->schema = cl->cu.schema;
    memcpy(cl->st.db, cl->cu.db, sizeof(cl->st.db));
    uv_timer_stop(&cl->timer);
    cl->timer_kind = CT_NONE;
    cl->state = CL_IDLE;
}

static void deny_login(mx_client_t *cl, uint8_t seq, bool used_password)
{
    char host[64];
    CL_LOG(cl, MX_LOG_WARNING, "login refused: wrong user or password");
    uint64_t locked = mx_lockout_failed(cl->cfg, host_of(cl, host, sizeof(host)));
    if (locked)
        CL_LOG(cl, MX_LOG_WARNING, "address %s locked out for %llu ms after %d failed logins in a row", host,
               (unsigned long long)locked, cl->cfg->max_login_failures);
    send_err(cl, seq, MX_ER_ACCESS_DENIED, "28000", "Access denied for user '%s'@'%s' (using password: %s)",
             cl->user_name, host_of(cl, host, sizeof(host)), used_password ? "YES" : "NO");
    if (cl->cu.active) {
        change_user_failed(cl);
        return;
    }
    client_close(cl, "access denied");
}

/* Select the logical schema `name` for the session.  Sends the error and
 * returns false when it does not exist or the user may not see it. */
static bool select_schema(mx_client_t *cl, const char *name, size_t len, uint8_t seq)
{
    const mx_schema_t *s = mx_conf_find_schema(cl->cfg, name, len);
    if (!s && cl->user && cl->user->strict_schemas) {
        /* Whether another database exists is not this user's business. */
        send_err(cl, seq, MX_ER_DBACCESS_DENIED, "42000", "Access denied for user '%s'@'%%' to database '%.*s'",
                 cl->user_name, (int)len, name);
        return false;
    }
    if (!s) {
        send_err(cl, seq, MX_ER_BAD_DB, "42000", "Unknown database '%.*s'", (int)len, name);
        return false;
    }
    if (!mx_conf_user_may_use(cl->user, s)) {
        send_err(cl, seq, MX_ER_DBACCESS_DENIED, "42000", "Access denied for user '%s'@'%%' to database '%.*s'",
                 cl->user_name, (int)len, name);
        return false;
    }
    cl->schema = s;
    snprintf(cl->st.db, sizeof(cl->st.db), "%s", s->datanode->database);
    cl->st_version++;
    return true;
}

/* The user's schemas whose database has another name: what the client
 * must see renamed in results (protocol/schemamap.h).  False when out of
 * memory. */
static bool build_smap(mx_client_t *cl)
{
    const mx_user_t *u = cl->user;
    size_t n = 0;
    for (size_t i = 0; !cl->admin && i < u->n_schemas; i++)
        if (strcmp(u->schemas[i]->name, u->schemas[i]->datanode->database) != 0)
            n++;
    free(cl->smap);
    cl->smap = NULL;
    cl->n_smap = 0;
    if (n == 0)
        return true;
    cl->smap = calloc(n, sizeof(*cl->smap));
    if (!cl->smap_rs)
        cl->smap_rs = calloc(1, sizeof(*cl->smap_rs));
    if (!cl->smap || !cl->smap_rs)
        return false;
    for (size_t i = 0; i < u->n_schemas; i++) {
        const mx_schema_t *s = u->schemas[i];
        if (strcmp(s->name, s->datanode->database) != 0)
            cl->smap[cl->n_smap++] = (mx_smap_pair_t){.real = s->datanode->database, .logical = s->name};
    }
    mx_smap_rs_begin(cl->smap_rs);
    return true;
}

/* Login succeeded as far as the password goes: choose the schema, reset
 * the session and say OK. */
static void finish_login(mx_client_t *cl, uint8_t seq, const mx_str_t *db)
{
    uv_timer_stop(&cl->timer);
    cl->timer_kind = CT_NONE;
    if (cl->cu.active) {
        /* COM_CHANGE_USER succeeded: the session starts over as the new
         * user, with the character set it asked for. */
        const mx_schema_t *keep_schema = cl->schema;
        char keep_db[sizeof(cl->st.db)];
        memcpy(keep_db, cl->st.db, sizeof(keep_db));
        reset_session(cl);
        mx_sstate_clear(&cl->st);
        if (cl->cu.charset)
            cl->st.collation = cl->cu.charset;
        cl->st_version++;
        cl->schema = keep_schema;
        memcpy(cl->st.db, keep_db, sizeof(keep_db));
    }
    cl->state = CL_IDLE;
    cl->schema = NULL;
    cl->st.db[0] = 0;
    if (db->len && !select_schema(cl, (const char *)db->p, db->len, seq)) {
        if (cl->cu.active) {
            change_user_failed(cl);
            return;
        }
        client_close(cl, "bad database at login");
        return;
    }
    cl->cu.active = false;
    if (!build_smap(cl)) {
        client_close(cl, "out of memory");
        return;
    }
    mx_registry_set_user(cl);
    if (cl->cfg->max_login_failures > 0) {
        char host[64];
        mx_lockout_succeeded(host_of(cl, host, sizeof(host)));
    }
    if (!cl->admin)
        cl->acct = cl->user->acct;
    CL_DEBUG(cl, "logged in%s", cl->tls ? " over TLS" : "");
    send_ok(cl, seq);
}

static void auth_switch(mx_client_t *cl, uint8_t seq, const char *plugin)
{
    uint8_t mem[128];
    mx_pktbuf_t b;
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    uint8_t data[MX_SCRAMBLE_LEN + 1];
    memcpy(data, cl->scramble, MX_SCRAMBLE_LEN);
    data[MX_SCRAMBLE_LEN] = 0;
    mx_pkt_auth_switch(&b, seq, plugin, data, sizeof(data));
    cl->state = CL_AUTH_MORE;
    cl->auth_step = AUTH_SWITCHED;
    send_pkt(cl, &b);
}

/* Check an auth response made with the plugin the user is configured for.
 * Returns 1 ok, 3 ok after a "fast auth success" packet (the OK takes the
 * next sequence id), 0 denied, 2 when a further exchange was started. */
static int check_auth(mx_client_t *cl, const uint8_t *resp, size_t len, uint8_t seq)
{
    const mx_user_t *u = cl->user;
    if (!cl->auth_sha2)
        return mx_native_check(cl->scramble, resp, len, u->stage2, u->has_password && !u->password[0]) ? 1 : 0;
    if (!u->password[0])
        return len == 0 || (len == 1 && resp[0] == 0) ? 1 : 0;
    uint8_t mem[16];
    mx_pktbuf_t b;
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    /* As MySQL does, a scramble that does not match (some clients hash the
     * switch request's trailing NUL too) or a cold cache falls back to
     * full authentication rather than failing. */
    bool fast = cl->conn.w->sha2_cached[u->key] && mx_sha2_check(cl->scramble, resp, len, u->password, strlen(u->password));
    uint8_t more = fast ? 0x03 : 0x04;
    mx_pkt_auth_more(&b, seq, &more, 1);
    if (!send_pkt(cl, &b))
        return 2;
    if (more == 0x03)
        return 3;
    /* Not cached yet: like MySQL, ask for the full password once. */
    cl->state = CL_AUTH_MORE;
    cl->auth_step = AUTH_SHA2_FULL;
    return 2;
}

/* Start authentication of `user` with the response the client sent using
 * `plugin`.  `db` is the schema it asked for. */
static void auth_start(mx_client_t *cl, uint8_t seq, const mx_str_t *user, const mx_str_t *plugin,
                       const mx_str_t *resp, const mx_str_t *db)
{
    snprintf(cl->user_name, sizeof(cl->user_name), "%.*s", (int)user->len, user->p);
    static const mx_str_t no_db = { NULL, 0 };
    if (cl->admin) {
        /* The console knows only [admin]; an empty password locks it. */
        const mx_user_t *a = &mx_proc.admin_user;
        cl->user = a->has_password && strlen(a->name) == user->len && memcmp(a->name, user->p, user->len) == 0
                       ? a : NULL;
        db = &no_db;
    } else {
        cl->user = mx_conf_find_user(cl->cfg, (const char *)user->p, user->len);
    }
    snprintf(cl->st.db, sizeof(cl->st.db), "%.*s", (int)(db->len < MX_NAME_MAX ? db->len : MX_NAME_MAX), db->p);
    if (!cl->user) {
        deny_login(cl, seq, resp->len > 0);
        return;
    }
    bool want_sha2 = strcmp(cl->user->auth_plugin, SHA2_PLUGIN) == 0;
    bool used_sha2 = plugin->len == 21 && memcmp(plugin->p, SHA2_PLUGIN, 21) == 0;
    bool used_native = plugin->len == 0 || (plugin->len == 21 && memcmp(plugin->p, NATIVE_PLUGIN, 21) == 0);
    cl->auth_sha2 = want_sha2;
    if ((want_sha2 && !used_sha2) || (!want_sha2 && !used_native)) {
        auth_switch(cl, seq, want_sha2 ? SHA2_PLUGIN : NATIVE_PLUGIN);
        return;
    }
    int rc = check_auth(cl, resp->p, resp->len, seq);
    if (rc == 2)
        return;
    if (rc == 0) {
        deny_login(cl, seq, resp->len > 0);
        return;
    }
    mx_str_t d = { (const uint8_t *)cl->st.db, strlen(cl->st.db) };
    char dbcopy[MX_NAME_MAX + 1];
    memcpy(dbcopy, cl->st.db, sizeof(dbcopy));
    d.p = (const uint8_t *)dbcopy;
    finish_login(cl, (uint8_t)(seq + (rc == 3 ? 1 : 0)), &d);
}

/* The client's further auth packets (after a switch or during full
 * caching_sha2 authentication). */
static void auth_more(mx_client_t *cl, const uint8_t *p, uint32_t len, uint8_t seq)
{
    char dbcopy[MX_NAME_MAX + 1];
    memcpy(dbcopy, cl->st.db, sizeof(dbcopy));
    mx_str_t d = { (const uint8_t *)dbcopy, strlen(dbcopy) };
    const mx_user_t *u = cl->user;
    switch (cl->auth_step) {
    case AUTH_SWITCHED: {
        int rc = check_auth(cl, p, len, (uint8_t)(seq + 1));
        if (rc == 2)
            return;
        if (rc == 0) {
            deny_login(cl, (uint8_t)(seq + 1), len > 0);
            return;
        }
        finish_login(cl, (uint8_t)(seq + (rc == 3 ? 2 : 1)), &d);
        return;
    }
    case AUTH_SHA2_FULL:
        if (len == 1 && p[0] == 0x02) {
            if (!mx_proc.rsa_pub_pem) {
                deny_login(cl, (uint8_t)(seq + 1), true);
                return;
            }
            uint8_t mem[2048];
            mx_pktbuf_t b;
            mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
            mx_pkt_auth_more(&b, (uint8_t)(seq + 1), (const uint8_t *)mx_proc.rsa_pub_pem,
                             mx_proc.rsa_pub_pem_len);
            cl->auth_step = AUTH_SHA2_PUBKEY;
            send_pkt(cl, &b);
            return;
        }
        if (!cl->tls) {
            /* A clear-text password over plain TCP is refused, as MySQL does. */
            deny_login(cl, (uint8_t)(seq + 1), true);
            return;
        }
        if (len == 0 || p[len - 1] != 0 || strlen(u->password) != len - 1 ||
            memcmp(p, u->password, len - 1) != 0) {
            deny_login(cl, (uint8_t)(seq + 1), true);
            return;
        }
        break;
    case AUTH_SHA2_PUBKEY: {
        char pw[256];
        int n = mx_sha2_rsa_decrypt(mx_proc.rsa_key, p, len, cl->scramble, MX_SCRAMBLE_LEN, pw, sizeof(pw));
        if (n < 0 || (size_t)n != strlen(u->password) || memcmp(pw, u->password, (size_t)n) != 0) {
            deny_login(cl, (uint8_t)(seq + 1), true);
            return;
        }
        break;
    }
    default:
        abort();
    }
    cl->conn.w->sha2_cached[u->key] = true;
    finish_login(cl, (uint8_t)(seq + 1), &d);
}

static void handle_login(mx_client_t *cl, const uint8_t *p, uint32_t len, uint8_t seq)
{
    mx_hsresp_t hr;
    if (mx_parse_hsresp(p, len, &hr) < 0) {
        send_err(cl, (uint8_t)(seq + 1), MX_ER_HANDSHAKE, "08S01", "Bad handshake");
        client_close(cl, "malformed handshake response");
        return;
    }
    if (hr.is_ssl_request) {
        if (!mx_proc.server_tls || cl->tls) {
            client_close(cl, "unexpected SSL request");
            return;
        }
        cl->tls = true;
        cl->state = CL_TLS;
        if (!mx_conn_tls_start(&cl->conn, mx_proc.server_tls, true, NULL))
            client_close(cl, "TLS start failed");
        return;
    }
    cl->caps = hr.caps & (server_caps | MX_CLIENT_SSL);
    cl->ext_caps &= hr.ext_caps;
    if (!(cl->caps & MX_CLIENT_PROTOCOL_41)) {
        send_err(cl, (uint8_t)(seq + 1), MX_ER_HANDSHAKE, "08S01", "Bad handshake");
        client_close(cl, "client does not speak protocol 4.1");
        return;
    }
    if (cl->cfg->require_secure_transport && !cl->tls) {
        snprintf(cl->user_name, sizeof(cl->user_name), "%.*s", (int)hr.user.len, hr.user.p);
        send_err(cl, (uint8_t)(seq + 1), MX_ER_SECURE_TRANSPORT, "HY000",
                 "Connections using insecure transport are prohibited while --require_secure_transport=ON.");
        client_close(cl, "insecure transport");
        return;
    }
    cl->st.collation = hr.charset ? hr.charset : greeting_collation();
    cl->st.multi_stmt = (cl->caps & MX_CLIENT_MULTI_STATEMENTS) != 0;
    cl->rewrite_ok = !(cl->caps & MX_CLIENT_SESSION_TRACK);
    mx_str_t db = hr.db;
    if (!(cl->caps & MX_CLIENT_CONNECT_WITH_DB))
        db.len = 0;
    auth_start(cl, (uint8_t)(seq + 1), &hr.user, &hr.plugin, &hr.auth, &db);
}

/* ---- choosing the backend ---------------------------------------------------- */

static const mx_schema_t *effective_schema(const mx_client_t *cl)
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
static const mx_datahost_t *route_input(const mx_client_t *cl, const mx_sql_info_t *info, bool db_refused,
                                        const char *denied, mx_route_in_t *in)
{
    const mx_schema_t *s = effective_schema(cl);
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
static bool send_refusal(mx_client_t *cl, const mx_decision_t *d)
{
    if (d->log_level != MX_DECIDE_LOG_NONE && mx_log_level >= d->log_level)
        CL_LOG(cl, d->log_level, "%s", d->log);
    drop_command(cl);
    return send_err(cl, 1, d->code, d->sqlstate, "%s", d->msg);
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
    drop_command(cl);
    cl->state = CL_IDLE;
    if (send_err(cl, 1, MX_ER_CON_COUNT, "08004",
                 "manx: no free backend connection to %s (%s) within %d ms: pool full (max_con %d)",
                 p->host->name, p->host->address, cl->cfg->pool_wait_timeout_ms, p->max))
        client_work(cl);
}

void mx_client_pool_failed(mx_client_t *cl, mx_pool_t *p, const char *reason)
{
    if (cl->state != CL_WAIT_POOL)
        return;
    uv_timer_stop(&cl->timer);
    drop_command(cl);
    cl->state = CL_IDLE;
    if (send_err(cl, 1, MX_ER_PROXY_BACKEND, "HY000", "manx: can't connect to backend %s (%s): %s",
                 p->host->name, p->host->address, reason))
        client_work(cl);
}

void mx_client_got_server(mx_client_t *cl, mx_server_t *sv)
{
    uv_timer_stop(&cl->timer);
    cl->server = sv;
    sv->client = cl;
    cl->state = CL_REPLAY;
    cl->replay_step = RP_GTID;
    if (sv->synced_id == cl->id && sv->synced_version == cl->st_version && !cl->need_gtid_wait && !sv->n_close &&
        (sv->st.last_insert_id == cl->st.last_insert_id || !(cl->qflags & MX_SQLF_LAST_INSERT_ID)) &&
        (!cl->cur_stmt || mx_sstmt_find(sv, cl->cur_stmt))) {
        forward_command(cl);
        return;
    }
    replay_next(cl);
}

/* ---- state replay ------------------------------------------------------------ */

static bool is_number(const char *v)
{
    const char *p = v;
    if (*p == '-')
        p++;
    if (!*p)
        return false;
    bool dot = false;
    for (; *p; p++) {
        if (*p == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            return false;
    }
    return true;
}

/* A variable's value as SQL that reads the same under every sql_mode and
 * character set: a number as is, a plain string quoted, anything with a
 * quote or a backslash as a hex literal. */
static void put_value(mx_pktbuf_t *b, const char *v)
{
    if (is_number(v)) {
        mx_put_bytes(b, v, strlen(v));
        return;
    }
    if (!strpbrk(v, "'\\\"")) {
        mx_put_u8(b, '\'');
        mx_put_bytes(b, v, strlen(v));
        mx_put_u8(b, '\'');
        return;
    }
    static const char hex[] = "0123456789ABCDEF";
    mx_put_bytes(b, "X'", 2);
    for (const char *p = v; *p; p++) {
        mx_put_u8(b, (uint8_t)hex[(uint8_t)*p >> 4]);
        mx_put_u8(b, (uint8_t)hex[(uint8_t)*p & 15]);
    }
    mx_put_u8(b, '\'');
}

static bool is_cs_var(const char *name)
{
    for (int i = 0; i < MX_CS_VARS; i++)
        if (strcmp(name, mx_sstate_cs_name(i)) == 0)
            return true;
    return false;
}

static const char *find_var(const mx_sstate_t *st, const char *name)
{
    for (uint32_t i = 0; i < st->n_vars; i++)
        if (strcmp(st->vars[i].name, name) == 0)
            return st->vars[i].value;
    return NULL;
}

/* The character set variables, when one differs: a session starts as its
 * own handshake said, whatever the backend's last session did.  SET NAMES
 * with the connection's charset and collation first: MariaDB keeps the
 * collation it names for the client side too (prepared statement
 * parameters compare with it), which SET collation_connection alone does
 * not do; then the client and results charsets where they differ. */
static bool put_charsets(mx_pktbuf_t *b, const mx_sstate_t *want, const mx_sstate_t *have)
{
    int i;
    for (i = 0; i < MX_CS_VARS; i++)
        if (strcmp(mx_sstate_cs(want, i), mx_sstate_cs(have, i)) != 0)
            break;
    if (i == MX_CS_VARS)
        return false;
    const char *conn = mx_sstate_cs(want, MX_CS_CONNECTION), *client = mx_sstate_cs(want, MX_CS_CLIENT);
    const char *coll = mx_sstate_cs(want, MX_CS_COLLATION), *results = mx_sstate_cs(want, MX_CS_RESULTS);
    mx_put_bytes(b, "NAMES ", 6);
    put_value(b, conn);
    mx_put_bytes(b, " COLLATE ", 9);
    put_value(b, coll);
    if (strcmp(client, conn) != 0) {
        mx_put_bytes(b, ",@@SESSION.character_set_client=", 32);
        put_value(b, client);
    }
    if (strcmp(results, conn) != 0) {
        mx_put_bytes(b, ",@@SESSION.character_set_results=", 33);
        if (!results[0] || strcasecmp(results, "NULL") == 0)
            mx_put_bytes(b, "NULL", 4); /* results sent as stored */
        else
            put_value(b, results);
    }
    return true;
}

/* @`name`, the backtick doubled inside: a name is never read as SQL. */
static void put_uservar_name(mx_pktbuf_t *b, const char *name)
{
    mx_put_bytes(b, "@`", 2);
    for (const char *c = name; *c; c++) {
        if (*c == '`')
            mx_put_u8(b, '`');
        mx_put_u8(b, (uint8_t)*c);
    }
    mx_put_u8(b, '`');
}

/* Build "SET ..." bringing the backend's variables to the session's.
 * Returns false when nothing differs. */
static bool build_set(mx_client_t *cl, mx_server_t *sv)
{
    mx_pktbuf_t *b = &sv->out;
    bool any = false;
    mx_pkt_begin(b, 0);
    mx_put_u8(b, MX_COM_QUERY);
    mx_put_bytes(b, "SET ", 4);
    any = put_charsets(b, &cl->st, &sv->st);
    for (uint32_t i = 0; i < cl->st.n_vars; i++) {
        const mx_var_t *v = &cl->st.vars[i];
        const char *cur = find_var(&sv->st, v->name);
        if ((cur && strcmp(cur, v->value) == 0) || is_cs_var(v->name))
            continue;
        if (any)
            mx_put_u8(b, ',');
        if (v->name[0] == '@') {
            /* A user variable: its literal, as the client wrote it (the
             * classifier reports only literals that read the same in every
             * sql_mode and character set). */
            put_uservar_name(b, v->name + 1);
            mx_put_u8(b, '=');
            mx_put_bytes(b, v->value, strlen(v->value));
        } else {
            mx_put_bytes(b, "@@SESSION.", 10);
            mx_put_bytes(b, v->name, strlen(v->name));
            mx_put_u8(b, '=');
            put_value(b, v->value);
        }
        any = true;
    }
    for (uint32_t i = 0; i < sv->st.n_vars; i++) {
        const mx_var_t *v = &sv->st.vars[i];
        if (find_var(&cl->st, v->name) || is_cs_var(v->name))
            continue;
        if (any)
            mx_put_u8(b, ',');
        if (v->name[0] == '@') {
            put_uservar_name(b, v->name + 1);
            mx_put_bytes(b, "=NULL", 5);
        } else {
            mx_put_bytes(b, "@@SESSION.", 10);
            mx_put_bytes(b, v->name, strlen(v->name));
            mx_put_bytes(b, "=DEFAULT", 8);
        }
        any = true;
    }
    mx_pkt_end(b);
    if (!any)
        mx_pktbuf_reset(b);
    return any;
}

/* One command packet (sequence 0) into b. */
static void put_command(mx_pktbuf_t *b, uint8_t cmd, const void *arg, size_t len)
{
    mx_pkt_begin(b, 0);
    mx_put_u8(b, cmd);
    mx_put_bytes(b, arg, len);
    mx_pkt_end(b);
}

/* The backend now holds the session's state (but for a LAST_INSERT_ID()
 * nobody asked about).  False when the session was closed. */
static bool sync_server_state(mx_client_t *cl)
{
    mx_server_t *sv = cl->server;
    uint64_t lid = sv->st.last_insert_id;
    if (!mx_sstate_copy(&sv->st, &cl->st)) {
        client_close(cl, "out of memory");
        return false;
    }
    if (!(cl->qflags & MX_SQLF_LAST_INSERT_ID))
        sv->st.last_insert_id = lid;
    sv->synced_id = cl->id;
    sv->synced_version = cl->st_version;
    return true;
}

static void replay_next(mx_client_t *cl)
{
    mx_server_t *sv = cl->server;
    mx_pktbuf_t *b = &sv->out;
    for (;;) {
        switch (cl->replay_step) {
        case RP_GTID:
            cl->replay_step++;
            if (cl->need_gtid_wait) {
                char q[160];
                const mx_datahost_t *dh = sv->pool->dh;
                int n = snprintf(q, sizeof(q), "SELECT MASTER_GTID_WAIT('%s', %.3f)", cl->last_gtid,
                                 (dh ? dh->consistency_timeout_ms : 1000) / 1000.0);
                put_command(b, MX_COM_QUERY, q, (size_t)n);
                break;
            }
            continue;
        case RP_DB:
            cl->replay_step++;
            if (cl->st.db[0] && strcmp(cl->st.db, sv->st.db) != 0) {
                put_command(b, MX_COM_INIT_DB, cl->st.db, strlen(cl->st.db));
                break;
            }
            continue;
        case RP_SET:
            cl->replay_step++;
            if (build_set(cl, sv))
                break;
            continue;
        case RP_LID:
            cl->replay_step++;
            /* Only a statement that reads LAST_INSERT_ID() needs the
             * session's value on this backend: replaying it for every
             * write after a move would cost a round trip each. */
            if ((cl->qflags & MX_SQLF_LAST_INSERT_ID) && cl->st.last_insert_id != sv->st.last_insert_id) {
                char q[64];
                int n = snprintf(q, sizeof(q), "DO LAST_INSERT_ID(%llu)", (unsigned long long)cl->st.last_insert_id);
                put_command(b, MX_COM_QUERY, q, (size_t)n);
                break;
            }
            continue;
        case RP_OPTION:
            cl->replay_step++;
            if (cl->st.multi_stmt != sv->st.multi_stmt) {
                mx_pkt_begin(b, 0);
                mx_put_u8(b, MX_COM_SET_OPTION);
                mx_put_u16(b, cl->st.multi_stmt ? MX_OPTION_MULTI_STATEMENTS_ON : MX_OPTION_MULTI_STATEMENTS_OFF);
                mx_pkt_end(b);
                break;
            }
            continue;
        case RP_CLOSE:
            cl->replay_step++;
            /* Statements evicted from this backend's table: COM_STMT_CLOSE
             * has no response, so they just go ahead of the command. */
            if (sv->n_close) {
                for (uint32_t i = 0; i < sv->n_close; i++) {
                    mx_pkt_begin(b, 0);
                    mx_put_u8(b, MX_COM_STMT_CLOSE);
                    mx_put_u32(b, sv->close_ids[i]);
                    mx_pkt_end(b);
                }
                sv->n_close = 0;
                if (!mx_conn_write_pkt(&sv->conn, b)) {
                    mx_server_close(sv, "write failed");
                    return;
                }
            }
            continue;
        case RP_PREPARE:
            cl->replay_step++;
            /* The steps before brought the backend to the session's state:
             * say so now, since a prepared statement is looked up under the
             * collation it will run with. */
            if (!sync_server_state(cl))
                return;
            if (cl->cur_stmt && !mx_sstmt_find(sv, cl->cur_stmt)) {
                put_command(b, MX_COM_STMT_PREPARE, cl->cur_stmt->sql, cl->cur_stmt->sql_len);
                break;
            }
            continue;
        default:
            forward_command(cl);
            return;
        }
        CL_DEBUG(cl, "replaying state on S-%u (step %d)", sv->id, cl->replay_step - 1);
        if (!mx_server_internal(sv))
            mx_server_close(sv, "write failed");
        return;
    }
}

/* The replica did not reach the session's last write in time (or cannot
 * say): give it back and run the buffered read on the writer. */
static void gtid_fallback(mx_client_t *cl, const char *why)
{
    mx_server_t *sv = cl->server;
    CL_DEBUG(cl, "%s %s did not reach GTID %s (%s): reading from the writer", sv->pool->host->name,
             sv->pool->host->address, cl->last_gtid, why);
    cl->need_gtid_wait = false;
    cl->force_writer = true;
    cl->state = CL_IDLE;
    unlink_server(cl, false);
    client_work(cl);
}

void mx__client_internal_done(mx_client_t *cl, bool ok, const mx_err_t *err)
{
    if (cl->state != CL_REPLAY)
        return;
    if (cl->learning) {
        learned_collation(cl, ok);
        return;
    }
    if (cl->replay_step - 1 == RP_PREPARE && ok) {
        mx_server_t *sv = cl->server;
        if (!mx_sstmt_add(sv, cl->cur_stmt, sv->resp.prepare.stmt_id)) {
            client_close(cl, "out of memory");
            return;
        }
        replay_next(cl);
        return;
    }
    if (cl->replay_step - 1 == RP_GTID) {
        mx_server_t *sv = cl->server;
        if (!ok) {
            gtid_fallback(cl, "MASTER_GTID_WAIT failed");
            return;
        }
        if (sv->internal_val != 0) {
            gtid_fallback(cl, sv->internal_val == -1 ? "timed out" : "no answer");
            return;
        }
        cl->need_gtid_wait = false;
        memcpy(cl->gtid_ok, cl->last_gtid, sizeof(cl->gtid_ok));
        cl->gtid_ok_host = sv->pool->host->index;
        replay_next(cl);
        return;
    }
    if (!ok) {
        /* The session's own state does not apply: report it on the
         * command that needed it, and drop the half-replayed backend. */
        CL_LOG(cl, MX_LOG_WARNING, "state replay failed: %u %.*s", err->code, (int)err->message.len,
               err->message.p);
        drop_command(cl);
        cl->state = CL_IDLE;
        unlink_server(cl, true);
        if (send_err(cl, 1, err->code, err->sqlstate, "%.*s", (int)err->message.len, err->message.p))
            client_work(cl);
        return;
    }
    replay_next(cl);
}

/* ---- forwarding commands -------------------------------------------------------- */

/* Forward as much of the current command's bytes as are buffered. */
static bool pump_request(mx_client_t *cl)
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

static void command_done(mx_client_t *cl);

/* Read the client again unless its buffer is still half full of data that
 * waits its turn, or the backend has not taken what was sent. */
static void resume_reading(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    if (cl->state == CL_CLOSED || c->reading)
        return;
    if (cl->server && cl->server->conn.wq_bytes > 0)
        return;
    if (c->buf && mx_conn_avail(c) >= MX_BUF_SIZE / 2)
        return;
    mx_conn_read_start(c);
}

static void on_quiet_timeout(uv_timer_t *t)
{
    mx_client_t *cl = t->data;
    if (cl->timer_kind == CT_IDLE) {
        CL_LOG(cl, MX_LOG_INFO, "closing: idle for %d ms (client_idle_timeout)", cl->cfg->client_idle_timeout_ms);
        client_close(cl, "idle timeout");
    } else if (cl->timer_kind == CT_READ) {
        CL_LOG(cl, MX_LOG_WARNING, "closing: no data for %d ms in the middle of a packet (net_read_timeout)",
               cl->cfg->net_read_timeout_ms);
        client_close(cl, "read timeout");
    }
}

/* After the client's input was processed: time the silence that follows.
 * A client in the middle of a packet (or of LOCAL INFILE data) gets
 * net_read_timeout, an idle one client_idle_timeout; a session waiting for
 * its backend's answer or for the pool is not timed here. */
static void arm_timer(mx_client_t *cl)
{
    const mx_conn_t *c = &cl->conn;
    int kind = CT_NONE, ms = 0;
    if (cl->state == CL_IDLE) {
        bool partial = (c->buf && mx_conn_avail(c) > 0) || cl->in_skip || cl->in_skip_cont || cl->big_filling;
        if (partial) {
            kind = CT_READ;
            ms = cl->cfg->net_read_timeout_ms;
        } else if (cl->cfg->client_idle_timeout_ms > 0) {
            kind = CT_IDLE;
            ms = cl->cfg->client_idle_timeout_ms;
        }
    } else if ((cl->state == CL_ACTIVE && (cl->fwd_left || cl->fwd_cont)) || cl->state == CL_INFILE) {
        kind = CT_READ;
        ms = cl->cfg->net_read_timeout_ms;
    } else if (cl->timer_kind != CT_IDLE && cl->timer_kind != CT_READ) {
        return; /* login and pool waits keep their own timer */
    }
    if (kind == CT_NONE) {
        if (cl->timer_kind != CT_NONE) {
            uv_timer_stop(&cl->timer);
            cl->timer_kind = CT_NONE;
        }
        return;
    }
    cl->timer_kind = (uint8_t)kind;
    uv_timer_start(&cl->timer, on_quiet_timeout, (uint64_t)ms, 0);
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
        client_close(cl, "cannot re-send parameter types of a large bulk execute");
        return false;
    }
    uint8_t head[7];
    memcpy(head, p, 7);
    mx_wr_u16(head + 5, mx_rd_u16(p + 5) | MX_BULK_SEND_TYPES);
    cl->rewrite.len = 0;
    if (rc < 0 || !bytes_put(&cl->rewrite, head, 7) || !bytes_put(&cl->rewrite, st->types, tlen) ||
        !bytes_put(&cl->rewrite, p + 7, len - 7) || !mx_sstmt_set_types(ss, st->types)) {
        client_close(cl, "out of memory");
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
        client_close(cl, "statement not prepared on its backend");
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
                client_close(cl, "out of memory");
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
        client_close(cl, "cannot re-send parameter types of a large EXECUTE");
        return false;
    }
    static const uint8_t one = 1;
    cl->rewrite.len = 0;
    if (!bytes_put(&cl->rewrite, p, flag_at) || !bytes_put(&cl->rewrite, &one, 1) ||
        !bytes_put(&cl->rewrite, st->types, tlen) ||
        !bytes_put(&cl->rewrite, p + flag_at + 1, len - flag_at - 1) || !mx_sstmt_set_types(ss, st->types)) {
        client_close(cl, "out of memory");
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

static void forward_command(mx_client_t *cl)
{
    if (cl->cur_stmt && !map_statement(cl))
        return;
    mx_server_t *sv = cl->server;
    uint32_t len, have;
    const uint8_t *p = cmd_payload(cl, &len, &have);
    /* What goes to the backend: manx's rewrite of the command, the command
     * assembled in `big`, or the client's bytes in place. */
    bool heap = cl->rewrite.len || cl->big_ready;
    const uint8_t *src = cl->rewrite.len ? cl->rewrite.data : p;
    size_t slen = cl->rewrite.len ? cl->rewrite.len : len;
    cl->state = CL_ACTIVE;
    cl->queries++;
    mx_stats_stmt_begin(cl);
    if (cl->routed_read)
        sv->pool->n_reads++;
    else
        sv->pool->n_writes++;
    cl->skip_left = 0;
    cl->state_change = cl->state_known = false;
    cl->reported = 0;
    cl->next_seq = 1;
    bool expects = mx_resp_expected(cl->cmd);
    if (expects)
        mx_resp_begin(&cl->resp, sv->caps, src, heap ? slen : have);
    if (mx_log_level >= MX_LOG_DEBUG)
        log_forward(cl, src, (uint32_t)slen, heap ? (uint32_t)slen : have);
    if (heap) {
        bool ok = send_payload(&sv->conn, src, slen);
        drop_command(cl);
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
        if (!pump_request(cl))
            return;
    }
    if (!expects && cl->fwd_left == 0 && !cl->fwd_cont) {
        command_done(cl);
        return;
    }
    /* Reached from a replay or a pool hand-over, not from client_work():
     * a command bigger than the buffer needs the client read again. */
    resume_reading(cl);
}

/* Variables the tracker reports that must not be replayed: manx's own
 * tracking setup, and read-only ones (last_gtid changes with every write). */
static bool replayable_var(const mx_str_t *name)
{
    if (name->len > 14 && strncasecmp((const char *)name->p, "session_track_", 14) == 0)
        return false;
    if (name->len == 9 && strncasecmp((const char *)name->p, "last_gtid", 9) == 0)
        return false;
    return true;
}

/* A tracked variable entry saying the session is no longer READ ONLY (a
 * stored function can run SET SESSION TRANSACTION READ WRITE). */
static bool read_only_lifted(const mx_track_t *t)
{
    bool name = (t->name.len == 12 && strncasecmp((const char *)t->name.p, "tx_read_only", 12) == 0) ||
                (t->name.len == 21 && strncasecmp((const char *)t->name.p, "transaction_read_only", 21) == 0);
    bool on = (t->value.len == 2 && strncasecmp((const char *)t->value.p, "ON", 2) == 0) ||
              (t->value.len == 1 && t->value.p[0] == '1');
    return name && !on;
}

/* The user's logical schema whose database is `name`, NULL if none. */
static const mx_schema_t *schema_of_database(const mx_client_t *cl, const char *name, size_t len)
{
    for (size_t i = 0; i < cl->user->n_schemas; i++) {
        const mx_schema_t *s = cl->user->schemas[i];
        if (strlen(s->datanode->database) == len && memcmp(s->datanode->database, name, len) == 0)
            return s;
    }
    return NULL;
}

/* Read the session-state entries of an OK from the backend. */
static void track_ok(mx_client_t *cl, const uint8_t *p, uint32_t len)
{
    mx_server_t *sv = cl->server;
    mx_ok_t ok;
    if (mx_parse_ok(p, len, sv->caps, &ok) < 0)
        return;
    bool changed = false;
    if (ok.last_insert_id) {
        cl->st.last_insert_id = sv->st.last_insert_id = ok.last_insert_id;
        changed = true;
    }
    if (ok.session_state.len) {
        mx_rd_t r;
        mx_track_t t;
        mx_rd_init(&r, ok.session_state.p, ok.session_state.len);
        while (mx_track_next(&r, &t) > 0) {
            switch (t.type) {
            case MX_TRACK_SCHEMA:
                snprintf(cl->st.db, sizeof(cl->st.db), "%.*s", (int)t.name.len, t.name.p);
                memcpy(sv->st.db, cl->st.db, sizeof(sv->st.db));
                /* A USE manx did not answer itself (in a multi-statement, a
                 * procedure): the logical schema follows the real one. */
                cl->schema = t.name.len ? schema_of_database(cl, (const char *)t.name.p, t.name.len) : NULL;
                cl->state_known = true;
                changed = true;
                break;
            case MX_TRACK_SYSTEM_VARIABLES:
                cl->state_known = true;
                if (t.name.len == 9 && strncasecmp((const char *)t.name.p, "last_gtid", 9) == 0 &&
                    t.value.len > 0 && t.value.len < sizeof(cl->last_gtid)) {
                    memcpy(cl->last_gtid, t.value.p, t.value.len);
                    cl->last_gtid[t.value.len] = 0;
                }
                if ((sv->flavor & MX_FLAVOR_READ_ONLY) && read_only_lifted(&t))
                    sv->lost_read_only = true;
                if (t.name.len == 8 && strncasecmp((const char *)t.name.p, "sql_mode", 8) == 0)
                    cl->reported |= LEX_SQL_MODE;
                else if (t.name.len == 20 && strncasecmp((const char *)t.name.p, "character_set_client", 20) == 0)
                    cl->reported |= LEX_CHARSET;
                else if (t.name.len == 24 && strncasecmp((const char *)t.name.p, "character_set_connection", 24) == 0)
                    cl->reported |= RPT_CS_CONNECTION;
                else if (t.name.len == 20 && strncasecmp((const char *)t.name.p, "collation_connection", 20) == 0)
                    cl->reported |= RPT_COLLATION;
                if (!replayable_var(&t.name))
                    break;
                if (!mx_sstate_set_var(&cl->st, t.name.p, t.name.len, t.value.p, t.value.len) ||
                    !mx_sstate_set_var(&sv->st, t.name.p, t.name.len, t.value.p, t.value.len))
                    cl->sticky = true; /* out of memory: at least stay correct */
                changed = true;
                break;
            case MX_TRACK_STATE_CHANGE:
                cl->state_change = true;
                break;
            case MX_TRACK_TRANSACTION_CHARACTERISTICS: {
                /* SET TRANSACTION ... for the next transaction: it lives on
                 * this backend until a transaction consumes it. */
                mx_rd_t d;
                mx_str_t chars;
                mx_rd_init(&d, t.data.p, t.data.len);
                cl->trx_chars = !mx_rd_lenenc_str(&d, &chars) || chars.len > 0;
                break;
            }
            default:
                break;
            }
        }
    }
    if (changed) {
        cl->st_version++;
        sv->synced_id = cl->id;
        sv->synced_version = cl->st_version;
    }
}

static void response_finished(mx_client_t *cl);

static void server_data_once(mx_client_t *cl);

/* Response packets that may carry a real database name (protocol/schemamap.h). */
enum { SM_NONE, SM_COLDEF, SM_ROW, SM_ERR };

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
static const mx_pktbuf_t *smap_packet(mx_client_t *cl, int kind, const uint8_t *h, uint32_t len)
{
    mx_pktbuf_t *out = &cl->smap_out;
    const uint8_t *p = h + MX_PKT_HDR;
    uint8_t seq = mx_pkt_seq(h);
    mx_pktbuf_reset(out);
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
    return rc == 1 && !out->failed ? out : NULL;
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

static void server_data_once(mx_client_t *cl)
{
    mx_server_t *sv = cl->server;
    mx_conn_t *sc = &sv->conn;
    if (cl->state != CL_ACTIVE || !sc->buf)
        return;
    uint32_t fwd_start = sc->rpos;
    int rc = MX_RESP_MORE;
    bool done = false, infile = false;
    while (!done && !infile) {
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
        const uint8_t *h = sc->buf + sc->rpos;
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
            cl->prep_sql) {
            /* PREPARE_OK: the client gets manx's id for the statement;
             * the backend's is remembered on this connection. */
            uint8_t cls = cl->cls == MX_CLS_NONE ? MX_SQL_WRITE : cl->cls;
            mx_stmt_t *st = mx_stmt_add(cl, cl->prep_sql, cl->prep_len, cls, cl->resp.prepare.num_params);
            if (!st) {
                client_close(cl, "out of memory");
                return;
            }
            if (mx_sstmt_find(sv, st)) {
                /* Already prepared here by some session: keep that one and
                 * close this duplicate, or every client PREPARE would add
                 * one to the server's max_prepared_stmt_count. */
                mx_sstmt_queue_close(sv, cl->resp.prepare.stmt_id);
            } else if (!mx_sstmt_add(sv, st, cl->resp.prepare.stmt_id)) {
                client_close(cl, "out of memory");
                return;
            }
            st->flags = cl->qflags;
            cl->prep_sql = NULL;
            mx_wr_u32((uint8_t *)h + MX_PKT_HDR + 1, st->vid);
        }
        if (sm != SM_NONE && have == len) {
            const mx_pktbuf_t *b = smap_packet(cl, sm, h, len);
            if (b) {
                uv_buf_t ub[2] = {
                    uv_buf_init((char *)sc->buf + fwd_start, sc->rpos - fwd_start),
                    uv_buf_init((char *)b->data, (unsigned)b->len),
                };
                if (!mx_conn_write(&cl->conn, ub, 2)) {
                    client_close(cl, "write failed");
                    return;
                }
                sc->rpos += MX_PKT_HDR + len;
                fwd_start = sc->rpos;
                goto next;
            }
        }
        if (cl->resp.last_ok && have == len) {
            track_ok(cl, h + MX_PKT_HDR, len);
            if (cl->rewrite_ok) {
                mx_ok_t ok;
                if (mx_parse_ok(h + MX_PKT_HDR, len, sv->caps, &ok) == 0) {
                    uint8_t mem[1024];
                    mx_pktbuf_t b;
                    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
                    mx_pkt_ok_reencode(&b, mx_pkt_seq(h), h[MX_PKT_HDR], &ok, cl->caps);
                    uv_buf_t ub[2] = {
                        uv_buf_init((char *)sc->buf + fwd_start, sc->rpos - fwd_start),
                        uv_buf_init((char *)b.data, (unsigned)b.len),
                    };
                    if (b.failed || !mx_conn_write(&cl->conn, ub, 2)) {
                        client_close(cl, "write failed");
                        return;
                    }
                    sc->rpos += MX_PKT_HDR + len;
                    fwd_start = sc->rpos;
                    goto next;
                }
            }
        }
        if (have == len) {
            sc->rpos += MX_PKT_HDR + len;
        } else {
            cl->skip_left = (uint64_t)len - have;
            sc->rpos = sc->rend;
        }
    next:
        if (rc == MX_RESP_DONE)
            done = true;
        else if (rc == MX_RESP_INFILE)
            infile = true;
    }
    if (sc->rpos > fwd_start) {
        uv_buf_t ub = uv_buf_init((char *)sc->buf + fwd_start, sc->rpos - fwd_start);
        if (!mx_conn_write(&cl->conn, &ub, 1)) {
            client_close(cl, "write failed");
            return;
        }
    }
    if (cl->conn.wq_bytes > 0)
        mx_conn_read_stop(sc); /* slow client: let the backend wait */
    if (sc->rpos == sc->rend)
        mx_conn_consume_done(sc);
    else
        mx_conn_compact(sc);
    if (done && cl->skip_left == 0) {
        response_finished(cl);
        return;
    }
    if (infile) {
        cl->state = CL_INFILE;
        cl->fwd_left = 0;
        cl->fwd_cont = false;
        client_work(cl);
    }
}

void mx_client_server_drained(mx_client_t *cl)
{
    /* The backend took everything: read the client again. */
    if (cl->state == CL_ACTIVE || cl->state == CL_INFILE) {
        mx_conn_read_start(&cl->conn);
        client_work(cl);
    }
}

/* After a statement ran: state it left on this backend that manx cannot
 * replay elsewhere keeps the session here (sticky; the backend is reset
 * before another session has it).  User variables set to literals by a
 * plain SET are replayed instead.  Pinning is decided from the text as
 * well as from session tracking, which reports neither a user variable
 * assigned by SELECT/DO/CALL, nor a HANDLER, nor a named lock. */
static void note_session_state(mx_client_t *cl, bool ok)
{
    const uint64_t keeps = MX_SQLF_USERVAR_ASSIGN | MX_SQLF_HANDLER | MX_SQLF_CALL | MX_SQLF_TEMP_TABLE |
                           MX_SQLF_LOCK_FUNC | MX_SQLF_LOCK_TABLES | MX_SQLF_PREPARE | MX_QF_AMBIGUOUS;
    uint64_t f = cl->qflags;
    bool uv_replay = ok && cl->cmd == MX_COM_QUERY && cl->uv_ok && cl->pending_uv.n_vars > 0;
    /* A change of how the server reads text that it did not report: manx
     * can no longer be sure how to read this session's statements. */
    if ((f & (MX_SQLF_SET_SQL_MODE | MX_QF_AMBIGUOUS)) && !(cl->reported & LEX_SQL_MODE))
        cl->lex_unknown |= LEX_SQL_MODE;
    if ((f & (MX_SQLF_SET_NAMES | MX_QF_AMBIGUOUS)) && !(cl->reported & LEX_CHARSET))
        cl->lex_unknown |= LEX_CHARSET;
    if (ok && (f & MX_SQLF_GLOBAL)) {
        /* New sessions must start with the new global defaults: pooled
         * connections that read the old ones are reset before reuse. */
        atomic_fetch_add(&mx_proc.globals_gen, 1);
    }
    /* A write can fire a trigger that changes the session's user variables
     * (SET @sum = 0, then a trigger adds to it): their values are known only
     * on this backend now. */
    bool has_uservars = false;
    for (uint32_t i = 0; i < cl->st.n_vars && !has_uservars; i++)
        has_uservars = cl->st.vars[i].name[0] == '@';
    if (has_uservars && cl->cls == MX_SQL_WRITE)
        cl->sticky = true;
    if ((f & keeps) || (f & MX_SQLF_SYSVAR_BARE) || ((f & MX_SQLF_USERVAR_SET) && !uv_replay) ||
        (cl->state_change && !cl->state_known && !uv_replay)) {
        cl->sticky = true;
    } else if (uv_replay && cl->server) {
        /* Both the session and this backend now hold the values. */
        mx_server_t *sv = cl->server;
        for (uint32_t i = 0; i < cl->pending_uv.n_vars; i++) {
            const mx_var_t *v = &cl->pending_uv.vars[i];
            if (!mx_sstate_set_uservar(&cl->st, v->name, v->value) ||
                !mx_sstate_set_uservar(&sv->st, v->name, v->value))
                cl->sticky = true;
        }
        cl->st_version++;
        if (sv->synced_id == cl->id)
            sv->synced_version = cl->st_version;
    }
    mx_sstate_clear(&cl->pending_uv);
}

/* SET NAMES x [COLLATE y] and SET character_set_connection change the
 * connection's collation, which session tracking does not report: ask the
 * backend, so the session is replayed with its real collation elsewhere.
 * The client has its answer already; its next command waits.  Returns false
 * when nothing was started. */
static bool learn_collation(mx_client_t *cl)
{
    static const char q[] = "SELECT @@collation_connection";
    mx_server_t *sv = cl->server;
    put_command(&sv->out, MX_COM_QUERY, q, sizeof(q) - 1);
    cl->state = CL_REPLAY;
    cl->learning = true;
    mx_conn_read_start(&sv->conn);
    if (!mx_server_internal(sv)) {
        cl->learning = false;
        cl->state = CL_IDLE;
        mx_server_close(sv, "write failed");
        return false;
    }
    return true;
}

/* The collation the backend said (or, on an error, that it cannot be
 * known: the session stays on this backend). */
static void learned_collation(mx_client_t *cl, bool ok)
{
    mx_server_t *sv = cl->server;
    cl->learning = false;
    const char *coll = sv->internal_str;
    if (!ok || !coll[0] || !mx_sstate_set_var(&cl->st, (const uint8_t *)"collation_connection", 20,
                                               (const uint8_t *)coll, strlen(coll)) ||
        !mx_sstate_set_var(&sv->st, (const uint8_t *)"collation_connection", 20, (const uint8_t *)coll,
                           strlen(coll))) {
        cl->sticky = true;
    } else {
        CL_DEBUG(cl, "collation_connection is %s", coll);
        cl->st_version++;
        if (sv->synced_id == cl->id)
            sv->synced_version = cl->st_version;
    }
    command_done(cl);
}

static void response_finished(mx_client_t *cl)
{
    const mx_resp_t *r = &cl->resp;
    if (r->is_error && cl->server)
        cl->server->pool->n_errors++;
    if (r->is_error)
        mx_stats_error(&cl->conn.w->stats, r->err_code, MX_ERR_FROM_BACKEND);
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
        note_session_state(cl, !r->is_error);
    if ((cl->reported & RPT_CS_CONNECTION) && !(cl->reported & RPT_COLLATION) && cl->server &&
        learn_collation(cl))
        return;
    command_done(cl);
}

/* The command and its response are complete. */
static void command_done(mx_client_t *cl)
{
    mx_server_t *sv = cl->server;
    cl->state = CL_IDLE;
    mx_stats_stmt_end(cl);
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
    if (sv && !must_keep_server(cl)) {
        unlink_server(cl, false);
    } else if (sv && !sv->conn.reading) {
        mx_conn_read_start(&sv->conn);
    }
    if (cl->conn.w->stopping) {
        client_close(cl, "shutting down");
        return;
    }
    client_work(cl);
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
    if (find_var(&cl->st, "autocommit") && strcasecmp(find_var(&cl->st, "autocommit"), "OFF") == 0)
        cl->status = 0;
    CL_LOG(cl, MX_LOG_WARNING, "backend S-%u %s %s lost (%s)%s", sv->id, h->name, h->address, why,
           in_trans ? "; its transaction is rolled back" : "");
    if (old == CL_ACTIVE || old == CL_REPLAY) {
        if (cl->skip_left || cl->fwd_left || cl->fwd_cont) {
            client_close(cl, "backend lost mid-packet");
            return;
        }
        if (old == CL_REPLAY && cl->learning) {
            /* The statement was answered; only manx's own question was lost. */
            cl->learning = false;
            cl->state = CL_IDLE;
            client_work(cl);
            return;
        }
        if (old == CL_REPLAY)
            drop_command(cl);
        cl->state = CL_IDLE;
        if (send_err(cl, old == CL_REPLAY ? 1 : cl->next_seq, MX_ER_BACKEND_LOST, "70100",
                     "Lost connection to backend %s (%s) during query%s", h->name, h->address,
                     in_trans ? "; the transaction was rolled back" : ""))
            client_work(cl);
        return;
    }
    if (old == CL_INFILE) {
        client_close(cl, "backend lost during LOAD DATA");
        return;
    }
}

/* ---- local commands ------------------------------------------------------------ */

static void reset_session(mx_client_t *cl)
{
    uint8_t coll = cl->st.collation;
    bool multi = cl->st.multi_stmt;
    char db[sizeof(cl->st.db)];
    memcpy(db, cl->st.db, sizeof(db));
    mx_sstate_clear(&cl->st);
    memcpy(cl->st.db, db, sizeof(db));
    cl->st.collation = coll;
    cl->st.multi_stmt = multi;
    cl->st_version++;
    mx_stmt_clear_all(cl);
    cl->long_data_pin = false;
    cl->cursor_open = false;
    cl->sticky = false;
    cl->pin_next = false;
    cl->trx_chars = false;
    cl->lex_unknown = 0;
    cl->status = MX_STATUS_AUTOCOMMIT;
    if (cl->server)
        unlink_server(cl, true);
}

static void change_user(mx_client_t *cl, const uint8_t *p, uint32_t len)
{
    mx_change_user_t cu;
    if (mx_parse_change_user(p, len, cl->caps, &cu) < 0) {
        send_err(cl, 1, MX_ER_HANDSHAKE, "08S01", "Bad handshake");
        client_close(cl, "malformed COM_CHANGE_USER");
        return;
    }
    /* The session is reset only when the new login succeeds. */
    cl->cu.active = true;
    cl->cu.user = cl->user;
    memcpy(cl->cu.user_name, cl->user_name, sizeof(cl->cu.user_name));
    cl->cu.schema = cl->schema;
    memcpy(cl->cu.db, cl->st.db, sizeof(cl->cu.db));
    cl->cu.charset = (uint8_t)cu.charset;
    /* The client scrambles with the handshake's scramble: keep it. */
    cl->state = CL_LOGIN;
    auth_start(cl, 1, &cu.user, &cu.plugin, &cu.auth, &cu.db);
}

static void set_option(mx_client_t *cl, const uint8_t *p, uint32_t len)
{
    if (len < 3) {
        send_err(cl, 1, MX_ER_UNKNOWN_COM, "08S01", "Malformed COM_SET_OPTION");
        return;
    }
    uint32_t opt = mx_rd_u16(p + 1);
    if (opt > MX_OPTION_MULTI_STATEMENTS_OFF) {
        send_err(cl, 1, 1047, "08S01", "Unknown option %u", opt);
        return;
    }
    cl->st.multi_stmt = opt == MX_OPTION_MULTI_STATEMENTS_ON;
    cl->st_version++;
    uint8_t mem[16];
    mx_pktbuf_t b;
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    mx_pkt_eof(&b, 1, 0, cl->status);
    send_pkt(cl, &b);
}

static const char *command_name(uint8_t cmd)
{
    switch (cmd) {
    case MX_COM_SHUTDOWN: return "COM_SHUTDOWN";
    case MX_COM_BINLOG_DUMP: return "COM_BINLOG_DUMP";
    case MX_COM_BINLOG_DUMP_GTID: return "COM_BINLOG_DUMP_GTID";
    case MX_COM_REGISTER_SLAVE: return "COM_REGISTER_SLAVE";
    case MX_COM_TABLE_DUMP: return "COM_TABLE_DUMP";
    case MX_COM_CONNECT_OUT: return "COM_CONNECT_OUT";
    case MX_COM_DAEMON: return "COM_DAEMON";
    default: return NULL;
    }
}

/* The console answers everything itself. */
static bool dispatch_admin(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have)
{
    switch (cl->cmd) {
    case MX_COM_QUIT:
        client_close(cl, "client quit");
        return false;
    case MX_COM_QUERY: {
        bool ok = mx_admin_query(cl, p + 1, len - 1);
        drop_command(cl);
        return ok && cl->state != CL_CLOSED;
    }
    case MX_COM_PING:
    case MX_COM_INIT_DB:
        drop_command(cl);
        return send_ok(cl, 1);
    default:
        drop_command(cl);
        return send_err(cl, 1, MX_ER_UNKNOWN_COM, "08S01", "manx admin console: only queries");
    }
}

/* Commands manx answers from the session alone.  Returns -1 when the
 * command is not one of them, else whether the caller may go on. */
static int dispatch_local(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have)
{
    switch (cl->cmd) {
    case MX_COM_QUIT:
        client_close(cl, "client quit");
        return false;
    case MX_COM_PING:
        drop_command(cl);
        return send_ok(cl, 1);
    case MX_COM_INIT_DB: {
        char name[MX_NAME_MAX + 1];
        uint32_t n = len - 1;
        if (n > MX_NAME_MAX) {
            drop_command(cl);
            return send_err(cl, 1, MX_ER_BAD_DB, "42000", "Unknown database");
        }
        memcpy(name, p + 1, n);
        drop_command(cl);
        if (select_schema(cl, name, n, 1))
            return send_ok(cl, 1);
        return cl->state != CL_CLOSED;
    }
    case MX_COM_SET_OPTION: {
        uint8_t opt[3] = {0, 0, 0};
        uint32_t n = have < 3 ? have : 3;
        memcpy(opt, p, n);
        drop_command(cl);
        set_option(cl, opt, n);
        return cl->state != CL_CLOSED;
    }
    case MX_COM_PROCESS_KILL: {
        uint64_t id = have >= 5 ? mx_rd_u32(p + 1) : 0;
        drop_command(cl);
        return handle_kill(cl, id, false);
    }
    case MX_COM_RESET_CONNECTION:
        drop_command(cl);
        reset_session(cl);
        return send_ok(cl, 1);
    case MX_COM_CHANGE_USER:
        if (have != len) {
            /* Login data is small: one that does not fit is not a login. */
            drop_command(cl);
            send_err(cl, 1, MX_ER_HANDSHAKE, "08S01", "Bad handshake");
            client_close(cl, "oversized COM_CHANGE_USER");
            return false;
        }
        drop_command(cl); /* p stays valid: nothing reuses the buffer meanwhile */
        change_user(cl, p, len);
        return cl->state == CL_IDLE;
    default:
        break;
    }
    if ((cl->cmd > MX_COM_RESET_CONNECTION &&
         !(cl->cmd == MX_COM_STMT_BULK_EXECUTE && (cl->ext_caps & MX_MARIADB_STMT_BULK_OPS))) ||
        cl->cmd == MX_COM_SLEEP || cl->cmd == MX_COM_CONNECT ||
        cl->cmd == MX_COM_TIME || cl->cmd == MX_COM_DELAYED_INSERT || command_name(cl->cmd)) {
        const char *name = command_name(cl->cmd);
        drop_command(cl);
        if (name)
            return send_err(cl, 1, 1235, "42000", "manx does not forward %s", name);
        return send_err(cl, 1, MX_ER_UNKNOWN_COM, "08S01", "Unknown command");
    }
    return -1;
}

/* COM_STMT_*: statement ids are manx's: find the statement; it is prepared
 * on whichever backend the command runs (see stmt.h).  Returns -1 when the
 * command goes on to a backend (info filled), else whether the caller may go on. */
static int dispatch_stmt(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have, mx_sql_info_t *info)
{
    if (have < 5) {
        client_close(cl, "malformed statement command");
        return false;
    }
    uint32_t vid = mx_rd_u32(p + 1);
    mx_stmt_t *st = mx_stmt_find(cl, vid);
    bool silent = cl->cmd == MX_COM_STMT_CLOSE || cl->cmd == MX_COM_STMT_SEND_LONG_DATA;
    if (!st || cl->cmd == MX_COM_STMT_CLOSE) {
        drop_command(cl);
        if (st) {
            /* The backend keeps the statement for others; a cursor left
             * open on it closes at its next EXECUTE. */
            mx_stmt_remove(cl, vid);
            cl->cursor_open = false;
        }
        if (silent)
            return true;
        return send_err(cl, 1, MX_ER_UNKNOWN_STMT, "HY000", "Unknown prepared statement handler (%u) given to manx",
                        vid);
    }
    bool on_server = cl->server && mx_sstmt_find(cl->server, st);
    if ((cl->cmd == MX_COM_STMT_RESET || cl->cmd == MX_COM_STMT_FETCH) && !on_server) {
        /* No backend holds a cursor or long data for it: nothing to reset,
         * nothing to fetch. */
        drop_command(cl);
        if (cl->cmd == MX_COM_STMT_RESET)
            return send_ok(cl, 1);
        return send_err(cl, 1, 1421, "HY000", "The statement (%u) has no open cursor.", vid);
    }
    cl->cur_stmt = st;
    cl->cls = st->cls;
    cl->qflags = st->flags;
    if (cl->cmd == MX_COM_STMT_SEND_LONG_DATA)
        cl->long_data_pin = true;
    /* Route by the class of the prepared text. */
    memset(info, 0, sizeof(*info));
    info->cls = st->cls;
    return -1;
}

/* COM_STMT_BULK_EXECUTE, negotiated: a packet manx cannot read gets an
 * ERR; else it goes on as an EXECUTE does (statement id mapped, types
 * re-sent), always to the writer: bulk runs INSERT, UPDATE and DELETE. */
static int dispatch_bulk(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have, mx_sql_info_t *info)
{
    const char *why = mx_stmt_bulk_refusal(p, have);
    if (why) {
        drop_command(cl);
        return send_err(cl, 1, MX_ER_MALFORMED_PACKET, "08S01", "%s", why);
    }
    int rc = dispatch_stmt(cl, p, len, have, info);
    if (rc < 0)
        info->cls = cl->cls = MX_SQL_WRITE;
    return rc;
}

static bool route_command(mx_client_t *cl, const mx_sql_info_t *ip);

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

/* How the server will read this session's next statement (router/lex.h):
 * its sql_mode and client character set as session tracking reported them,
 * else the backends' default and the handshake's; the backends' version. */
static void session_lexmode(const mx_client_t *cl, mx_lexmode_t *m)
{
    const char *mode = find_var(&cl->st, "sql_mode");
    if (cl->lex_unknown & LEX_SQL_MODE) {
        m->sql_mode = MX_LEX_SQL_MODE_UNKNOWN;
    } else if (mode) {
        m->sql_mode = mx_lex_sql_mode_bits(mode, strlen(mode));
    } else {
        uint8_t d = atomic_load(&mx_proc.sql_mode_default);
        m->sql_mode = (d & 0x80) ? (uint8_t)(d & 0x7f) : MX_LEX_SQL_MODE_UNKNOWN;
    }
    const char *cs = find_var(&cl->st, "character_set_client");
    m->charset = (uint8_t)((cl->lex_unknown & LEX_CHARSET) ? MX_CS_UNKNOWN
                           : cs ? mx_charset_kind(cs, strlen(cs)) : mx_charset_kind_of_collation(cl->st.collation));
    m->server_version = atomic_load(&mx_proc.backend_version);
    m->mariadb = atomic_load(&mx_proc.backend_mariadb);
}

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
    drop_command(cl);
    switch (info->local) {
    case MX_LOCAL_USE:
        if (select_schema(cl, name, strlen(name), 1))
            return send_ok(cl, 1);
        return cl->state != CL_CLOSED;
    case MX_LOCAL_SELECT_DATABASE: {
        /* The logical schema the client chose, not the real name (unless
         * a USE the backend ran chose a database no schema stands for). */
        const char *val = cl->schema ? cl->schema->name : cl->st.db[0] ? cl->st.db : NULL;
        return send_resultset(cl, &name, 1, &val, 1);
    }
    case MX_LOCAL_SELECT_CONNECTION_ID: {
        /* The session's own id, stable across pooled backends (the one the
         * handshake announced). */
        char id[16];
        snprintf(id, sizeof(id), "%u", cl->id);
        const char *val = id;
        return send_resultset(cl, &name, 1, &val, 1);
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
        return send_resultset(cl, &col, 1, vals, nv);
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
        if (!bytes_put(b, "`", 1))
            return false;
        for (const char *p = name; *p; p++)
            if (!bytes_put(b, p, 1) || (*p == '`' && !bytes_put(b, "`", 1)))
                return false;
        return bytes_put(b, "`", 1);
    }
    case MAP_LITERAL:
        return bytes_put(b, "'", 1) && bytes_put(b, name, n) && bytes_put(b, "'", 1);
    default: {
        static const char hex[] = "0123456789abcdef";
        if (!bytes_put(b, MX_SMAP_DBF_PREFIX, sizeof(MX_SMAP_DBF_PREFIX) - 1))
            return false;
        for (size_t i = 0; i < n; i++) {
            char h[2] = {hex[(uint8_t)name[i] >> 4], hex[(uint8_t)name[i] & 15]};
            if (!bytes_put(b, h, 2))
                return false;
        }
        return bytes_put(b, MX_SMAP_DBF_SUFFIX, sizeof(MX_SMAP_DBF_SUFFIX) - 1);
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
    if (!bytes_put(&cl->rewrite, p, 1))
        return false;
    for (size_t i = 0; i <= x->n_maps; i++) {
        size_t off = i < x->n_maps ? x->maps[i].off : n;
        if (off < last)
            continue;
        if (an && limit_pos >= last && limit_pos <= off) {
            if (!bytes_put(&cl->rewrite, q + last, limit_pos - last) || !bytes_put(&cl->rewrite, add, (size_t)an))
                return false;
            last = limit_pos;
            an = 0;
        }
        if (!bytes_put(&cl->rewrite, q + last, off - last))
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
static int dispatch_query(mx_client_t *cl, mx_sql_info_t *info)
{
    uint32_t len, have;
    const uint8_t *p = cmd_payload(cl, &len, &have);
    bool prepare = cl->cmd == MX_COM_STMT_PREPARE;
    mx_lexmode_t mode;
    session_lexmode(cl, &mode);
    scan_t x = {.cl = cl};
    mx_sql_cb_t cb = {.arg = &x, .db_name = on_db_name, .uservar = prepare ? NULL : on_uservar,
                      .literal = cl->n_smap ? on_literal : NULL};
    mx_sstate_clear(&cl->pending_uv);
    mx_sql_scan(p + 1, len - 1, &mode, &cb, info);
    settle_maps(&x);
    int rc = -1;
    if (x.oom) {
        client_close(cl, "out of memory");
        rc = false;
        goto out;
    }
    cl->cls = info->cls;
    cl->qflags = info->flags | (info->ambiguous ? MX_QF_AMBIGUOUS : 0);
    cl->uv_ok = (info->flags & MX_SQLF_USERVAR_LITERAL) && cl->pending_uv.n_vars > 0;
    /* What manx answers or refuses itself, before any backend sees the
     * text; where the text goes is decided again in route_command(). */
    mx_route_in_t in;
    route_input(cl, info, x.refused, x.denied, &in);
    mx_decision_t d = mx_route_decide(&in);
    switch (d.kind) {
    case MX_DECIDE_ANSWER:
        rc = answer_locally(cl, info);
        goto out;
    case MX_DECIDE_KILL:
        rc = handle_kill(cl, info->kill_id, (info->flags & MX_SQLF_KILL_QUERY) != 0);
        drop_command(cl);
        goto out;
    case MX_DECIDE_REFUSE:
        if (d.release)
            unlink_server(cl, false);
        rc = send_refusal(cl, &d);
        goto out;
    default:
        break;
    }
    const mx_schema_t *es = effective_schema(cl);
    size_t cut = info->hint != MX_HINT_NONE && info->hint_end > 0 && info->hint_end < len - 1 ? info->hint_end : 0;
    int limit = !prepare && es && es->sql_max_limit > 0 && info->n_stmts == 1 &&
                (info->flags & MX_SQLF_SELECT_NO_LIMIT) && info->limit_pos >= cut && info->limit_pos <= len - 1
                    ? es->sql_max_limit : 0;
    if (x.n_maps || limit) {
        if (!rewrite_text(cl, &x, p, len, cut, info->limit_pos, limit)) {
            client_close(cl, "out of memory");
            rc = false;
            goto out;
        }
    } else if (cut) {
        cut_hint(cl, (uint32_t)cut);
        p = cmd_payload(cl, &len, &have);
    }
    if (prepare) {
        /* The text as the backend prepares it: hint cut, names mapped. */
        const uint8_t *t = cl->rewrite.len ? cl->rewrite.data : p;
        size_t tl = cl->rewrite.len ? cl->rewrite.len : len;
        free(cl->prep_sql);
        cl->prep_sql = malloc(tl);
        if (!cl->prep_sql) {
            client_close(cl, "out of memory");
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

/* Handle the command in hand: whole when dispatch_ready() said so, else at
 * least its first MX_RESP_PEEK bytes.  Returns true when the caller may go
 * on with the next buffered command. */
static bool dispatch(mx_client_t *cl)
{
    uint32_t len, have;
    const uint8_t *p = cmd_payload(cl, &len, &have);
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
        drop_command(cl);
        send_err(cl, 1, 1045, "28000", "manx: %s after a reload", gone);
        client_close(cl, gone);
        return false;
    }
    if (cl->cfg != was && !build_smap(cl)) { /* its names lived in the old generation */
        drop_command(cl);
        client_close(cl, "out of memory");
        return false;
    }
    if (cl->admin)
        return dispatch_admin(cl, p, len, have);
    int rc = dispatch_local(cl, p, len, have);
    if (rc >= 0)
        return rc;
    mx_route_in_t in;
    mx_decision_t d;
    route_input(cl, NULL, false, "", &in);
    if (mx_route_refuse_command(&in, &d))
        return send_refusal(cl, &d);
    mx_sql_info_t info;
    const mx_sql_info_t *ip = NULL;
    switch (cl->cmd) {
    case MX_COM_STMT_CLOSE:
    case MX_COM_STMT_SEND_LONG_DATA:
    case MX_COM_STMT_EXECUTE:
    case MX_COM_STMT_FETCH:
    case MX_COM_STMT_RESET:
        rc = dispatch_stmt(cl, p, len, have, &info);
        if (rc >= 0)
            return rc;
        ip = &info;
        break;
    case MX_COM_STMT_BULK_EXECUTE:
        rc = dispatch_bulk(cl, p, len, have, &info);
        if (rc >= 0)
            return rc;
        ip = &info;
        break;
    case MX_COM_QUERY:
    case MX_COM_STMT_PREPARE:
        rc = dispatch_query(cl, &info);
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
    const mx_datahost_t *dh = route_input(cl, ip, false, "", &in);
    size_t di = dh ? (size_t)dh->index : 0;
    mx_decision_t d = mx_route_resolve(&in, dh, di, &mx_proc.health, pool_load, w, &w->rr);
    while (d.release) {
        /* A weak pin yields: the backend goes back to its pool, and the
         * host choice is asked again without it. */
        unlink_server(cl, false);
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
        return send_refusal(cl, &d);
    default:
        /* ANSWER and KILL were acted on in dispatch_query() for the same
         * input; PICK never leaves mx_route_resolve(). */
        abort();
    }
    mx_pool_t *pool = mx_worker_pool_in(w, cl->cfg, d.host, cl->acct);
    cl->want = pool;
    cl->state = CL_WAIT_POOL;
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
        int rc = assemble(cl);
        return rc;
    }
    if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
        return 0;
    const uint8_t *h = c->buf + c->rpos;
    uint32_t len = mx_pkt_len(h);
    if (len == 0 || mx_pkt_seq(h) != 0) {
        client_close(cl, len == 0 ? "empty command packet" : "command with a bad sequence id");
        return -1;
    }
    if (len > cl->cfg->max_packet && len != MX_PKT_MAX) {
        send_err(cl, 1, MX_ER_NET_PACKET_TOO_LARGE, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes");
        client_close(cl, "packet too large");
        return -1;
    }
    if (mx_conn_avail(c) < MX_PKT_HDR + 1)
        return 0;
    uint8_t cmd = h[MX_PKT_HDR];
    bool whole = cmd == MX_COM_QUERY || cmd == MX_COM_STMT_PREPARE;
    if (whole && (len == MX_PKT_MAX || len + MX_PKT_HDR > MX_BUF_SIZE)) {
        cl->big.len = 0;
        cl->big_left = 0;
        return assemble(cl);
    }
    uint32_t need = MX_PKT_HDR + (whole || len < MX_RESP_PEEK ? len : MX_RESP_PEEK);
    if (mx_conn_avail(c) < need) {
        if (c->rpos + need > MX_BUF_SIZE)
            mx_conn_compact(c);
        return 0;
    }
    return 1;
}

static void client_work_once(mx_client_t *cl);

/* Process what the client sent, as far as the session's state allows,
 * including what TLS still holds once there is room for it. */
static void client_work(mx_client_t *cl)
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
            if (!pump_request(cl))
                return false;
            if (cl->state == CL_ACTIVE && !cl->fwd_left && !cl->fwd_cont && !mx_resp_expected(cl->cmd)) {
                command_done(cl);
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
                if (!pump_request(cl))
                    return false;
                cl->state = CL_ACTIVE;
                mx_resp_infile_sent(&cl->resp);
                if (cl->server && cl->server->conn.buf)
                    mx_client_server_data(cl);
                return false;
            }
        }
        if (!cl->fwd_left)
            return true;
        if (!pump_request(cl))
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
        client_close(cl, "oversized login packet");
        return false;
    }
    if (mx_conn_avail(c) < MX_PKT_HDR + len) {
        if (c->rpos + MX_PKT_HDR + len > MX_BUF_SIZE)
            mx_conn_compact(c);
        return false;
    }
    c->rpos += MX_PKT_HDR + len;
    if (cl->state == CL_LOGIN)
        handle_login(cl, h + MX_PKT_HDR, len, mx_pkt_seq(h));
    else
        auth_more(cl, h + MX_PKT_HDR, len, mx_pkt_seq(h));
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
        if (cl->state != CL_IDLE || !discard_input(cl))
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
    arm_timer(cl);
    resume_reading(cl);
}

static void client_io(mx_conn_t *c, int ev)
{
    mx_client_t *cl = MX_CONTAINER_OF(c, mx_client_t, conn);
    if (cl->state == CL_CLOSED)
        return;
    switch (ev) {
    case MX_EV_READ:
        client_work(cl);
        return;
    case MX_EV_TLS_READY:
        if (cl->state == CL_TLS)
            cl->state = CL_LOGIN;
        return;
    case MX_EV_DRAIN:
        /* The client caught up: let the backend's data flow again. */
        if (cl->server && (cl->state == CL_ACTIVE || cl->state == CL_INFILE)) {
            mx_conn_read_start(&cl->server->conn);
            mx_client_server_data(cl);
        }
        return;
    case MX_EV_EOF:
        client_close(cl, "client disconnected");
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
            client_close(cl, "killed by KILL CONNECTION");
        return;
    }
}

/* KILL [CONNECTION|QUERY] id and COM_PROCESS_KILL: ids are manx session ids
 * (what the handshake and CONNECTION_ID() give), whichever worker holds
 * them.  As MySQL without the PROCESS/SUPER privilege, a session may kill
 * only sessions of its own user; console sessions and anything that is not
 * a manx session (a backend's thread id) are unknown here, and nothing is
 * ever forwarded. */
static bool handle_kill(mx_client_t *cl, uint64_t id, bool query_only)
{
    mx_reg_info_t t;
    if (id == 0 || id > UINT32_MAX || !mx_registry_find((uint32_t)id, &t) || t.admin || !t.user)
        return send_err(cl, 1, 1094, "HY000", "Unknown thread id: %llu", (unsigned long long)id);
    if (t.user != cl->user) {
        CL_LOG(cl, MX_LOG_WARNING, "refused KILL %llu: a session of another user", (unsigned long long)id);
        return send_err(cl, 1, 1095, "HY000", "You are not owner of thread %llu", (unsigned long long)id);
    }
    if (id == cl->id && !query_only) {
        client_close(cl, "KILL of its own connection");
        return false;
    }
    mx_worker_t *self = cl->conn.w;
    if (t.worker == self->index)
        mx_client_kill(self, (uint32_t)id, query_only);
    else
        mx_worker_post_kill(&mx_proc.workers[t.worker], (uint32_t)id, query_only);
    return send_ok(cl, 1);
}

void mx_client_shutdown_step(mx_worker_t *w, bool force)
{
    mx_list_t *l = w->clients.next;
    while (l != &w->clients) {
        mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, link);
        l = l->next;
        if (force || cl->state == CL_IDLE || cl->state == CL_LOGIN || cl->state == CL_TLS ||
            cl->state == CL_AUTH_MORE || cl->state == CL_WAIT_POOL)
            client_close(cl, force ? "shutdown timeout" : "shutting down");
    }
    if (mx_list_empty(&w->clients) && w->n_clients == 0)
        mx_worker_finish(w);
}
