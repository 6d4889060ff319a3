/* Workers: one libuv loop per thread, each owning its listener socket
 * (SO_REUSEPORT), its client sessions and its backend pools. */
#ifndef MX_PROXY_WORKER_H
#define MX_PROXY_WORKER_H

#include "proxy-t.h"

/* The listening socket all workers share (created in the main thread, so
 * a bind error stops start-up).  Returns the fd or a negative errno. */
int mx_listen_socket(const char *addr);
/* Set up the worker's loop, its dup of listen_fd and pools for generation
 * cfg (the worker takes its own reference).  Returns 0 or a negative errno. */
int mx_worker_init(mx_worker_t *w, int index, int listen_fd, mx_config_t *cfg);
int mx_worker_start(mx_worker_t *w);
void mx_worker_stop(mx_worker_t *w);          /* from the main thread */
void mx_worker_join(mx_worker_t *w);
/* Free what mx_worker_init allocated once the loop has ended (every handle
 * closed).  mx_worker_join calls it; tests/fuzz/fuzz_client.c, which runs
 * the loop in its own thread instead of mx_worker_start's, calls it. */
void mx_worker_free(mx_worker_t *w);

/* Called by client.c when the last session of a stopping worker is gone:
 * close pools and timers so the loop can end. */
void mx_worker_finish(mx_worker_t *w);

/* From any thread: ask worker w to kill session `id` (its running
 * statement only, or the whole connection). */
void mx_worker_post_kill(mx_worker_t *w, uint32_t id, bool query_only);

uint8_t *mx_worker_buf_get(mx_worker_t *w);
void mx_worker_buf_put(mx_worker_t *w, uint8_t *buf);

/* From the main thread: worker w uses generation cfg from its next loop
 * turn on (new sessions at once, others at their next statement). */
void mx_worker_post_gen(mx_worker_t *w, mx_config_t *cfg);

/* On the worker, at the start of a statement: move session cl to the
 * worker's generation if it is on an older one and no backend is pinned
 * (a transaction, locks...: those finish on the generation they began
 * in).  Returns NULL, or why the session cannot go on (its user was
 * removed, or may no longer use its schema): the caller ends it. */
const char *mx_worker_session_gen(mx_client_t *cl);

/* The pool serving host slot `host` for backend account slot `acct` on
 * this worker, NULL if no generation has named it.  Any thread (the
 * console reads counters); only the worker may use more than pub_*. */
mx_pool_t *mx_worker_pool(mx_worker_t *w, int host, int acct);
/* On the worker, for routing a statement of a session on generation cfg. */
mx_pool_t *mx_worker_pool_in(mx_worker_t *w, mx_config_t *cfg, int host, int acct);

/* Parse "ip:port" / "[v6]:port" into a sockaddr. */
int mx_parse_listen(const char *s, struct sockaddr_storage *ss);

#endif
