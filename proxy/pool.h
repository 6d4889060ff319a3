/* Per-worker, per-host pools of backend connections: idle lists by
 * flavour, min_con kept warm, this worker's share of max_con never
 * exceeded, and a FIFO of sessions waiting for a connection. */
#ifndef MX_PROXY_POOL_H
#define MX_PROXY_POOL_H

#include "proxy-t.h"

void mx_pool_init(mx_pool_t *p, mx_worker_t *w, const mx_host_t *h);
/* Take one of the host's max_con slots (shared by all workers); false when
 * all are in use.  Every reserved slot is given back with unreserve. */
bool mx_pool_reserve(mx_pool_t *p);
void mx_pool_unreserve(mx_pool_t *p);
/* Returns a linked-ready idle server, or NULL after queueing the client as a
 * waiter (and starting a connection if the pool may grow).  `hint` is the
 * server the client used last: taken first when it is idle here. */
mx_server_t *mx_pool_acquire(mx_pool_t *p, mx_client_t *cl, uint8_t flavor, mx_server_t *hint);
/* A waiter gave up (timeout or disconnect). */
void mx_pool_cancel_wait(mx_pool_t *p, mx_client_t *cl);
/* A server became free (released by a session, or its connect/reset
 * finished): hand it to the first waiter or put it on the idle list. */
void mx_pool_offer(mx_server_t *sv);
/* A connection attempt failed: waiters get the error if nothing else is
 * coming for them. */
void mx_pool_connect_failed(mx_pool_t *p, const char *reason);
void mx_pool_janitor(mx_pool_t *p);
void mx_pool_close_all(mx_pool_t *p, const char *why);

#endif
