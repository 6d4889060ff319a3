/* The admin console (admin_listen): `show @@datasource`, `show @@heartbeat`,
 * `switch @@datasource` and friends over the MySQL protocol. */
#ifndef MX_PROXY_ADMIN_H
#define MX_PROXY_ADMIN_H

#include "proxy-t.h"

/* Run one console statement of a logged-in admin session and send its
 * answer.  Returns false when the session was closed. */
bool mx_admin_query(mx_client_t *cl, const uint8_t *q, size_t n);

#endif
