/* The admin console (admin_listen): Mycat's `show @@datasource`,
 * `show @@connection`, `kill @@connection`, `offline`, `reload @@config`
 * and friends over the MySQL protocol. */
#ifndef MX_PROXY_ADMIN_H
#define MX_PROXY_ADMIN_H

#include "proxy-t.h"

/* Run one console statement of a logged-in admin session and send its
 * answer.  Returns false when the session was closed. */
bool mx_admin_query(mx_client_t *cl, const uint8_t *q, size_t n);

/* On worker 0 (its console_async): the main thread finished the reload a
 * console session asked for; send that session its answer. */
void mx_admin_answer(uv_async_t *a);

#endif
