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

#endif
