/* Connection I/O shared by client sessions and backend connections: reads
 * land in the connection's own buffer (h2o's uv-binding style alloc_cb),
 * writes try the socket synchronously and copy only what it did not take,
 * and TLS runs through OpenSSL memory BIOs so the loop never blocks. */
#include "conn.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

typedef struct mx_wreq_s {
    uv_write_t req;
    mx_conn_t *conn;
    size_t len;
    uint8_t data[];
} mx_wreq_t;

static inline void conn_event(mx_conn_t *c, int ev)
{
    c->on_event(c, ev);
}

int mx_conn_init(mx_conn_t *c, mx_worker_t *w, int side, mx_conn_event_fn on_event)
{
    memset(c, 0, sizeof(*c));
    c->side = (uint8_t)side;
    c->on_event = on_event;
    c->w = w;
    c->born_ms = uv_now(&w->loop);
    c->tcp.data = c;
    return uv_tcp_init(&w->loop, &c->tcp);
}

static bool ensure_buf(mx_conn_t *c)
{
    if (c->buf)
        return true;
    c->buf = mx_worker_buf_get(c->w);
    c->rpos = c->rend = 0;
    return c->buf != NULL;
}

void mx_conn_compact(mx_conn_t *c)
{
    if (!c->buf || c->rpos == 0)
        return;
    uint32_t n = c->rend - c->rpos;
    if (n)
        memmove(c->buf, c->buf + c->rpos, n);
    c->rpos = 0;
    c->rend = n;
}

void mx_conn_consume_done(mx_conn_t *c)
{
    if (c->buf && c->rpos == c->rend) {
        mx_worker_buf_put(c->w, c->buf);
        c->buf = NULL;
        c->rpos = c->rend = 0;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    mx_conn_t *c = h->data;
    (void)suggested;
    if (c->ssl) {
        out->base = (char *)c->w->tls_scratch;
        out->len = sizeof(c->w->tls_scratch);
        return;
    }
    if (!ensure_buf(c)) {
        out->base = NULL;
        out->len = 0;
        return;
    }
    if (c->rend == MX_BUF_SIZE)
        mx_conn_compact(c);
    out->base = (char *)c->buf + c->rend;
    out->len = MX_BUF_SIZE - c->rend;
}

static bool tls_flush(mx_conn_t *c);

/* Move decrypted bytes from OpenSSL into the read buffer.  Returns false on
 * a fatal TLS error. */
static bool tls_pull(mx_conn_t *c, bool *got)
{
    *got = false;
    if (!c->tls_done) {
        int rc = SSL_do_handshake(c->ssl);
        if (!tls_flush(c))
            return false;
        if (rc != 1) {
            int e = SSL_get_error(c->ssl, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return true;
            return false;
        }
        c->tls_done = true;
        conn_event(c, MX_EV_TLS_READY);
        if (c->closing)
            return true;
    }
    for (;;) {
        if (!ensure_buf(c))
            return false;
        if (c->rend == MX_BUF_SIZE)
            mx_conn_compact(c);
        if (c->rend == MX_BUF_SIZE)
            return true; /* full: the owner must consume first */
        int n = SSL_read(c->ssl, c->buf + c->rend, (int)(MX_BUF_SIZE - c->rend));
        if (n > 0) {
            c->rend += (uint32_t)n;
            *got = true;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (!tls_flush(c))
            return false;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return true;
        return false;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    mx_conn_t *c = s->data;
    (void)b;
    if (c->closing)
        return;
    if (nread == UV_ENOBUFS) {
        /* Buffer full: the owner is waiting for the other side to drain. */
        mx_conn_read_stop(c);
        return;
    }
    if (nread < 0) {
        c->eof = true;
        mx_conn_read_stop(c);
        conn_event(c, MX_EV_EOF);
        return;
    }
    if (nread == 0)
        return;
    c->bytes_in += (uint64_t)nread;
    c->w->bytes_in[c->side] += (uint64_t)nread;
    if (c->ssl) {
        BIO_write(c->rbio, c->w->tls_scratch, (int)nread);
        bool got;
        if (!tls_pull(c, &got)) {
            c->eof = true;
            mx_conn_read_stop(c);
            conn_event(c, MX_EV_EOF);
            return;
        }
        if (!got || c->closing)
            return;
    } else {
        c->rend += (uint32_t)nread;
    }
    conn_event(c, MX_EV_READ);
}

int mx_conn_read_start(mx_conn_t *c)
{
    if (c->reading || c->closing)
        return 0;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc == 0)
        c->reading = true;
    return rc;
}

void mx_conn_read_stop(mx_conn_t *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void on_write(uv_write_t *req, int status)
{
    mx_wreq_t *wr = MX_CONTAINER_OF(req, mx_wreq_t, req);
    mx_conn_t *c = wr->conn;
    c->wq_bytes -= wr->len;
    free(wr);
    if (c->closing)
        return;
    if (status < 0) {
        c->eof = true;
        conn_event(c, MX_EV_EOF);
        return;
    }
    if (c->wq_bytes == 0)
        conn_event(c, MX_EV_DRAIN);
}

static bool raw_write(mx_conn_t *c, const uv_buf_t *bufs, unsigned n)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    if (total == 0)
        return true;
    c->bytes_out += total;
    c->w->bytes_out[c->side] += total;
    size_t done = 0;
    if (c->wq_bytes == 0) {
        int rc = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (rc >= 0)
            done = (size_t)rc;
        else if (rc != UV_EAGAIN && rc != UV_ENOSYS)
            return false;
        if (done == total)
            return true;
    }
    /* The socket did not take everything: copy the rest and queue it. */
    mx_wreq_t *wr = malloc(sizeof(*wr) + total - done);
    if (!wr)
        return false;
    size_t skip = done, off = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t l = bufs[i].len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        memcpy(wr->data + off, bufs[i].base + skip, l - skip);
        off += l - skip;
        skip = 0;
    }
    wr->conn = c;
    wr->len = off;
    uv_buf_t ub = uv_buf_init((char *)wr->data, (unsigned)off);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &ub, 1, on_write) != 0) {
        free(wr);
        return false;
    }
    c->wq_bytes += off;
    return true;
}

/* Send whatever OpenSSL produced for the peer. */
static bool tls_flush(mx_conn_t *c)
{
    char *p;
    long n = BIO_get_mem_data(c->wbio, &p);
    if (n <= 0)
        return true;
    uv_buf_t ub = uv_buf_init(p, (unsigned)n);
    bool ok = raw_write(c, &ub, 1);
    (void)BIO_reset(c->wbio);
    return ok;
}

bool mx_conn_write(mx_conn_t *c, const uv_buf_t *bufs, unsigned n)
{
    if (c->closing || c->eof)
        return false;
    if (!c->ssl)
        return raw_write(c, bufs, n);
    for (unsigned i = 0; i < n; i++) {
        if (bufs[i].len == 0)
            continue;
        if (SSL_write(c->ssl, bufs[i].base, (int)bufs[i].len) <= 0)
            return false;
    }
    return tls_flush(c);
}

bool mx_conn_write_pkt(mx_conn_t *c, mx_pktbuf_t *b)
{
    if (b->failed) {
        mx_pktbuf_reset(b);
        return false;
    }
    uv_buf_t ub = uv_buf_init((char *)b->data, (unsigned)b->len);
    bool ok = mx_conn_write(c, &ub, 1);
    mx_pktbuf_reset(b);
    return ok;
}

bool mx_conn_tls_start(mx_conn_t *c, SSL_CTX *ctx, bool server_side, const char *sni)
{
    c->ssl = SSL_new(ctx);
    if (!c->ssl)
        return false;
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->rbio || !c->wbio) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        SSL_free(c->ssl);
        c->ssl = NULL;
        return false;
    }
    BIO_set_mem_eof_return(c->rbio, -1);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    if (server_side) {
        SSL_set_accept_state(c->ssl);
    } else {
        SSL_set_connect_state(c->ssl);
        if (sni)
            SSL_set_tlsext_host_name(c->ssl, sni);
    }
    if (!server_side) {
        int rc = SSL_do_handshake(c->ssl);
        (void)rc;
        return tls_flush(c);
    }
    /* The client may have sent its ClientHello right behind the
     * SSLRequest: what is left in the buffer is TLS, not plaintext. */
    if (c->buf && c->rend > c->rpos) {
        BIO_write(c->rbio, c->buf + c->rpos, (int)(c->rend - c->rpos));
        c->rpos = c->rend = 0;
        bool got;
        if (!tls_pull(c, &got))
            return false;
        if (got && !c->closing)
            conn_event(c, MX_EV_READ);
    } else {
        c->rpos = c->rend = 0;
    }
    return true;
}

bool mx_conn_tls_more(mx_conn_t *c)
{
    if (!c->ssl || !c->tls_done || c->closing || c->eof)
        return false;
    if (SSL_pending(c->ssl) <= 0 && BIO_ctrl_pending(c->rbio) == 0)
        return false;
    uint32_t before = c->buf ? c->rend - c->rpos : 0;
    bool got;
    if (!tls_pull(c, &got)) {
        c->eof = true;
        mx_conn_read_stop(c);
        conn_event(c, MX_EV_EOF);
        return false;
    }
    return got && c->buf && c->rend - c->rpos > before;
}

void mx_conn_close(mx_conn_t *c, uv_close_cb cb)
{
    if (c->closing)
        return;
    c->closing = true;
    mx_conn_read_stop(c);
    if (c->buf) {
        mx_worker_buf_put(c->w, c->buf);
        c->buf = NULL;
    }
    if (c->ssl) {
        SSL_free(c->ssl); /* frees both BIOs */
        c->ssl = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, cb);
}
