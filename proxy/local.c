/* Commands manx answers or maps itself without a statement text: ping,
 * COM_INIT_DB, COM_SET_OPTION, statistics, and the COM_STMT_* family whose
 * statement ids are manx's own (closed, reset, long data, bulk). */
#include "local.h"

#include <string.h>

#include "client.h"
#include "command.h"
#include "login.h"
#include "stmt.h"

static void set_option(mx_client_t *cl, const uint8_t *p, uint32_t len)
{
    if (len < 3) {
        mx__send_err(cl, 1, MX_ER_UNKNOWN_COM, "08S01", "Malformed COM_SET_OPTION");
        return;
    }
    uint32_t opt = mx_rd_u16(p + 1);
    if (opt > MX_OPTION_MULTI_STATEMENTS_OFF) {
        mx__send_err(cl, 1, 1047, "08S01", "Unknown option %u", opt);
        return;
    }
    cl->st.multi_stmt = opt == MX_OPTION_MULTI_STATEMENTS_ON;
    cl->st_version++;
    uint8_t mem[16];
    mx_pktbuf_t b;
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    mx_pkt_eof(&b, 1, 0, cl->status);
    mx__send_pkt(cl, &b);
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

/* Commands manx answers from the session alone.  Returns -1 when the
 * command is not one of them, else whether the caller may go on. */
int mx__dispatch_local(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have)
{
    switch (cl->cmd) {
    case MX_COM_QUIT:
        mx__client_close(cl, "client quit");
        return false;
    case MX_COM_PING:
        mx__drop_command(cl);
        return mx__send_ok(cl, 1);
    case MX_COM_INIT_DB: {
        char name[MX_NAME_MAX + 1];
        uint32_t n = len - 1;
        if (n > MX_NAME_MAX) {
            mx__drop_command(cl);
            return mx__send_err(cl, 1, MX_ER_BAD_DB, "42000", "Unknown database");
        }
        memcpy(name, p + 1, n);
        mx__drop_command(cl);
        if (mx__select_schema(cl, name, n, 1))
            return mx__send_ok(cl, 1);
        return cl->state != CL_CLOSED;
    }
    case MX_COM_SET_OPTION: {
        uint8_t opt[3] = {0, 0, 0};
        uint32_t n = have < 3 ? have : 3;
        memcpy(opt, p, n);
        mx__drop_command(cl);
        set_option(cl, opt, n);
        return cl->state != CL_CLOSED;
    }
    case MX_COM_PROCESS_KILL: {
        uint64_t id = have >= 5 ? mx_rd_u32(p + 1) : 0;
        mx__drop_command(cl);
        return mx__handle_kill(cl, id, false);
    }
    case MX_COM_RESET_CONNECTION:
        mx__drop_command(cl);
        mx__reset_session(cl);
        return mx__send_ok(cl, 1);
    case MX_COM_CHANGE_USER:
        if (have != len) {
            /* Login data is small: one that does not fit is not a login. */
            mx__drop_command(cl);
            mx__send_err(cl, 1, MX_ER_HANDSHAKE, "08S01", "Bad handshake");
            mx__client_close(cl, "oversized COM_CHANGE_USER");
            return false;
        }
        mx__drop_command(cl); /* p stays valid: nothing reuses the buffer meanwhile */
        mx__change_user(cl, p, len);
        return cl->state == CL_IDLE;
    default:
        break;
    }
    if ((cl->cmd > MX_COM_RESET_CONNECTION &&
         !(cl->cmd == MX_COM_STMT_BULK_EXECUTE && (cl->ext_caps & MX_MARIADB_STMT_BULK_OPS))) ||
        cl->cmd == MX_COM_SLEEP || cl->cmd == MX_COM_CONNECT ||
        cl->cmd == MX_COM_TIME || cl->cmd == MX_COM_DELAYED_INSERT || command_name(cl->cmd)) {
        const char *name = command_name(cl->cmd);
        mx__drop_command(cl);
        if (name)
            return mx__send_err(cl, 1, 1235, "42000", "manx does not forward %s", name);
        return mx__send_err(cl, 1, MX_ER_UNKNOWN_COM, "08S01", "Unknown command");
    }
    return -1;
}

/* COM_STMT_*: statement ids are manx's: find the statement; it is prepared
 * on whichever backend the command runs (see stmt.h).  Returns -1 when the
 * command goes on to a backend (info filled), else whether the caller may go on. */
int mx__dispatch_stmt(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have, mx_sql_info_t *info)
{
    if (have < 5) {
        mx__client_close(cl, "malformed statement command");
        return false;
    }
    uint32_t vid = mx_rd_u32(p + 1);
    mx_stmt_t *st = mx_stmt_find(cl, vid);
    bool silent = cl->cmd == MX_COM_STMT_CLOSE || cl->cmd == MX_COM_STMT_SEND_LONG_DATA;
    if (!st || cl->cmd == MX_COM_STMT_CLOSE) {
        mx__drop_command(cl);
        if (st) {
            /* The backend keeps the statement for others; a cursor left
             * open on it closes at its next EXECUTE. */
            mx_stmt_remove(cl, vid);
            cl->cursor_open = false;
        }
        if (silent)
            return true;
        return mx__send_err(cl, 1, MX_ER_UNKNOWN_STMT, "HY000", "Unknown prepared statement handler (%u) given to manx",
                        vid);
    }
    bool on_server = cl->server && mx_sstmt_find(cl->server, st);
    if ((cl->cmd == MX_COM_STMT_RESET || cl->cmd == MX_COM_STMT_FETCH) && !on_server) {
        /* No backend holds a cursor or long data for it: nothing to reset,
         * nothing to fetch. */
        mx__drop_command(cl);
        if (cl->cmd == MX_COM_STMT_RESET)
            return mx__send_ok(cl, 1);
        return mx__send_err(cl, 1, 1421, "HY000", "The statement (%u) has no open cursor.", vid);
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
int mx__dispatch_bulk(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have, mx_sql_info_t *info)
{
    const char *why = mx_stmt_bulk_refusal(p, have);
    if (why) {
        mx__drop_command(cl);
        return mx__send_err(cl, 1, MX_ER_MALFORMED_PACKET, "08S01", "%s", why);
    }
    int rc = mx__dispatch_stmt(cl, p, len, have, info);
    if (rc < 0)
        info->cls = cl->cls = MX_SQL_WRITE;
    return rc;
}
