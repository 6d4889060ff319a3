/* A client session's login: the greeting, TLS, authentication against
 * manx's own users (native and caching_sha2, RSA key exchange), the schema
 * it asks for, COM_CHANGE_USER and COM_RESET_CONNECTION. */
#include "login.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-t.h"
#include "client.h"
#include "access.h"
#include "conn.h"
#include "lockout.h"
#include "protocol/auth.h"
#include "registry.h"
#include "server.h"
#include "stmt.h"

#define NATIVE_PLUGIN "mysql_native_password"
#define SHA2_PLUGIN "caching_sha2_password"

/* Auth exchange steps while CL_AUTH_MORE. */
enum { AUTH_SWITCHED, AUTH_SHA2_FULL, AUTH_SHA2_PUBKEY };

static const uint32_t server_caps =
    MX_CLIENT_LONG_PASSWORD | MX_CLIENT_FOUND_ROWS | MX_CLIENT_LONG_FLAG |
    MX_CLIENT_CONNECT_WITH_DB | MX_CLIENT_LOCAL_FILES | MX_CLIENT_IGNORE_SPACE |
    MX_CLIENT_PROTOCOL_41 | MX_CLIENT_INTERACTIVE | MX_CLIENT_TRANSACTIONS |
    MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_MULTI_STATEMENTS | MX_CLIENT_MULTI_RESULTS |
    MX_CLIENT_PS_MULTI_RESULTS | MX_CLIENT_PLUGIN_AUTH | MX_CLIENT_CONNECT_ATTRS |
    MX_CLIENT_PLUGIN_AUTH_LENENC | MX_CLIENT_SESSION_TRACK;

static void on_login_timeout(uv_timer_t *t)
{
    mx_client_t *cl = t->data;
    if (cl->state == CL_LOGIN || cl->state == CL_TLS || cl->state == CL_AUTH_MORE)
        mx__client_close(cl, "login timed out");
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

void mx_client_accept(mx_worker_t *w, uv_stream_t *listener, bool admin)
{
    mx_client_t *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return;
    if (mx_conn_init(&cl->conn, w, MX_SIDE_CLIENT, mx__client_io) < 0) {
        free(cl);
        return;
    }
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
    mx__client_set_state(cl, CL_LOGIN);
    cl->status = MX_STATUS_AUTOCOMMIT;
    if (uv_accept(listener, (uv_stream_t *)&cl->conn.tcp) < 0) {
        mx__client_close(cl, "accept failed");
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
        mx__send_err(cl, 0, 1129, "HY000", "Host '%s' is blocked for %llu more seconds after %d failed logins "
                 "(manx max_login_failures)", ip, (unsigned long long)(left + 999) / 1000,
                 cl->cfg->max_login_failures);
        mx__client_close(cl, "address locked out");
        return;
    }
    if (w->stopping || total > limit) {
        mx__send_err(cl, 0, MX_ER_CON_COUNT, "08004", "Too many connections");
        mx__client_close(cl, "too many connections");
        return;
    }
    if (!mx_auth_random_scramble(cl->scramble, MX_SCRAMBLE_LEN)) {
        mx__client_close(cl, "no randomness for the scramble");
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
    if (!mx__send_pkt(cl, &b))
        return;
    cl->timer_kind = CT_LOGIN;
    uv_timer_start(&cl->timer, on_login_timeout, (uint64_t)cl->cfg->connect_timeout_ms * 2, 0);
    if (mx_conn_read_start(&cl->conn) < 0)
        mx__client_close(cl, "read start failed");
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
    mx__client_set_state(cl, CL_IDLE);
}

static void deny_login(mx_client_t *cl, uint8_t seq, bool used_password)
{
    char host[64];
    CL_LOG(cl, MX_LOG_WARNING, "login refused: wrong user or password");
    uint64_t locked = mx_lockout_failed(cl->cfg, host_of(cl, host, sizeof(host)));
    if (locked)
        CL_LOG(cl, MX_LOG_WARNING, "address %s locked out for %llu ms after %d failed logins in a row", host,
               (unsigned long long)locked, cl->cfg->max_login_failures);
    mx__send_err(cl, seq, MX_ER_ACCESS_DENIED, "28000", "Access denied for user '%s'@'%s' (using password: %s)",
             cl->user_name, host_of(cl, host, sizeof(host)), used_password ? "YES" : "NO");
    if (cl->cu.active) {
        change_user_failed(cl);
        return;
    }
    mx__client_close(cl, "access denied");
}

/* Select the logical schema `name` for the session.  Sends the error and
 * returns false when it does not exist or the user may not see it. */
bool mx__select_schema(mx_client_t *cl, const char *name, size_t len, uint8_t seq)
{
    const mx_schema_t *s = mx_conf_find_schema(cl->cfg, name, len);
    if (!s && cl->user && cl->user->strict_schemas) {
        /* Whether another database exists is not this user's business. */
        mx__send_err(cl, seq, MX_ER_DBACCESS_DENIED, "42000", "Access denied for user '%s'@'%%' to database '%.*s'",
                 cl->user_name, (int)len, name);
        return false;
    }
    if (!s) {
        mx__send_err(cl, seq, MX_ER_BAD_DB, "42000", "Unknown database '%.*s'", (int)len, name);
        return false;
    }
    if (!mx_conf_user_may_use(cl->user, s)) {
        mx__send_err(cl, seq, MX_ER_DBACCESS_DENIED, "42000", "Access denied for user '%s'@'%%' to database '%.*s'",
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
bool mx__build_smap(mx_client_t *cl)
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
        mx__reset_session(cl);
        mx_sstate_clear(&cl->st);
        if (cl->cu.charset)
            cl->st.collation = cl->cu.charset;
        cl->st_version++;
        cl->schema = keep_schema;
        memcpy(cl->st.db, keep_db, sizeof(keep_db));
    }
    mx__client_set_state(cl, CL_IDLE);
    cl->schema = NULL;
    cl->st.db[0] = 0;
    if (db->len && !mx__select_schema(cl, (const char *)db->p, db->len, seq)) {
        if (cl->cu.active) {
            change_user_failed(cl);
            return;
        }
        mx__client_close(cl, "bad database at login");
        return;
    }
    cl->cu.active = false;
    if (!mx__build_smap(cl)) {
        mx__client_close(cl, "out of memory");
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
    mx__send_ok(cl, seq);
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
    mx__client_set_state(cl, CL_AUTH_MORE);
    cl->auth_step = AUTH_SWITCHED;
    mx__send_pkt(cl, &b);
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
    if (!mx__send_pkt(cl, &b))
        return 2;
    if (more == 0x03)
        return 3;
    /* Not cached yet: like MySQL, ask for the full password once. */
    mx__client_set_state(cl, CL_AUTH_MORE);
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
    /* [user] hosts and max_connections (proxy/access.h), before the password. */
    char why[200];
    mx_access_verdict_t refused = cl->admin ? MX_ACCESS_OK : mx_access_login(cl, why, sizeof(why));
    if (refused == MX_ACCESS_NO_HOST || refused == MX_ACCESS_TOO_MANY) {
        mx__send_err(cl, seq, refused, refused == MX_ACCESS_NO_HOST ? "HY000" : "42000", "%s", why);
        if (cl->cu.active)
            change_user_failed(cl);
        else
            mx__client_close(cl, "refused by [user] hosts or max_connections");
        return;
    }
    if (!cl->user || refused == MX_ACCESS_DENIED) {
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
void mx__auth_more(mx_client_t *cl, const uint8_t *p, uint32_t len, uint8_t seq)
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
            mx__send_pkt(cl, &b);
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

void mx__handle_login(mx_client_t *cl, const uint8_t *p, uint32_t len, uint8_t seq)
{
    mx_hsresp_t hr;
    if (mx_parse_hsresp(p, len, &hr) < 0) {
        mx__send_err(cl, (uint8_t)(seq + 1), MX_ER_HANDSHAKE, "08S01", "Bad handshake");
        mx__client_close(cl, "malformed handshake response");
        return;
    }
    if (hr.is_ssl_request) {
        if (!mx_proc.server_tls || cl->tls) {
            mx__client_close(cl, "unexpected SSL request");
            return;
        }
        cl->tls = true;
        mx__client_set_state(cl, CL_TLS);
        if (!mx_conn_tls_start(&cl->conn, mx_proc.server_tls, true, NULL))
            mx__client_close(cl, "TLS start failed");
        return;
    }
    cl->caps = hr.caps & (server_caps | MX_CLIENT_SSL);
    cl->ext_caps &= hr.ext_caps;
    if (!(cl->caps & MX_CLIENT_PROTOCOL_41)) {
        mx__send_err(cl, (uint8_t)(seq + 1), MX_ER_HANDSHAKE, "08S01", "Bad handshake");
        mx__client_close(cl, "client does not speak protocol 4.1");
        return;
    }
    if (cl->cfg->require_secure_transport && !cl->tls) {
        snprintf(cl->user_name, sizeof(cl->user_name), "%.*s", (int)hr.user.len, hr.user.p);
        mx__send_err(cl, (uint8_t)(seq + 1), MX_ER_SECURE_TRANSPORT, "HY000",
                 "Connections using insecure transport are prohibited while --require_secure_transport=ON.");
        mx__client_close(cl, "insecure transport");
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

void mx__reset_session(mx_client_t *cl)
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
        mx__unlink_server(cl, true);
}

void mx__change_user(mx_client_t *cl, const uint8_t *p, uint32_t len)
{
    mx_change_user_t cu;
    if (mx_parse_change_user(p, len, cl->caps, &cu) < 0) {
        mx__send_err(cl, 1, MX_ER_HANDSHAKE, "08S01", "Bad handshake");
        mx__client_close(cl, "malformed COM_CHANGE_USER");
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
    mx__client_set_state(cl, CL_LOGIN);
    auth_start(cl, 1, &cu.user, &cu.plugin, &cu.auth, &cu.db);
}
