/* The admin console (admin_listen): `show @@datasource`, `show @@heartbeat`,
 * `switch @@datasource` and friends over the MySQL protocol. */
#ifndef MX_PROXY_ADMIN_H
#define MX_PROXY_ADMIN_H

#include "proxy-t.h"

/* Run one console statement of a logged-in admin session and send its
 * answer.  Returns false when the session was closed. */
bool mx_admin_query(mx_client_t *cl, const uint8_t *q, size_t n);

/* Replies, from client.c (sequence id 1). */
bool mx_client_send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
                              size_t nrows);
bool mx_client_send_ok(mx_client_t *cl);
bool mx_client_send_error(mx_client_t *cl, uint16_t code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
