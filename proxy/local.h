/* Commands manx answers or maps itself (local.c). */
#ifndef MX_PROXY_LOCAL_H
#define MX_PROXY_LOCAL_H

#include "proxy-t.h"
#include "router/classify.h"
#include "router/policy.h"

/* Commands manx answers from the session alone.  Returns -1 when the
 * command is not one of them, else whether the caller may go on. */
int mx__dispatch_local(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have);

/* COM_STMT_*: statement ids are manx's: find the statement; it is prepared
 * on whichever backend the command runs (see stmt.h).  Returns -1 when the
 * command goes on to a backend (info filled), else whether the caller may go on. */
int mx__dispatch_stmt(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have, mx_sql_info_t *info);

/* COM_STMT_BULK_EXECUTE, negotiated: a packet manx cannot read gets an
 * ERR; else it goes on as an EXECUTE does (statement id mapped, types
 * re-sent), always to the writer: bulk runs INSERT, UPDATE and DELETE. */
int mx__dispatch_bulk(mx_client_t *cl, const uint8_t *p, uint32_t len, uint32_t have, mx_sql_info_t *info);

#endif
