/* A session's state as manx tracks it (schema, character sets, session and
 * user variables, sql_mode, prepared statements) from what the server
 * reports and what the text says, and its replay on a backend that last
 * served someone else (or learnt something else). */
#include "session.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client-t.h"
#include "client.h"
#include "command.h"
#include "conn.h"
#include "relay.h"
#include "server.h"
#include "stmt.h"

static void learned_collation(mx_client_t *cl, bool ok);

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

const char *mx__find_var(const mx_sstate_t *st, const char *name)
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
        const char *cur = mx__find_var(&sv->st, v->name);
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
        if (mx__find_var(&cl->st, v->name) || is_cs_var(v->name))
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
        mx__client_close(cl, "out of memory");
        return false;
    }
    if (!(cl->qflags & MX_SQLF_LAST_INSERT_ID))
        sv->st.last_insert_id = lid;
    sv->synced_id = cl->id;
    sv->synced_version = cl->st_version;
    return true;
}

void mx__replay_next(mx_client_t *cl)
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
            if ((cl->qflags & MX_SQLF_LAST_INSERT_ID) && cl->st.last_insert_id != sv->st.last_insert_id &&
                cl->st.last_insert_id != MX_LID_UNKNOWN) {
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
            mx__forward_command(cl);
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
    mx__client_set_state(cl, CL_IDLE);
    mx__unlink_server(cl, false);
    mx__client_work(cl);
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
            mx__client_close(cl, "out of memory");
            return;
        }
        mx__replay_next(cl);
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
        mx__replay_next(cl);
        return;
    }
    if (!ok) {
        /* The session's own state does not apply: report it on the
         * command that needed it, and drop the half-replayed backend. */
        CL_LOG(cl, MX_LOG_WARNING, "state replay failed: %u %.*s", err->code, (int)err->message.len,
               err->message.p);
        mx__drop_command(cl);
        mx__client_set_state(cl, CL_IDLE);
        mx__unlink_server(cl, true);
        if (mx__send_err(cl, 1, err->code, err->sqlstate, "%.*s", (int)err->message.len, err->message.p))
            mx__client_work(cl);
        return;
    }
    mx__replay_next(cl);
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
void mx__track_ok(mx_client_t *cl, const uint8_t *p, uint32_t len)
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

/* After a statement ran: state it left on this backend that manx cannot
 * replay elsewhere keeps the session here (sticky; the backend is reset
 * before another session has it).  User variables set to literals by a
 * plain SET are replayed instead.  Pinning is decided from the text as
 * well as from session tracking, which reports neither a user variable
 * assigned by SELECT/DO/CALL, nor a HANDLER, nor a named lock. */
void mx__note_session_state(mx_client_t *cl, bool ok)
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
bool mx__learn_collation(mx_client_t *cl)
{
    static const char q[] = "SELECT @@collation_connection";
    mx_server_t *sv = cl->server;
    put_command(&sv->out, MX_COM_QUERY, q, sizeof(q) - 1);
    mx__client_set_state(cl, CL_REPLAY);
    cl->learning = true;
    mx_conn_read_start(&sv->conn);
    if (!mx_server_internal(sv)) {
        cl->learning = false;
        mx__client_set_state(cl, CL_IDLE);
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
    mx__command_done(cl);
}

/* How the server will read this session's next statement (router/lex.h):
 * its sql_mode and client character set as session tracking reported them,
 * else the backends' default and the handshake's; the backends' version. */
void mx__session_lexmode(const mx_client_t *cl, mx_lexmode_t *m)
{
    const char *mode = mx__find_var(&cl->st, "sql_mode");
    if (cl->lex_unknown & LEX_SQL_MODE) {
        m->sql_mode = MX_LEX_SQL_MODE_UNKNOWN;
    } else if (mode) {
        m->sql_mode = mx_lex_sql_mode_bits(mode, strlen(mode));
    } else {
        uint8_t d = atomic_load(&mx_proc.sql_mode_default);
        m->sql_mode = (d & 0x80) ? (uint8_t)(d & 0x7f) : MX_LEX_SQL_MODE_UNKNOWN;
    }
    const char *cs = mx__find_var(&cl->st, "character_set_client");
    m->charset = (uint8_t)((cl->lex_unknown & LEX_CHARSET) ? MX_CS_UNKNOWN
                           : cs ? mx_charset_kind(cs, strlen(cs)) : mx_charset_kind_of_collation(cl->st.collation));
    m->server_version = atomic_load(&mx_proc.backend_version);
    m->mariadb = atomic_load(&mx_proc.backend_mariadb);
}
