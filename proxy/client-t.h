/* What the rooms of a client session share (client.c, command.c, login.c,
 * local.c, sqltext.c, session.c, relay.c): the session log macros and the
 * values of the session's own state fields. */
#ifndef MX_PROXY_CLIENT_T_H
#define MX_PROXY_CLIENT_T_H

#include <stdint.h>

#include "log.h"

#define CL_LOG(cl, lvl, fmt, ...)                                                        \
    mx_log(lvl, "C-%u %s@%s db=%s: " fmt, (cl)->id, (cl)->user_name[0] ? (cl)->user_name : "-", \
           (cl)->peer, (cl)->schema ? (cl)->schema->name : "", ##__VA_ARGS__)
#define CL_DEBUG(cl, fmt, ...) \
    do { if (mx_log_level >= MX_LOG_DEBUG) CL_LOG(cl, MX_LOG_DEBUG, fmt, ##__VA_ARGS__); } while (0)

#define MX_DEFAULT_COLLATION 45

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

#endif
