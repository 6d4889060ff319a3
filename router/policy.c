/* The routing decision (see policy.h): the rules proxy/client.c applied
 * inline until issue 10, one function, in the order they were applied. */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>

#include "protocol/proto.h"

static mx_decision_t refuse(uint16_t code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static mx_decision_t refuse(uint16_t code, const char *state, const char *fmt, ...)
{
    mx_decision_t d = {.kind = MX_DECIDE_REFUSE, .host = -1, .code = code, .log_level = MX_DECIDE_LOG_NONE};
    snprintf(d.sqlstate, sizeof(d.sqlstate), "%s", state);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.msg, sizeof(d.msg), fmt, ap);
    va_end(ap);
    return d;
}

static void note(mx_decision_t *d, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(mx_decision_t *d, int level, const char *fmt, ...)
{
    d->log_level = level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->log, sizeof(d->log), fmt, ap);
    va_end(ap);
}

static mx_decision_t refuse_readonly(const mx_route_in_t *in)
{
    return refuse(MX_ER_OPTION_PREVENTS, "HY000",
                  "The MySQL server is running with the --read-only option so it cannot execute this "
                  "statement (manx: user '%s' has readonly = true)", in->user_name);
}

static mx_decision_t decided(uint8_t kind)
{
    return (mx_decision_t){.kind = kind, .host = -1, .log_level = MX_DECIDE_LOG_NONE};
}

/* Commands a readonly user may send to a backend (the others manx answers
 * itself or refuses): the query, prepare and execute family and the
 * harmless COM_FIELD_LIST and COM_STATISTICS (not COM_STMT_BULK_EXECUTE,
 * which only writes).  COM_REFRESH rotates binlogs,
 * COM_DEBUG writes to the error log, COM_CREATE_DB creates: all as manx's
 * backend account. */
static bool readonly_command(uint8_t cmd)
{
    switch (cmd) {
    case MX_COM_QUERY:
    case MX_COM_FIELD_LIST:
    case MX_COM_STATISTICS:
    case MX_COM_STMT_PREPARE:
    case MX_COM_STMT_EXECUTE:
    case MX_COM_STMT_SEND_LONG_DATA:
    case MX_COM_STMT_CLOSE:
    case MX_COM_STMT_RESET:
    case MX_COM_STMT_FETCH:
        return true;
    default:
        return false;
    }
}

bool mx_route_refuse_command(const mx_route_in_t *in, mx_decision_t *d)
{
    if (in->strict_schemas && (in->cmd == MX_COM_CREATE_DB || in->cmd == MX_COM_DROP_DB)) {
        *d = refuse(MX_ER_DBACCESS_DENIED, "42000",
                    "Access denied for user '%s'@'%%' to database (manx: strict_schemas)", in->user_name);
        return true;
    }
    if (in->readonly && !readonly_command(in->cmd)) {
        *d = refuse_readonly(in);
        note(d, MX_DECIDE_LOG_DEBUG, "refused command 0x%02x: user is read-only", in->cmd);
        return true;
    }
    return false;
}

/* A statement text (COM_QUERY, COM_STMT_PREPARE): what manx answers
 * itself, and what it refuses before any backend sees it.  Returns false
 * when it goes on to a backend. */
static bool settle_text(const mx_route_in_t *in, mx_decision_t *d)
{
    const mx_sql_info_t *s = in->sql;
    bool prepare = in->cmd == MX_COM_STMT_PREPARE;
    bool strict_refused = in->strict_schemas && in->db_refused;
    if (!prepare && s->local != MX_LOCAL_NONE && !s->ambiguous && s->n_stmts == 1 && !strict_refused) {
        *d = decided(MX_DECIDE_ANSWER);
        return true;
    }
    if (s->flags & MX_SQLF_KILL) {
        /* manx answers KILL itself: alone, it kills a manx session; inside
         * a multi-statement or a prepared statement it would reach the
         * backend as manx's account and kill any thread there. */
        if (prepare || s->n_stmts != 1 || s->ambiguous) {
            *d = refuse(1235, "42000", "manx: KILL must be sent as a statement of its own");
            note(d, MX_DECIDE_LOG_WARNING, "refused a KILL that is not a statement of its own");
        } else if (s->flags & MX_SQLF_KILL_USER) {
            *d = refuse(1235, "42000", "manx: KILL takes the id of a manx session");
        } else {
            *d = decided(MX_DECIDE_KILL);
        }
        return true;
    }
    if (s->flags & MX_SQLF_SHUTDOWN) {
        *d = refuse(1235, "42000", "manx does not forward SHUTDOWN");
        return true;
    }
    if (in->readonly && !s->ro_ok) {
        *d = refuse_readonly(in);
        note(d, MX_DECIDE_LOG_INFO, "refused a statement%s: user is read-only",
             s->ambiguous ? " manx cannot read for sure" : "");
        return true;
    }
    if (in->strict_schemas &&
        (in->db_refused || s->ambiguous ||
         /* Only the text form is answered by manx; a prepared one would
          * list every database the backend has. */
         ((s->flags & MX_SQLF_SHOW_DATABASES) && (prepare || s->local != MX_LOCAL_SHOW_DATABASES)))) {
        const char *db = in->db_refused ? (in->db_denied ? in->db_denied : "")
                         : s->ambiguous ? "(a text manx cannot read for sure)"
                                        : "(all databases)";
        *d = refuse(MX_ER_DBACCESS_DENIED, "42000", "Access denied for user '%s'@'%%' to database '%s'",
                    in->user_name, db);
        note(d, MX_DECIDE_LOG_INFO, "refused a statement naming database %s: strict_schemas", db);
        return true;
    }
    return false;
}

static bool stmt_command(uint8_t cmd)
{
    return cmd == MX_COM_STMT_EXECUTE || cmd == MX_COM_STMT_FETCH || cmd == MX_COM_STMT_RESET ||
           cmd == MX_COM_STMT_SEND_LONG_DATA || cmd == MX_COM_STMT_CLOSE || cmd == MX_COM_STMT_BULK_EXECUTE;
}

/* Whether a classified statement may go to a reader by balance (before
 * a reader is known to be usable). */
static bool wants_reader(const mx_route_in_t *in, uint8_t cls, uint64_t flags, uint8_t hint)
{
    if (in->force_writer || !in->sql || in->balance == 0)
        return false;
    bool read = cls == MX_SQL_READ || (flags & MX_SQLF_START_READ_ONLY);
    if (hint == MX_HINT_MASTER)
        read = false;
    else if (hint == MX_HINT_SLAVE && cls != MX_SQL_WRITE)
        read = true;
    /* Inside a transaction, or with autocommit off (a statement would open
     * one), everything goes to the writer; START TRANSACTION READ ONLY is
     * the way to ask for a transaction on a replica. */
    if (!(flags & MX_SQLF_START_READ_ONLY) &&
        ((in->pins.status & MX_STATUS_IN_TRANS) || !(in->pins.status & MX_STATUS_AUTOCOMMIT)))
        read = false;
    return read;
}

mx_decision_t mx_route_decide(const mx_route_in_t *in)
{
    mx_decision_t d;
    if (mx_route_refuse_command(in, &d))
        return d;
    bool text = in->cmd == MX_COM_QUERY || in->cmd == MX_COM_STMT_PREPARE;
    if (text && in->sql && settle_text(in, &d))
        return d;

    /* A prepared statement routes by the class of its text alone: no
     * hint, and no FOUND_ROWS()/SHOW WARNINGS affinity. */
    uint8_t cls = in->sql ? in->sql->cls : MX_SQL_WRITE;
    /* Bulk execute runs INSERT, UPDATE and DELETE, whatever was prepared. */
    if (in->cmd == MX_COM_STMT_BULK_EXECUTE)
        cls = MX_SQL_WRITE;
    uint64_t flags = in->sql && !stmt_command(in->cmd) ? in->sql->flags : 0;
    uint8_t hint = in->sql && !stmt_command(in->cmd) ? in->sql->hint : MX_HINT_NONE;

    if (in->has_backend) {
        /* A weak pin (the statement after SQL_CALC_FOUND_ROWS or one that
         * left warnings) yields when this statement belongs elsewhere,
         * unless it is the FOUND_ROWS()/SHOW WARNINGS it was kept for.
         * pin_next itself is not read here: a backend still linked after
         * a statement is either pinned strongly or weakly. */
        const mx_route_pins_t *p = &in->pins;
        bool strong = (p->status & MX_STATUS_IN_TRANS) || p->long_data_pin || p->sticky || p->cursor_open ||
                      p->trx_chars;
        bool wanted = flags & (MX_SQLF_FOUND_ROWS | MX_SQLF_DIAGNOSTICS);
        if (strong || wanted || !in->sql)
            return decided(MX_DECIDE_KEEP);
    }
    if (!in->has_schema) {
        d = refuse(MX_ER_NO_DB, "3D000", "No database selected");
        d.release = in->has_backend;
        return d;
    }
    bool read = wants_reader(in, cls, flags, hint);
    if (in->writer == MX_ROUTE_UNASKED || (read && in->reader == MX_ROUTE_UNASKED)) {
        d = decided(MX_DECIDE_PICK);
        d.need_reader = read;
        return d;
    }
    d = decided(MX_DECIDE_WRITER);
    d.picked = true;
    d.host = in->writer;
    if (read && in->reader >= 0) {
        d.kind = MX_DECIDE_READER;
        d.host = in->reader;
        d.read = true;
        /* consistency = session: a replica must have applied the
         * session's last write, unless it is the writer itself or was
         * seen to hold that write already. */
        d.gtid_wait = in->consistency_session && in->has_gtid && in->reader != in->writer &&
                      in->gtid_ok_host != in->reader;
    }
    if (in->has_backend) {
        if (in->backend_host >= 0 && in->backend_host == d.host) {
            d.kind = MX_DECIDE_KEEP;
            return d;
        }
        d.release = true;
    }
    return d;
}

bool mx_route_keeps_backend(const mx_route_pins_t *p)
{
    return (p->status & MX_STATUS_IN_TRANS) || p->long_data_pin || p->sticky || p->pin_next || p->cursor_open ||
           p->trx_chars;
}

mx_decision_t mx_route_resolve(mx_route_in_t *in, const mx_datahost_t *dh, size_t di, mx_health_t *h,
                               mx_route_load_fn load, void *arg, unsigned *rr)
{
    mx_decision_t d = mx_route_decide(in);
    if (d.kind != MX_DECIDE_PICK)
        return d;
    int writer = dh->write_hosts[mx_health_writer(h, di)]->index;
    if (dh->write_type == 1) {
        /* Writes spread over every writeHost that is up (see README: only
         * safe when the application never writes the same rows from two
         * places at once). */
        int wh = mx_route_write_host(dh, h, load, arg, rr);
        if (wh >= 0)
            writer = wh;
    }
    in->writer = writer;
    in->reader = d.need_reader ? mx_route_read_host(dh, di, h, load, arg, rr) : -1;
    d = mx_route_decide(in);
    /* A read forced to the writer is one statement's. */
    in->force_writer = false;
    return d;
}

const char *mx_decide_kind_name(int kind)
{
    static const char *const names[] = {"WRITER", "READER", "KEEP", "REFUSE", "ANSWER", "KILL", "PICK"};
    return kind >= 0 && kind < (int)(sizeof(names) / sizeof(names[0])) ? names[kind] : "?";
}
