/* The I/O layer under client sessions and backend connections: reads into
 * the connection's own buffer (allocated only while input is pending),
 * writes with uv_try_write first and queues only the remainder, and runs
 * TLS through memory BIOs.  Events go to the owner's io function. */
#ifndef MX_PROXY_CONN_H
#define MX_PROXY_CONN_H

#include "proxy-t.h"

enum mx_conn_event {
    MX_EV_READ,       /* new bytes at buf[rpos..rend) */
    MX_EV_EOF,        /* peer closed, read or write failed: owner must close */
    MX_EV_DRAIN,      /* all queued writes finished */
    MX_EV_TLS_READY,  /* server-side TLS handshake completed */
};

/* Prepare the TCP handle on w's loop; its bytes count on w's counters of
 * `side` (MX_SIDE_*), events go to on_event.  Returns 0 or a negative
 * libuv error. */
int mx_conn_init(mx_conn_t *c, mx_worker_t *w, int side, mx_conn_event_fn on_event);
int mx_conn_read_start(mx_conn_t *c);
void mx_conn_read_stop(mx_conn_t *c);
/* Write the buffers (copied only if the socket cannot take them now).
 * Returns false when the connection is closing or the write failed. */
bool mx_conn_write(mx_conn_t *c, const uv_buf_t *bufs, unsigned n) __attribute__((warn_unused_result));
/* Write and reset a packet buffer. */
bool mx_conn_write_pkt(mx_conn_t *c, mx_pktbuf_t *b) __attribute__((warn_unused_result));
/* Drop processed bytes; give the buffer back when nothing is left. */
void mx_conn_consume_done(mx_conn_t *c);
/* Make room: move the unprocessed tail to the start of the buffer. */
void mx_conn_compact(mx_conn_t *c);
bool mx_conn_tls_start(mx_conn_t *c, SSL_CTX *ctx, bool server_side, const char *sni);
/* TLS keeps decrypted bytes the read buffer had no room for; once the
 * owner made room, pull them in.  True when new bytes arrived. */
bool mx_conn_tls_more(mx_conn_t *c);
void mx_conn_close(mx_conn_t *c, uv_close_cb cb);
static inline uint32_t mx_conn_avail(const mx_conn_t *c) { return c->rend - c->rpos; }

#endif
