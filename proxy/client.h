/* Client sessions: the MySQL server side of manx.  Login and auth against
 * manx's own users, commands answered locally (ping, USE, reset...), and
 * everything else forwarded to a pooled backend with the session's state
 * replayed first; responses stream back packet by packet. */
#ifndef MX_PROXY_CLIENT_H
#define MX_PROXY_CLIENT_H

#include "proxy-t.h"

void mx_client_accept(mx_worker_t *w, uv_stream_t *listener, bool admin);
/* Stopping: close idle sessions now, the others when their statement
 * ends; force closes everything. */
void mx_client_shutdown_step(mx_worker_t *w, bool force);
uint8_t mx_client_flavor(const mx_client_t *cl);
/* KILL [QUERY] id for a session of this worker (no-op if it is not here). */
void mx_client_kill(mx_worker_t *w, uint32_t id, bool query_only);

/* Called by the pool and backend connections. */
void mx_client_got_server(mx_client_t *cl, mx_server_t *sv);
void mx_client_pool_failed(mx_client_t *cl, mx_pool_t *p, const char *reason);
void mx_client_server_lost(mx_client_t *cl, mx_server_t *sv, const char *why);
void mx_client_server_data(mx_client_t *cl);
void mx_client_server_drained(mx_client_t *cl);
/* The internal command (mx_server_internal) the session ran on its linked
 * backend finished: ok, or failed with err. */
void mx__client_internal_done(mx_client_t *cl, bool ok, const mx_err_t *err);

/* Replies for the admin console (admin.c), sequence id 1. */
bool mx_client_send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
                              size_t nrows);
bool mx_client_send_ok(mx_client_t *cl);
bool mx_client_send_error(mx_client_t *cl, uint16_t code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
