/* HTTP POSTs on a libuv loop with libcurl's multi socket interface (the
 * pattern of curl's docs/examples/multi-uv.c): curl says which sockets to
 * watch (on_socket: one uv_poll per socket) and when to wake it
 * (on_timer: one uv_timer); every event goes back to
 * curl_multi_socket_action, then finished transfers are handed to the
 * caller and the caller's pump runs.  Nothing here blocks but
 * mx_http_post_blocking. */
#include "etcd_http.h"

#include <curl/curl.h>

_Static_assert(sizeof(((mx_http_req_t *)0)->error) >= CURL_ERROR_SIZE, "curl's error buffer");
#include <stdlib.h>
#include <string.h>

struct mx_http_s {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    mx_http_done_fn done;
    mx_http_pump_fn pump;
    void *arg;
    mx_http_tls_t tls;
};

static void set_tls(const mx_http_t *h, CURL *easy)
{
    if (h->tls.cacert && h->tls.cacert[0])
        curl_easy_setopt(easy, CURLOPT_CAINFO, h->tls.cacert);
    if (h->tls.cert && h->tls.cert[0]) {
        curl_easy_setopt(easy, CURLOPT_SSLCERT, h->tls.cert);
        curl_easy_setopt(easy, CURLOPT_SSLKEY, h->tls.key);
    }
}

typedef struct {
    uv_poll_t poll;
    curl_socket_t fd;
    mx_http_t *h;
} sock_t;

static void check_done(mx_http_t *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        mx_http_req_t *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = m->data.result;
        long status = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(h->multi, m->easy_handle);
        h->done(h->arg, r, (int)rc, status);
    }
}

static void after_events(mx_http_t *h)
{
    check_done(h);
    if (h->pump)
        h->pump(h->arg);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock_t *k = p->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    mx_http_t *h = k->h;
    curl_multi_socket_action(h->multi, k->fd, flags, &running);
    after_events(h);
}

static void on_sock_closed(uv_handle_t *hd)
{
    free(hd->data);
}

static int on_socket(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
    (void)easy;
    mx_http_t *h = userp;
    sock_t *k = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (k) {
            uv_poll_stop(&k->poll);
            uv_close((uv_handle_t *)&k->poll, on_sock_closed);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    if (!k) {
        k = calloc(1, sizeof(*k));
        if (!k || uv_poll_init_socket(h->loop, &k->poll, s) < 0) {
            free(k);
            return -1;
        }
        k->fd = s;
        k->h = h;
        k->poll.data = k;
        curl_multi_assign(h->multi, s, k);
    }
    int ev = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
        ev |= UV_READABLE;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&k->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    mx_http_t *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    after_events(h);
}

static int on_timer(CURLM *m, long ms, void *userp)
{
    (void)m;
    mx_http_t *h = userp;
    if (ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, (uint64_t)ms, 0);
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    mx_http_req_t *r = arg;
    size_t len = size * n;
    if (r->len + len + 1 > MX_HTTP_MAX_BODY) {
        r->too_big = true;
        return 0;
    }
    char *b = realloc(r->buf, r->len + len + 1);
    if (!b)
        return 0;
    r->buf = b;
    memcpy(r->buf + r->len, p, len);
    r->len += len;
    r->buf[r->len] = '\0';
    if (r->first_line && memchr(r->buf, '\n', r->len)) {
        r->got_line = true;
        return 0; /* the stream stays open after its answer: cut it */
    }
    return len;
}

static size_t on_discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

mx_http_t *mx_http_new(uv_loop_t *loop, const mx_http_tls_t *tls, mx_http_done_fn done, mx_http_pump_fn pump,
                       void *arg)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    mx_http_t *h = calloc(1, sizeof(*h));
    if (!h || !(h->multi = curl_multi_init())) {
        free(h);
        return NULL;
    }
    h->loop = loop;
    if (tls)
        h->tls = *tls;
    h->done = done;
    h->pump = pump;
    h->arg = arg;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    return h;
}

void mx_http_req_free(mx_http_req_t *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdr);
    free(r->body);
    free(r->buf);
    free(r);
}

mx_http_req_t *mx_http_post(mx_http_t *h, const char *url, char *body, long connect_ms, long timeout_ms,
                            bool first_line, void *user)
{
    mx_http_req_t *r = calloc(1, sizeof(*r));
    if (!r || !body) {
        free(r);
        free(body);
        return NULL;
    }
    r->user = user;
    r->body = body;
    r->first_line = first_line;
    CURL *easy = r->easy = curl_easy_init();
    r->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (!easy || !r->hdr) {
        mx_http_req_free(r);
        return NULL;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, r->hdr);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    set_tls(h, easy);
    if (timeout_ms > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
        mx_http_req_free(r);
        return NULL;
    }
    return r;
}

void mx_http_cancel(mx_http_t *h, mx_http_req_t *r)
{
    if (!r)
        return;
    curl_multi_remove_handle(h->multi, r->easy);
    mx_http_req_free(r);
}

void mx_http_consume(mx_http_req_t *r, size_t n)
{
    if (n > r->len)
        n = r->len;
    memmove(r->buf, r->buf + n, r->len - n);
    r->len -= n;
    if (r->buf)
        r->buf[r->len] = '\0';
}

const char *mx_http_strerror(int code)
{
    return curl_easy_strerror((CURLcode)code);
}

static void on_closed(uv_handle_t *hd)
{
    free(hd->data);
}

void mx_http_close(mx_http_t *h)
{
    if (!h)
        return;
    /* Closes the connections curl keeps: their polls close through on_socket. */
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, on_closed);
}

bool mx_http_post_blocking(mx_http_t *h, const char *url, const char *body, long timeout_ms)
{
    CURL *easy = curl_easy_init();
    if (!easy)
        return false;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_discard);
    set_tls(h, easy);
    CURLcode rc = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    return rc == CURLE_OK;
}
