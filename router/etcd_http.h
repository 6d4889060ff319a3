/* HTTP POSTs on a libuv loop: libcurl's multi socket interface driven by
 * the loop's polls and a timer, so the heartbeat thread talks to etcd
 * without blocking (router/coord_etcd.c).  Answers are kept whole up to
 * MX_HTTP_MAX_BODY; a stream (no timeout) keeps what is not consumed yet. */
#ifndef MX_ROUTER_ETCD_HTTP_H
#define MX_ROUTER_ETCD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define MX_HTTP_MAX_BODY (1u << 20)

typedef struct mx_http_s mx_http_t;

/* TLS files for https URLs ("" = none: the system CAs verify the server,
 * no client certificate). */
typedef struct mx_http_tls_s {
    const char *cacert, *cert, *key;
} mx_http_tls_t;

typedef struct mx_http_req_s {
    void *user;                  /* the caller's */
    char *buf;                   /* the answer so far, NUL-terminated (NULL before any byte) */
    size_t len;
    bool got_line;               /* first_line: the first line arrived (the transfer is then cut) */
    bool too_big;                /* the answer outgrew MX_HTTP_MAX_BODY: cut, never parsed */
    char error[256];             /* curl's words for a failure (TLS, resolver...), "" none */
    /* private */
    void *easy;
    void *hdr;
    char *body;
    bool first_line;
} mx_http_req_t;

/* A request ended (answered, failed or cut): curl's result code, the HTTP
 * status (0 none).  The request is the callee's to free. */
typedef void (*mx_http_done_fn)(void *arg, mx_http_req_t *r, int code, long status);
/* After every batch of socket events, outside curl's callbacks: where the
 * caller may consume streams, send and cancel. */
typedef void (*mx_http_pump_fn)(void *arg);

/* tls: copied (the strings must outlive h; NULL = none). */
mx_http_t *mx_http_new(uv_loop_t *loop, const mx_http_tls_t *tls, mx_http_done_fn done, mx_http_pump_fn pump,
                       void *arg);
/* POST `body` (JSON; taken, freed with the request) to url.  timeout_ms 0:
 * a stream without an overall timeout.  first_line: the answer is one
 * line of a stream that stays open (etcd's lease keepalive): cut it there.
 * NULL when curl cannot take it (the body is freed). */
mx_http_req_t *mx_http_post(mx_http_t *h, const char *url, char *body, long connect_ms, long timeout_ms,
                            bool first_line, void *user);
/* Remove a request in flight without calling done, and free it.  Never
 * from inside curl's callbacks (use the pump). */
void mx_http_cancel(mx_http_t *h, mx_http_req_t *r);
void mx_http_req_free(mx_http_req_t *r);
/* Drop the first n bytes of a stream's buffer (consumed). */
void mx_http_consume(mx_http_req_t *r, size_t n);
const char *mx_http_strerror(int code);
/* Close the handles (the loop can then end; requests are cancelled
 * first by their owner).  h is freed when they are closed. */
void mx_http_close(mx_http_t *h);
/* A blocking POST, its answer discarded (for a last word at shutdown only). */
bool mx_http_post_blocking(mx_http_t *h, const char *url, const char *body, long timeout_ms);

#endif
