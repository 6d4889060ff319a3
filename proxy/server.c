/* Backend connections.  A server connects, authenticates as the host's
 * configured user, switches on session tracking (so every OK packet tells
 * manx which schema and session variables changed) and then serves one
 * client at a time.  Internal commands (state replay, reset) run here and
 * report to the linked client; a client's own responses are streamed by
 * client.c straight from this connection's buffer. */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "relay.h"
#include "session.h"
#include "conn.h"
#include "list.h"
#include "log.h"
#include "pool.h"
#include "protocol/auth.h"
#include "protocol/collation.h"
#include "router/lex.h"
#include "stmt.h"
#include "worker.h"

#define SV_LOG(sv, lvl, fmt, ...) \
    mx_log(lvl, "S-%u %s %s: " fmt, (sv)->id, (sv)->pool->host->name, (sv)->pool->host->address, ##__VA_ARGS__)
#define SV_DEBUG(sv, fmt, ...) do { if (mx_log_level >= MX_LOG_DEBUG) SV_LOG(sv, MX_LOG_DEBUG, fmt, ##__VA_ARGS__); } while (0)

static const char *const sv_state_names[] = {
    [SV_CONNECTING] = "connecting", [SV_AUTH] = "auth", [SV_SETUP] = "setup", [SV_IDLE] = "idle",
    [SV_ACTIVE] = "active", [SV_RESET] = "reset", [SV_KILL] = "kill", [SV_CLOSED] = "closed",
};

const char *mx_server_state_name(int st)
{
    return st >= 0 && st < (int)(sizeof(sv_state_names) / sizeof(sv_state_names[0])) && sv_state_names[st]
               ? sv_state_names[st] : "?";
}

/* The pool list a connection in state st is on (proxy-t.h), NULL none. */
static mx_list_t *state_list(mx_server_t *sv, mx_sv_state_t st)
{
    mx_pool_t *p = sv->pool;
    switch (st) {
    case SV_CONNECTING:
    case SV_AUTH:
    case SV_SETUP:
        return &p->connecting;
    case SV_IDLE:
        return &p->idle[sv->flavor];
    case SV_ACTIVE:
    case SV_RESET:
    case SV_KILL:
        return &p->active;
    default:
        return NULL;
    }
}

void mx_server_set_state(mx_server_t *sv, mx_sv_state_t st)
{
    mx_pool_t *p = sv->pool;
    mx_sv_state_t was = sv->state;
    mx_list_t *from = state_list(sv, was), *to = state_list(sv, st);
    if (from != to || st == SV_IDLE) {
        mx_list_del(&sv->link);
        if (st == SV_IDLE)
            mx_list_push(to, &sv->link); /* LIFO: the warmest connection first */
        else if (to)
            mx_list_append(to, &sv->link);
    }
    /* n_busy counts the connections on the active list. */
    if ((from == &p->active) != (to == &p->active))
        p->n_busy += to == &p->active ? 1 : -1;
    sv->state = st;
    SV_DEBUG(sv, "%s -> %s", mx_server_state_name(was), mx_server_state_name(st));
}

/* Session tracking, so every OK packet tells manx what the statement
 * changed; sql_mode set to itself so that the answer reports the server's
 * default, which decides how manx must read SQL text (router/lex.h); a
 * readonly user's connections are READ ONLY as a second wall behind the
 * classifier (a write that got past it fails on the server). */
#define SETUP_SQL "SET SESSION session_track_schema=ON, session_track_state_change=ON, " \
                  "session_track_system_variables='*', session_track_transaction_info=CHARACTERISTICS, " \
                  "sql_mode=@@sql_mode"
#define SETUP_SQL_RO SETUP_SQL ", tx_read_only=1"
#define MX_DEFAULT_COLLATION 45 /* utf8mb4_general_ci */

static const uint32_t wanted_caps =
    MX_CLIENT_LONG_PASSWORD | MX_CLIENT_LONG_FLAG | MX_CLIENT_PROTOCOL_41 |
    MX_CLIENT_TRANSACTIONS | MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_MULTI_STATEMENTS |
    MX_CLIENT_MULTI_RESULTS | MX_CLIENT_PS_MULTI_RESULTS | MX_CLIENT_PLUGIN_AUTH |
    MX_CLIENT_PLUGIN_AUTH_LENENC | MX_CLIENT_SESSION_TRACK | MX_CLIENT_LOCAL_FILES;

/* MariaDB's extended capabilities manx asks a backend for.  Bulk execute
 * changes no packet but its own, so every connection may have it; the
 * extended type info changes every column definition, so only connections
 * of the MX_FLAVOR_EXT_TYPES flavour ask for it (handle_handshake()).
 * CACHE_METADATA and PROGRESS are never asked for: the first lets the
 * server skip column definitions it assumes the client cached from an
 * earlier response on the same connection, which a pooled connection
 * serving many clients breaks; the second sends 0xFFFF ERR packets in the
 * middle of responses to clients that did not ask for them. */
static const uint32_t wanted_ext_caps = MX_MARIADB_STMT_BULK_OPS;

enum { AUTH_HANDSHAKE, AUTH_WAIT_RESULT, AUTH_WAIT_PUBKEY, AUTH_WAIT_TLS };
enum { RESET_NONE, RESET_COM, RESET_SETUP };

/* ---- session state helpers (shared with client.c) ----------------------- */

void mx_sstate_clear(mx_sstate_t *st)
{
    for (uint32_t i = 0; i < st->n_vars; i++) {
        free(st->vars[i].name);
        free(st->vars[i].value);
    }
    free(st->vars);
    st->vars = NULL;
    st->n_vars = st->cap_vars = 0;
    st->db[0] = 0;
    st->last_insert_id = 0;
}

static char *dup_n(const uint8_t *p, size_t n, bool lower)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = lower && p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : (char)p[i];
    s[n] = 0;
    return s;
}

bool mx_sstate_set_var(mx_sstate_t *st, const uint8_t *name, size_t nl, const uint8_t *val, size_t vl)
{
    char *v = dup_n(val, vl, false);
    if (!v)
        return false;
    for (uint32_t i = 0; i < st->n_vars; i++) {
        if (strlen(st->vars[i].name) == nl && strncasecmp(st->vars[i].name, (const char *)name, nl) == 0) {
            free(st->vars[i].value);
            st->vars[i].value = v;
            return true;
        }
    }
    if (st->n_vars == st->cap_vars) {
        uint32_t cap = st->cap_vars ? st->cap_vars * 2 : 8;
        mx_var_t *nv = realloc(st->vars, cap * sizeof(*nv));
        if (!nv) {
            free(v);
            return false;
        }
        st->vars = nv;
        st->cap_vars = cap;
    }
    char *n = dup_n(name, nl, true);
    if (!n) {
        free(v);
        return false;
    }
    st->vars[st->n_vars].name = n;
    st->vars[st->n_vars].value = v;
    st->n_vars++;
    return true;
}

static const char *const cs_names[MX_CS_VARS] = {
    "character_set_client", "character_set_connection", "collation_connection", "character_set_results",
};

const char *mx_sstate_cs_name(int which)
{
    return cs_names[which];
}

const char *mx_sstate_cs(const mx_sstate_t *st, int which)
{
    for (uint32_t i = 0; i < st->n_vars; i++)
        if (strcmp(st->vars[i].name, cs_names[which]) == 0)
            return st->vars[i].value;
    const char *cs, *coll;
    if (!mx_collation_names(st->collation, &cs, &coll)) {
        cs = "utf8mb4";
        coll = "utf8mb4_general_ci";
    }
    return which == MX_CS_COLLATION ? coll : cs;
}

bool mx_sstate_set_uservar(mx_sstate_t *st, const char *name, const char *value)
{
    char n[MX_NAME_MAX * 4 + 2];
    size_t nl = strlen(name);
    if (nl + 1 >= sizeof(n))
        return false;
    n[0] = '@';
    memcpy(n + 1, name, nl);
    return mx_sstate_set_var(st, (const uint8_t *)n, nl + 1, (const uint8_t *)value, strlen(value));
}

bool mx_sstate_copy(mx_sstate_t *dst, const mx_sstate_t *src)
{
    mx_sstate_clear(dst);
    memcpy(dst->db, src->db, sizeof(dst->db));
    dst->collation = src->collation;
    dst->multi_stmt = src->multi_stmt;
    dst->last_insert_id = src->last_insert_id;
    for (uint32_t i = 0; i < src->n_vars; i++) {
        const mx_var_t *v = &src->vars[i];
        if (!mx_sstate_set_var(dst, (const uint8_t *)v->name, strlen(v->name),
                               (const uint8_t *)v->value, strlen(v->value)))
            return false;
    }
    return true;
}

/* ---- lifetime ------------------------------------------------------------ */

static void on_close_timer(uv_handle_t *h)
{
    mx_server_t *sv = h->data;
    mx_sstate_clear(&sv->st);
    mx_pktbuf_free(&sv->out);
    mx_sstmt_clear_all(sv);
    free(sv);
}

static void on_close_conn(uv_handle_t *h)
{
    mx_conn_t *c = h->data;
    mx_server_t *sv = MX_CONTAINER_OF(c, mx_server_t, conn);
    uv_close((uv_handle_t *)&sv->timer, on_close_timer);
}

void mx_server_close(mx_server_t *sv, const char *why)
{
    if (sv->state == SV_CLOSED)
        return;
    mx_sv_state_t old = sv->state;
    mx_pool_t *p = sv->pool;
    SV_DEBUG(sv, "closing: %s", why);
    mx_server_set_state(sv, SV_CLOSED);
    p->n_total--;
    mx_pool_unreserve(p);
    uv_timer_stop(&sv->timer);
    mx_client_t *cl = sv->client;
    sv->client = NULL;
    mx_conn_close(&sv->conn, on_close_conn);
    if (cl && old == SV_ACTIVE)
        mx_client_server_lost(cl, sv, why);
    if (old == SV_CONNECTING || old == SV_AUTH || old == SV_SETUP)
        mx_pool_connect_failed(p, why);
}

static void fail(mx_server_t *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(mx_server_t *sv, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (sv->state == SV_CONNECTING || sv->state == SV_AUTH || sv->state == SV_SETUP)
        SV_LOG(sv, MX_LOG_WARNING, "connection failed: %s", msg);
    else
        SV_LOG(sv, MX_LOG_WARNING, "closing: %s", msg);
    /* Let the heartbeat look now rather than at its next period. */
    mx_health_kick(&mx_proc.health, sv->pool->host->index);
    mx_server_close(sv, msg);
}

static void on_timeout(uv_timer_t *t)
{
    mx_server_t *sv = t->data;
    fail(sv, "timed out after %d ms (%s)", sv->pool->cfg->connect_timeout_ms,
         sv->state == SV_CONNECTING ? "connect" : "handshake");
}

static bool send_out(mx_server_t *sv)
{
    if (!mx_conn_write_pkt(&sv->conn, &sv->out)) {
        fail(sv, "write failed");
        return false;
    }
    return true;
}

/* ---- connect and authenticate ------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
    mx_server_t *sv = req->data;
    free(req);
    if (sv->state == SV_CLOSED)
        return;
    if (status < 0) {
        fail(sv, "connect: %s", uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&sv->conn.tcp, 1);
    mx_server_set_state(sv, SV_AUTH);
    sv->auth_step = AUTH_HANDSHAKE;
    if (mx_conn_read_start(&sv->conn) < 0)
        fail(sv, "read start failed");
}

static void server_io(mx_conn_t *c, int ev);

mx_server_t *mx_server_connect(mx_pool_t *p, uint8_t flavor)
{
    mx_worker_t *w = p->w;
    if (!mx_pool_reserve(p))
        return NULL; /* max_con reached: the waiter waits for a release */
    mx_server_t *sv = calloc(1, sizeof(*sv));
    if (!sv) {
        mx_pool_unreserve(p);
        return NULL;
    }
    if (mx_conn_init(&sv->conn, w, MX_SIDE_BACKEND, server_io) < 0) {
        free(sv);
        mx_pool_unreserve(p);
        return NULL;
    }
    sv->pool = p;
    sv->flavor = flavor;
    sv->id = atomic_fetch_add(&mx_proc.next_server_id, 1) + 1;
    sv->state = SV_CLOSED; /* born on no list */
    mx_list_init(&sv->link);
    mx_server_set_state(sv, SV_CONNECTING);
    mx_pktbuf_init(&sv->out);
    p->n_total++;
    uv_timer_init(&w->loop, &sv->timer);
    sv->timer.data = sv;
    uv_timer_start(&sv->timer, on_timeout, (uint64_t)sv->pool->cfg->connect_timeout_ms, 0);

    struct sockaddr_storage ss;
    uv_connect_t *req = malloc(sizeof(*req));
    int rc = req ? mx_parse_listen(p->host->address, &ss) : -1;
    if (rc == 0) {
        req->data = sv;
        rc = uv_tcp_connect(req, &sv->conn.tcp, (struct sockaddr *)&ss, on_connect);
    }
    if (rc != 0) {
        free(req);
        fail(sv, "connect: %s", rc < 0 && rc != -1 ? uv_strerror(rc) : "bad address");
        return NULL;
    }
    SV_DEBUG(sv, "connecting");
    return sv;
}

static bool send_auth_response(mx_server_t *sv, uint8_t seq)
{
    const char *user = mx_pool_user(sv->pool), *password = mx_pool_password(sv->pool);
    uint8_t auth[MX_SHA256_LEN];
    size_t auth_len = 0;
    const char *plugin;
    if (sv->auth_sha2) {
        plugin = "caching_sha2_password";
        if (password[0]) {
            mx_sha2_scramble(sv->scramble, password, strlen(password), auth);
            auth_len = MX_SHA256_LEN;
        }
    } else {
        plugin = "mysql_native_password";
        mx_native_scramble(sv->scramble, password, strlen(password), auth, &auth_len);
    }
    mx_pkt_hsresp(&sv->out, seq, sv->caps, sv->ext_caps, 1u << 30, MX_DEFAULT_COLLATION, user, auth,
                  auth_len, NULL, plugin);
    sv->auth_step = AUTH_WAIT_RESULT;
    return send_out(sv);
}

/* Send one command of manx's own (`cmd` + `arg`) and track its response. */
static bool send_own(mx_server_t *sv, uint8_t cmd, const void *arg, size_t len)
{
    mx_pkt_begin(&sv->out, 0);
    mx_put_u8(&sv->out, cmd);
    mx_put_bytes(&sv->out, arg, len);
    mx_pkt_end(&sv->out);
    mx_resp_begin(&sv->resp, sv->caps, &cmd, 1);
    return send_out(sv);
}

static bool send_setup(mx_server_t *sv)
{
    if (sv->flavor & MX_FLAVOR_READ_ONLY)
        return send_own(sv, MX_COM_QUERY, SETUP_SQL_RO, sizeof(SETUP_SQL_RO) - 1);
    return send_own(sv, MX_COM_QUERY, SETUP_SQL, sizeof(SETUP_SQL) - 1);
}

static void start_setup(mx_server_t *sv)
{
    mx_server_set_state(sv, SV_SETUP);
    send_setup(sv);
}

/* How SQL text is read depends on the server's version (versioned
 * comments): keep the lowest any backend announced. */
static void note_version(const mx_str_t *v)
{
    uint32_t id;
    bool mariadb;
    if (!mx_lex_parse_server_version((const char *)v->p, v->len, &id, &mariadb))
        return;
    uint32_t cur = atomic_load(&mx_proc.backend_version);
    while ((cur == 0 || id < cur) && !atomic_compare_exchange_weak(&mx_proc.backend_version, &cur, id))
        ;
    atomic_store(&mx_proc.backend_mariadb, mariadb);
}

/* What the greeting to clients may offer (client.c): the extended
 * capabilities every backend seen so far offered. */
static void note_ext_caps(uint32_t ext)
{
    uint32_t cur = atomic_load(&mx_proc.backend_ext_caps);
    uint32_t want;
    do {
        want = (cur & MX_EXT_KNOWN) ? (cur & ext) | MX_EXT_KNOWN : ext | MX_EXT_KNOWN;
    } while (want != cur && !atomic_compare_exchange_weak(&mx_proc.backend_ext_caps, &cur, want));
}

uint32_t mx_server_offer_ext_caps(void)
{
    uint32_t ext = atomic_load(&mx_proc.backend_ext_caps);
    if (!(ext & MX_EXT_KNOWN))
        return 0;
    return ext & (MX_MARIADB_STMT_BULK_OPS | MX_MARIADB_EXTENDED_TYPE_INFO);
}

/* The setup statement's OK reports the server's default sql_mode. */
static void note_sql_mode(const uint8_t *p, uint32_t len, uint32_t caps)
{
    mx_ok_t ok;
    if (mx_parse_ok(p, len, caps, &ok) < 0 || !ok.session_state.len)
        return;
    mx_rd_t r;
    mx_track_t t;
    mx_rd_init(&r, ok.session_state.p, ok.session_state.len);
    while (mx_track_next(&r, &t) > 0) {
        if (t.type == MX_TRACK_SYSTEM_VARIABLES && t.name.len == 8 &&
            strncasecmp((const char *)t.name.p, "sql_mode", 8) == 0) {
            atomic_store(&mx_proc.sql_mode_default, (uint8_t)(mx_lex_sql_mode_bits((const char *)t.value.p,
                                                                                     t.value.len) | 0x80));
            return;
        }
    }
}

static void handle_handshake(mx_server_t *sv, const uint8_t *p, uint32_t len)
{
    const mx_host_t *h = sv->pool->host;
    if (len && p[0] == 0xFF) {
        mx_err_t e;
        if (mx_parse_err(p, len, &e) == 0)
            fail(sv, "server refused: %u %.*s", e.code, (int)e.message.len, e.message.p);
        else
            fail(sv, "server refused the connection");
        return;
    }
    mx_handshake_t hs;
    if (mx_parse_handshake(p, len, &hs) < 0 || hs.scramble_len < MX_SCRAMBLE_LEN) {
        fail(sv, "malformed handshake");
        return;
    }
    if (!(hs.caps & MX_CLIENT_PROTOCOL_41)) {
        fail(sv, "server does not speak protocol 4.1");
        return;
    }
    memcpy(sv->scramble, hs.scramble, MX_SCRAMBLE_LEN);
    sv->backend_thread_id = hs.conn_id;
    if (hs.charset)
        atomic_store(&mx_proc.backend_collation, hs.charset); /* manx greets its clients with it */
    note_version(&hs.server_version);
    note_ext_caps(hs.ext_caps & ~MX_EXT_KNOWN);
    /* A connection of the extended-type flavour serves only clients that
     * parse the extended column definitions: a backend that cannot send
     * them must not serve them (it was offered because other backends had
     * it, or this one was downgraded). */
    if ((sv->flavor & MX_FLAVOR_EXT_TYPES) && !(hs.ext_caps & MX_MARIADB_EXTENDED_TYPE_INFO)) {
        fail(sv, "server does not offer extended type info (MariaDB 10.5 or later)");
        return;
    }
    sv->ext_caps = hs.ext_caps & (wanted_ext_caps | ((sv->flavor & MX_FLAVOR_EXT_TYPES)
                                                     ? MX_MARIADB_EXTENDED_TYPE_INFO : 0));
    sv->caps = (wanted_caps & hs.caps) | MX_CLIENT_PROTOCOL_41;
    /* Extended capabilities travel only when neither side claims CLIENT_MYSQL. */
    if (sv->ext_caps)
        sv->caps &= ~MX_CLIENT_LONG_PASSWORD;
    if (sv->flavor & MX_FLAVOR_FOUND_ROWS)
        sv->caps |= MX_CLIENT_FOUND_ROWS;
    if (sv->flavor & MX_FLAVOR_IGNORE_SPACE)
        sv->caps |= MX_CLIENT_IGNORE_SPACE;
    sv->auth_sha2 = hs.auth_plugin.len == 21 && memcmp(hs.auth_plugin.p, "caching_sha2_password", 21) == 0;
    if (!atomic_load(&mx_proc.version_known) && !sv->pool->cfg->server_version[0]) {
        /* First backend seen: announce its version to clients.  A benign
         * race between workers writes the same bytes. */
        size_t n = hs.server_version.len < sizeof(mx_proc.server_version) - 1
                       ? hs.server_version.len : sizeof(mx_proc.server_version) - 1;
        char tmp[sizeof(mx_proc.server_version)];
        memcpy(tmp, hs.server_version.p, n);
        tmp[n] = 0;
        if (strncmp(tmp, "5.5.5-", 6) == 0)
            memmove(tmp, tmp + 6, n - 5);
        memcpy(mx_proc.server_version, tmp, sizeof(tmp));
        atomic_store(&mx_proc.version_known, true);
    }
    if (h->ssl) {
        if (!(hs.caps & MX_CLIENT_SSL) || !mx_proc.client_tls) {
            fail(sv, "ssl = true but the server does not offer TLS");
            return;
        }
        sv->caps |= MX_CLIENT_SSL;
        mx_pkt_ssl_request(&sv->out, 1, sv->caps, sv->ext_caps, 1u << 30, MX_DEFAULT_COLLATION);
        if (!send_out(sv))
            return;
        if (!mx_conn_tls_start(&sv->conn, mx_proc.client_tls, false, h->ip)) {
            fail(sv, "TLS start failed");
            return;
        }
        sv->auth_step = AUTH_WAIT_TLS;
        return;
    }
    send_auth_response(sv, 1);
}

static void handle_auth_result(mx_server_t *sv, const uint8_t *p, uint32_t len, uint8_t seq)
{
    const char *user = mx_pool_user(sv->pool), *password = mx_pool_password(sv->pool);
    if (len == 0) {
        fail(sv, "empty auth packet");
        return;
    }
    switch (p[0]) {
    case 0x00:
        uv_timer_stop(&sv->timer);
        uv_timer_start(&sv->timer, on_timeout, (uint64_t)sv->pool->cfg->connect_timeout_ms, 0);
        start_setup(sv);
        return;
    case 0xFF: {
        mx_err_t e;
        if (mx_parse_err(p, len, &e) == 0)
            fail(sv, "authentication as '%s' failed: %u %.*s", user, e.code,
                 (int)e.message.len, e.message.p);
        else
            fail(sv, "authentication as '%s' failed", user);
        return;
    }
    case 0xFE: { /* auth switch */
        mx_rd_t r;
        mx_str_t plugin, data;
        mx_rd_init(&r, p + 1, len - 1);
        if (!mx_rd_nulstr(&r, &plugin)) {
            fail(sv, "malformed auth switch");
            return;
        }
        mx_rd_eofstr(&r, &data);
        if (data.len >= MX_SCRAMBLE_LEN)
            memcpy(sv->scramble, data.p, MX_SCRAMBLE_LEN);
        if (plugin.len == 21 && memcmp(plugin.p, "mysql_native_password", 21) == 0)
            sv->auth_sha2 = false;
        else if (plugin.len == 21 && memcmp(plugin.p, "caching_sha2_password", 21) == 0)
            sv->auth_sha2 = true;
        else {
            fail(sv, "server asks for unsupported auth plugin '%.*s'", (int)plugin.len, plugin.p);
            return;
        }
        uint8_t auth[MX_SHA256_LEN];
        size_t auth_len = 0;
        if (sv->auth_sha2) {
            if (password[0]) {
                mx_sha2_scramble(sv->scramble, password, strlen(password), auth);
                auth_len = MX_SHA256_LEN;
            }
        } else {
            mx_native_scramble(sv->scramble, password, strlen(password), auth, &auth_len);
        }
        mx_pkt_begin(&sv->out, (uint8_t)(seq + 1));
        mx_put_bytes(&sv->out, auth, auth_len);
        mx_pkt_end(&sv->out);
        send_out(sv);
        return;
    }
    case 0x01: /* caching_sha2 more data */
        if (sv->auth_step == AUTH_WAIT_PUBKEY) {
            uint8_t enc[1024];
            int n = mx_sha2_rsa_encrypt((const char *)p + 1, len - 1, sv->scramble, MX_SCRAMBLE_LEN,
                                        password, strlen(password), enc, sizeof(enc));
            if (n < 0) {
                fail(sv, "RSA encryption of the password failed");
                return;
            }
            mx_pkt_begin(&sv->out, (uint8_t)(seq + 1));
            mx_put_bytes(&sv->out, enc, (size_t)n);
            mx_pkt_end(&sv->out);
            sv->auth_step = AUTH_WAIT_RESULT;
            send_out(sv);
            return;
        }
        if (len >= 2 && p[1] == 0x03)
            return; /* fast auth succeeded: OK follows */
        if (len >= 2 && p[1] == 0x04) {
            mx_pkt_begin(&sv->out, (uint8_t)(seq + 1));
            if (sv->conn.ssl) {
                mx_put_cstr(&sv->out, password);
            } else {
                mx_put_u8(&sv->out, 0x02); /* request the public key */
                sv->auth_step = AUTH_WAIT_PUBKEY;
            }
            mx_pkt_end(&sv->out);
            send_out(sv);
            return;
        }
        fail(sv, "unexpected auth data");
        return;
    default:
        fail(sv, "unexpected auth packet 0x%02x", p[0]);
    }
}

/* ---- internal commands and reset ----------------------------------------- */

bool mx_server_internal(mx_server_t *sv)
{
    sv->internal = true;
    sv->internal_val = MX_INTERNAL_NONE;
    sv->internal_str[0] = 0;
    mx_resp_begin(&sv->resp, sv->caps, sv->out.data + MX_PKT_HDR, sv->out.len - MX_PKT_HDR);
    if (!mx_conn_write_pkt(&sv->conn, &sv->out))
        return false;
    return true;
}

static void send_reset(mx_server_t *sv)
{
    sv->reset_step = RESET_COM;
    send_own(sv, MX_COM_RESET_CONNECTION, NULL, 0);
}

bool mx_server_kill_query(mx_pool_t *p, uint32_t thread_id)
{
    mx_server_t *sv = NULL;
    for (int f = 0; f < MX_FLAVORS && !sv; f++)
        if (!mx_list_empty(&p->idle[f]))
            sv = MX_CONTAINER_OF(p->idle[f].next, mx_server_t, link);
    if (!sv) {
        /* Nothing idle: open a connection; the pool sends the KILL on it
         * as soon as it is ready. */
        if (p->n_kill >= (int)(sizeof(p->kill_tids) / sizeof(p->kill_tids[0])) || !mx_server_connect(p, 0))
            return false;
        p->kill_tids[p->n_kill++] = thread_id;
        return true;
    }
    return mx_server_start_kill(sv, thread_id);
}

bool mx_server_start_kill(mx_server_t *sv, uint32_t thread_id)
{
    mx_server_set_state(sv, SV_KILL);
    char q[48];
    int n = snprintf(q, sizeof(q), "KILL QUERY %u", thread_id);
    SV_DEBUG(sv, "%s", q);
    return send_own(sv, MX_COM_QUERY, q, (size_t)n);
}

void mx_server_release(mx_server_t *sv, bool dirty)
{
    sv->client = NULL;
    dirty = dirty || sv->needs_reset;
    if (sv->state != SV_ACTIVE)
        return;
    if (sv->conn.eof) {
        mx_server_close(sv, "connection lost");
        return;
    }
    if ((sv->flavor & MX_FLAVOR_NODB) && sv->st.db[0]) {
        /* A session chose a database here: no statement can unselect it
         * (COM_RESET_CONNECTION keeps it), and sessions without one must
         * get 1046 No database selected as they would directly. */
        mx_server_close(sv, "a database was selected on a connection for sessions without one");
        return;
    }
    if (dirty) {
        SV_DEBUG(sv, "resetting session state before reuse");
        mx_server_set_state(sv, SV_RESET);
        sv->synced_id = 0;
        send_reset(sv);
        return;
    }
    mx_pool_offer(sv);
}

static void internal_done(mx_server_t *sv, const uint8_t *errp, uint32_t errlen)
{
    mx_err_t e;
    bool ok = errp == NULL;
    if (!ok && mx_parse_err(errp, errlen, &e) < 0) {
        e.code = 2027;
        memcpy(e.sqlstate, "HY000", 6);
        e.message.p = (const uint8_t *)"malformed packet";
        e.message.len = 16;
    }
    switch (sv->state) {
    case SV_SETUP:
        if (!ok) {
            fail(sv, "session tracking setup failed: %u %.*s", e.code, (int)e.message.len, e.message.p);
            return;
        }
        uv_timer_stop(&sv->timer);
        mx_sstate_clear(&sv->st);
        sv->st.collation = MX_DEFAULT_COLLATION;
        sv->st.multi_stmt = true;
        sv->globals_gen = atomic_load(&mx_proc.globals_gen);
        SV_DEBUG(sv, "ready (backend thread %u)", sv->backend_thread_id);
        mx_pool_offer(sv);
        return;
    case SV_RESET:
        if (!ok) {
            fail(sv, "reset failed: %u %.*s", e.code, (int)e.message.len, e.message.p);
            return;
        }
        if (sv->reset_step == RESET_COM) {
            /* COM_RESET_CONNECTION also reset session tracking. */
            sv->reset_step = RESET_SETUP;
            send_setup(sv);
            return;
        }
        sv->reset_step = RESET_NONE;
        sv->owner = 0;          /* clean: any user may have it now */
        sv->globals_gen = atomic_load(&mx_proc.globals_gen); /* reset re-read the global defaults */
        mx_sstmt_clear_all(sv); /* COM_RESET_CONNECTION closed them all */
        sv->needs_reset = false;
        /* The reset keeps COM_SET_OPTION's choice and the database. */
        bool multi = sv->st.multi_stmt;
        char db[sizeof(sv->st.db)];
        memcpy(db, sv->st.db, sizeof(db));
        mx_sstate_clear(&sv->st);
        sv->st.collation = MX_DEFAULT_COLLATION;
        sv->st.multi_stmt = multi;
        memcpy(sv->st.db, db, sizeof(db));
        mx_pool_offer(sv);
        return;
    case SV_ACTIVE:
        sv->internal = false;
        if (sv->client)
            mx__client_internal_done(sv->client, ok, ok ? NULL : &e);
        return;
    case SV_KILL:
        if (!ok)
            SV_LOG(sv, MX_LOG_WARNING, "KILL QUERY failed: %u %.*s", e.code, (int)e.message.len, e.message.p);
        mx_pool_offer(sv);
        return;
    default:
        fail(sv, "unexpected response in state %d", sv->state);
    }
}

/* Packets manx reads itself: handshake, auth, setup, reset and internal
 * commands.  All are small; a packet that does not fit the buffer is a
 * protocol error. */
static void read_own_packets(mx_server_t *sv)
{
    mx_conn_t *c = &sv->conn;
    while (c->buf && mx_conn_avail(c) >= MX_PKT_HDR && sv->state != SV_CLOSED) {
        if (sv->state == SV_ACTIVE && !sv->internal)
            break; /* the client's response: client.c streams it */
        const uint8_t *h = c->buf + c->rpos;
        uint32_t len = mx_pkt_len(h);
        if (len + MX_PKT_HDR > MX_BUF_SIZE) {
            fail(sv, "unexpected %u-byte packet", len);
            return;
        }
        if (mx_conn_avail(c) < len + MX_PKT_HDR) {
            mx_conn_compact(c);
            return;
        }
        const uint8_t *p = h + MX_PKT_HDR;
        uint8_t seq = mx_pkt_seq(h);
        c->rpos += len + MX_PKT_HDR;
        if (sv->state == SV_AUTH) {
            if (sv->auth_step == AUTH_HANDSHAKE)
                handle_handshake(sv, p, len);
            else
                handle_auth_result(sv, p, len, seq);
            continue;
        }
        if (sv->state == SV_IDLE) {
            /* An idle backend only speaks to say goodbye (wait_timeout). */
            fail(sv, "backend closed an idle connection");
            return;
        }
        if (sv->internal && sv->resp.phase == MX_RP_ROWS && len > 0 && p[0] != 0xFE && p[0] != 0xFF &&
            sv->internal_val == MX_INTERNAL_NONE) {
            /* First column of the first row of manx's own query. */
            uint64_t n;
            int k = p[0] == 0xFB ? -1 : mx_lenenc_decode(p, len, &n);
            sv->internal_str[0] = 0;
            if (k > 0 && n < sizeof(sv->internal_str) && (uint64_t)k + n <= len) {
                memcpy(sv->internal_str, p + k, (size_t)n);
                sv->internal_str[n] = 0;
            }
            if (k <= 0 || n > 20 || (uint64_t)k + n > len) {
                sv->internal_val = MX_INTERNAL_NULL;
            } else {
                char num[24];
                memcpy(num, p + k, (size_t)n);
                num[n] = 0;
                sv->internal_val = atoll(num);
            }
        }
        int rc = mx_resp_feed(&sv->resp, p, len, len);
        if (rc < 0) {
            fail(sv, "malformed response");
            return;
        }
        if (rc == MX_RESP_DONE && !sv->resp.is_error && len && p[0] == 0x00 &&
            (sv->state == SV_SETUP || (sv->state == SV_RESET && sv->reset_step == RESET_SETUP)))
            note_sql_mode(p, len, sv->caps);
        if (rc == MX_RESP_DONE)
            internal_done(sv, sv->resp.is_error ? p : NULL, len);
    }
    if (sv->state != SV_CLOSED)
        mx_conn_consume_done(c);
}

static void server_io(mx_conn_t *c, int ev)
{
    mx_server_t *sv = MX_CONTAINER_OF(c, mx_server_t, conn);
    if (sv->state == SV_CLOSED)
        return;
    switch (ev) {
    case MX_EV_READ:
        if (sv->state == SV_ACTIVE && !sv->internal && sv->client)
            mx_client_server_data(sv->client);
        else
            read_own_packets(sv);
        return;
    case MX_EV_TLS_READY:
        if (sv->state == SV_AUTH && sv->auth_step == AUTH_WAIT_TLS)
            send_auth_response(sv, 2);
        return;
    case MX_EV_DRAIN:
        if (sv->state == SV_ACTIVE && sv->client)
            mx_client_server_drained(sv->client);
        return;
    case MX_EV_EOF:
        if (sv->state == SV_ACTIVE && sv->client) {
            mx_client_t *cl = sv->client;
            /* Let the client take what is already buffered first. */
            if (!sv->internal && sv->conn.buf && mx_conn_avail(&sv->conn))
                mx_client_server_data(cl);
        }
        if (sv->state != SV_CLOSED)
            fail(sv, sv->state == SV_IDLE ? "backend closed an idle connection" : "connection lost");
        return;
    default:
        abort();
    }
}
