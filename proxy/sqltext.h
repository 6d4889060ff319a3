/* One scan of a statement text and what the session does with it (sqltext.c). */
#ifndef MX_PROXY_SQLTEXT_H
#define MX_PROXY_SQLTEXT_H

#include "proxy-t.h"
#include "router/classify.h"
#include "router/policy.h"

/* COM_QUERY and COM_STMT_PREPARE, whole: one scan of the text (classes,
 * flags, readonly verdict, database names, user variables), then answer or
 * refuse what manx handles itself and rewrite what must be.  Returns -1
 * when the command goes on to a backend, else whether the caller may go on. */
int mx__dispatch_query(mx_client_t *cl, mx_sql_info_t *info);

#endif
