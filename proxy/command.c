/* Reading and consuming one client command: the command in hand starts at
 * conn.rpos (its header is there), unless it was assembled in cl->big.
 * Whoever is done with it - answered, refused, gave up on it - calls
 * mx__drop_command(), the one way to consume a command: it takes what has
 * arrived and remembers how much more to discard (in_skip, in_skip_cont),
 * so the read position only ever moves over bytes that are there, whatever
 * size the client announced.  COM_QUERY and COM_STMT_PREPARE are always
 * looked at whole: one too big for the read buffer is assembled in
 * cl->big, bounded by max_packet.  Also the session's timers. */
#include "command.h"

#include <stdlib.h>
#include <string.h>

#include "client-t.h"
#include "client.h"
#include "conn.h"

/* The payload of the command in hand: `len` its length (of the first
 * packet when it goes on past 0xFFFFFF and is streamed), `have` the bytes
 * of it at hand. */
const uint8_t *mx__cmd_payload(const mx_client_t *cl, uint32_t *len, uint32_t *have)
{
    if (cl->big_ready) {
        *len = *have = (uint32_t)(cl->big.len - cl->big_off);
        return cl->big.data + cl->big_off;
    }
    const mx_conn_t *c = &cl->conn;
    const uint8_t *h = c->buf + c->rpos;
    *len = mx_pkt_len(h);
    uint32_t avail = mx_conn_avail(c) - MX_PKT_HDR;
    *have = avail < *len ? avail : *len;
    return h + MX_PKT_HDR;
}

bool mx__bytes_put(mx_bytes_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

/* Empty it; a big one gives its memory back at once, so sessions stay small. */
static void bytes_clear(mx_bytes_t *b)
{
    b->len = 0;
    if (b->cap > MX_BUF_SIZE) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
}

static void big_release(mx_client_t *cl)
{
    cl->big_ready = cl->big_filling = false;
    cl->big_off = 0;
    bytes_clear(&cl->big);
}

/* Done with the command in hand: consume it, whole or not. */
void mx__drop_command(mx_client_t *cl)
{
    if (cl->big_ready) {
        big_release(cl);
        return;
    }
    mx_conn_t *c = &cl->conn;
    if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
        return; /* nothing in hand (already consumed) */
    uint32_t len = mx_pkt_len(c->buf + c->rpos);
    uint64_t total = (uint64_t)len + MX_PKT_HDR;
    uint32_t take = mx_conn_avail(c) < total ? mx_conn_avail(c) : (uint32_t)total;
    c->rpos += take;
    cl->in_skip = total - take;
    cl->in_skip_cont = len == MX_PKT_MAX;
}

/* Discard what remains of a dropped command.  Returns true when it is all
 * gone and the next command can be looked at. */
bool mx__discard_input(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    while (cl->in_skip || cl->in_skip_cont) {
        if (cl->in_skip == 0) {
            /* The dropped packet was 0xFFFFFF long: the next one is part of it. */
            if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
                return false;
            uint32_t len = mx_pkt_len(c->buf + c->rpos);
            cl->in_skip = (uint64_t)len + MX_PKT_HDR;
            cl->in_skip_cont = len == MX_PKT_MAX;
        }
        if (!c->buf || mx_conn_avail(c) == 0)
            return false;
        uint32_t take = mx_conn_avail(c) < cl->in_skip ? mx_conn_avail(c) : (uint32_t)cl->in_skip;
        c->rpos += take;
        cl->in_skip -= take;
    }
    return true;
}

/* Copy the command at rpos into cl->big as it arrives, following
 * continuation packets.  Returns 1 when it is whole, 0 when more must
 * arrive, -1 when it exceeds max_packet (the client was closed). */
int mx__assemble(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    for (;;) {
        if (cl->big_left == 0) {
            if (cl->big_filling && !cl->big_cont) {
                cl->big_filling = false;
                cl->big_ready = true;
                return 1;
            }
            if (!c->buf || mx_conn_avail(c) < MX_PKT_HDR)
                return 0;
            const uint8_t *h = c->buf + c->rpos;
            uint32_t len = mx_pkt_len(h);
            if (cl->big.len + len > cl->cfg->max_packet) {
                mx__send_err(cl, 1, MX_ER_NET_PACKET_TOO_LARGE, "08S01",
                         "Got a packet bigger than 'max_allowed_packet' bytes");
                mx__client_close(cl, "packet too large");
                return -1;
            }
            c->rpos += MX_PKT_HDR;
            cl->big_filling = true;
            cl->big_left = len;
            cl->big_cont = len == MX_PKT_MAX;
            continue;
        }
        if (!c->buf || mx_conn_avail(c) == 0)
            return 0;
        uint32_t take = mx_conn_avail(c) < cl->big_left ? mx_conn_avail(c) : cl->big_left;
        if (!mx__bytes_put(&cl->big, c->buf + c->rpos, take)) {
            mx__client_close(cl, "out of memory");
            return -1;
        }
        c->rpos += take;
        cl->big_left -= take;
    }
}

/* Write `len` payload bytes to the backend as one command (packets of at
 * most 0xFFFFFF bytes, sequence ids from 0), without copying them unless
 * the socket cannot take them now. */
bool mx__send_payload(mx_conn_t *to, const uint8_t *p, size_t len)
{
    enum { MAXP = 80 };            /* 80 x 16 MB covers max_packet's 1 GB */
    uint8_t hdr[MAXP][MX_PKT_HDR];
    uv_buf_t ub[2 * MAXP];
    unsigned n = 0;
    size_t off = 0;
    for (uint8_t seq = 0;; seq++) {
        size_t chunk = len - off < MX_PKT_MAX ? len - off : MX_PKT_MAX;
        if (seq >= MAXP)
            return false;
        mx_wr_u24(hdr[seq], (uint32_t)chunk);
        hdr[seq][3] = seq;
        ub[n++] = uv_buf_init((char *)hdr[seq], MX_PKT_HDR);
        if (chunk)
            ub[n++] = uv_buf_init((char *)p + off, (unsigned)chunk);
        off += chunk;
        if (chunk < MX_PKT_MAX)
            break;
    }
    return mx_conn_write(to, ub, n);
}

/* Read the client again unless its buffer is still half full of data that
 * waits its turn, or the backend has not taken what was sent. */
void mx__resume_reading(mx_client_t *cl)
{
    mx_conn_t *c = &cl->conn;
    if (cl->state == CL_CLOSED || c->reading)
        return;
    if (cl->server && cl->server->conn.wq_bytes > 0)
        return;
    if (c->buf && mx_conn_avail(c) >= MX_BUF_SIZE / 2)
        return;
    mx_conn_read_start(c);
}

static void on_quiet_timeout(uv_timer_t *t)
{
    mx_client_t *cl = t->data;
    if (cl->timer_kind == CT_IDLE) {
        CL_LOG(cl, MX_LOG_INFO, "closing: idle for %d ms (client_idle_timeout)", cl->cfg->client_idle_timeout_ms);
        mx__client_close(cl, "idle timeout");
    } else if (cl->timer_kind == CT_READ) {
        CL_LOG(cl, MX_LOG_WARNING, "closing: no data for %d ms in the middle of a packet (net_read_timeout)",
               cl->cfg->net_read_timeout_ms);
        mx__client_close(cl, "read timeout");
    }
}

/* After the client's input was processed: time the silence that follows.
 * A client in the middle of a packet (or of LOCAL INFILE data) gets
 * net_read_timeout, an idle one client_idle_timeout; a session waiting for
 * its backend's answer or for the pool is not timed here. */
void mx__arm_timer(mx_client_t *cl)
{
    const mx_conn_t *c = &cl->conn;
    int kind = CT_NONE, ms = 0;
    if (cl->state == CL_IDLE) {
        bool partial = (c->buf && mx_conn_avail(c) > 0) || cl->in_skip || cl->in_skip_cont || cl->big_filling;
        if (partial) {
            kind = CT_READ;
            ms = cl->cfg->net_read_timeout_ms;
        } else if (cl->cfg->client_idle_timeout_ms > 0) {
            kind = CT_IDLE;
            ms = cl->cfg->client_idle_timeout_ms;
        }
    } else if ((cl->state == CL_ACTIVE && (cl->fwd_left || cl->fwd_cont)) || cl->state == CL_INFILE) {
        kind = CT_READ;
        ms = cl->cfg->net_read_timeout_ms;
    } else if (cl->timer_kind != CT_IDLE && cl->timer_kind != CT_READ) {
        return; /* login and pool waits keep their own timer */
    }
    if (kind == CT_NONE) {
        if (cl->timer_kind != CT_NONE) {
            uv_timer_stop(&cl->timer);
            cl->timer_kind = CT_NONE;
        }
        return;
    }
    cl->timer_kind = (uint8_t)kind;
    uv_timer_start(&cl->timer, on_quiet_timeout, (uint64_t)ms, 0);
}
