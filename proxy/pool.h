/* Per-worker, per-host pools of backend connections: idle lists by
 * flavour, min_con kept warm, this worker's share of max_con never
 * exceeded, and a FIFO of sessions waiting for a connection. */
#ifndef MX_PROXY_POOL_H
#define MX_PROXY_POOL_H

#include "proxy-t.h"

/* An empty pool of worker w for backend account slot `acct`, serving no
 * host until mx_pool_adopt. */
void mx_pool_init(mx_pool_t *p, mx_worker_t *w, int acct);
/* The pool serves host h of generation cfg from now on (its limits, its
 * dataHost, its account's credentials), taking a reference on cfg.  The
 * same host slot means the same server, so its connections stay.
 * `retired`: only to finish what an older generation's session asked for. */
void mx_pool_adopt(mx_pool_t *p, mx_config_t *cfg, const mx_host_t *h, bool retired);
/* Host removed by a reload: idle connections close now, busy ones when
 * their session releases them; the janitor lets go of the generation once
 * the pool is empty. */
void mx_pool_retire(mx_pool_t *p);
/* The credentials servers of pool p log in with. */
const char *mx_pool_user(const mx_pool_t *p);
const char *mx_pool_password(const mx_pool_t *p);
/* Take one of the host's max_con slots (shared by all workers); false when
 * all are in use.  Every reserved slot is given back with unreserve. */
bool mx_pool_reserve(mx_pool_t *p);
void mx_pool_unreserve(mx_pool_t *p);
/* Returns a linked-ready idle server of the client's flavour that is clean
 * or was last used by the client's own user, or NULL after queueing the
 * client as a waiter (starting a connection if the pool may grow, or
 * resetting an idle server another user left).  A backend never goes from
 * one manx user to another without COM_RESET_CONNECTION in between. */
mx_server_t *mx_pool_acquire(mx_pool_t *p, mx_client_t *cl, uint8_t flavor);
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
