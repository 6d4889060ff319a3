/* MySQL packet codec: the bounds-checked payload reader, the parsers for the
 * packets manx interprets, and the packet writer used for everything manx
 * sends itself.  Parsers borrow from the payload they are given; nothing
 * here does I/O. */
#include "packet.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- reader ------------------------------------------------------------ */

/* Marks the reader bad and reports failure; the cursor does not move. */
static bool rd_fail(mx_rd_t *r)
{
    r->bad = true;
    return false;
}

bool mx_rd_u8(mx_rd_t *r, uint8_t *v)
{
    if (mx_rd_left(r) < 1)
        return rd_fail(r);
    *v = *r->p++;
    return true;
}

bool mx_rd_fixed(mx_rd_t *r, size_t n, uint64_t *v)
{
    if (n < 1 || n > 8 || mx_rd_left(r) < n)
        return rd_fail(r);
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    *v = x;
    return true;
}

int mx_lenenc_decode(const uint8_t *p, size_t n, uint64_t *v)
{
    if (n < 1)
        return 0;
    switch (p[0]) {
    case 0xfb:
    case 0xff:
        return -1;
    case 0xfc:
        if (n < 3)
            return 0;
        *v = mx_rd_u16(p + 1);
        return 3;
    case 0xfd:
        if (n < 4)
            return 0;
        *v = mx_rd_u24(p + 1);
        return 4;
    case 0xfe:
        if (n < 9)
            return 0;
        *v = mx_rd_u64(p + 1);
        return 9;
    default:
        *v = p[0];
        return 1;
    }
}

size_t mx_lenenc_size(uint64_t v)
{
    if (v < 251)
        return 1;
    if (v <= 0xffff)
        return 3;
    if (v <= 0xffffff)
        return 4;
    return 9;
}

bool mx_rd_lenenc(mx_rd_t *r, uint64_t *v, bool *is_null)
{
    if (mx_rd_left(r) >= 1 && r->p[0] == 0xfb && is_null) {
        r->p++;
        *is_null = true;
        *v = 0;
        return true;
    }
    int n = mx_lenenc_decode(r->p, mx_rd_left(r), v);
    if (n <= 0)
        return rd_fail(r);
    r->p += n;
    if (is_null)
        *is_null = false;
    return true;
}

bool mx_rd_bytes(mx_rd_t *r, size_t n, mx_str_t *out)
{
    if (mx_rd_left(r) < n)
        return rd_fail(r);
    out->p = r->p;
    out->len = n;
    r->p += n;
    return true;
}

bool mx_rd_lenenc_str(mx_rd_t *r, mx_str_t *out)
{
    const uint8_t *start = r->p;
    uint64_t n;
    if (!mx_rd_lenenc(r, &n, NULL))
        return false;
    if (n > mx_rd_left(r)) {
        r->p = start;
        return rd_fail(r);
    }
    return mx_rd_bytes(r, (size_t)n, out);
}

bool mx_rd_nulstr(mx_rd_t *r, mx_str_t *out)
{
    const uint8_t *nul = memchr(r->p, 0, mx_rd_left(r));
    if (!nul)
        return rd_fail(r);
    out->p = r->p;
    out->len = (size_t)(nul - r->p);
    r->p = nul + 1;
    return true;
}

bool mx_rd_eofstr(mx_rd_t *r, mx_str_t *out)
{
    out->p = r->p;
    out->len = mx_rd_left(r);
    r->p = r->end;
    return true;
}

/* A NUL-terminated string that some clients leave unterminated when it is
 * the last field of the packet: take the rest of the payload then. */
static void rd_nulstr_lenient(mx_rd_t *r, mx_str_t *out)
{
    if (!memchr(r->p, 0, mx_rd_left(r))) {
        mx_rd_eofstr(r, out);
        return;
    }
    mx_rd_nulstr(r, out);
}

static const mx_str_t empty_str = {(const uint8_t *)"", 0};

/* ---- handshakes -------------------------------------------------------- */

int mx_parse_handshake(const uint8_t *p, size_t len, mx_handshake_t *hs)
{
    mx_rd_t r;
    mx_str_t part1, part2, reserved;
    uint64_t v;
    uint8_t filler, auth_len = 0;

    memset(hs, 0, sizeof(*hs));
    hs->auth_plugin = empty_str;
    mx_rd_init(&r, p, len);
    if (!mx_rd_u8(&r, &hs->protocol) || hs->protocol != 10)
        return -1;
    if (!mx_rd_nulstr(&r, &hs->server_version) || !mx_rd_fixed(&r, 4, &v))
        return -1;
    hs->conn_id = (uint32_t)v;
    if (!mx_rd_bytes(&r, 8, &part1) || !mx_rd_u8(&r, &filler) || !mx_rd_fixed(&r, 2, &v))
        return -1;
    hs->caps = (uint32_t)v;
    memcpy(hs->scramble, part1.p, 8);
    hs->scramble_len = 8;

    /* Pre-4.1 servers stop after the lower capability flags. */
    if (mx_rd_left(&r) == 0)
        return 0;
    if (!mx_rd_u8(&r, &hs->charset) || !mx_rd_fixed(&r, 2, &v))
        return -1;
    hs->status = (uint16_t)v;
    if (!mx_rd_fixed(&r, 2, &v) || !mx_rd_u8(&r, &auth_len) || !mx_rd_bytes(&r, 10, &reserved))
        return -1;
    hs->caps |= (uint32_t)v << 16;
    /* MariaDB's extended capabilities, present only when the server says it
     * is not "CLIENT_MYSQL"; a MySQL server's reserved bytes mean nothing. */
    if (!(hs->caps & MX_CLIENT_LONG_PASSWORD))
        hs->ext_caps = mx_rd_u32(reserved.p + 6);

    if (hs->caps & MX_CLIENT_SECURE_CONNECTION) {
        /* Part 2 is max(13, auth_len - 8) bytes, normally 12 bytes of
         * scramble and a NUL. */
        size_t n2 = auth_len > 21 ? (size_t)auth_len - 8 : 13;
        if (n2 > mx_rd_left(&r))
            n2 = mx_rd_left(&r);
        if (!mx_rd_bytes(&r, n2, &part2))
            return -1;
        size_t use = part2.len;
        if (use > 0 && part2.p[use - 1] == 0)
            use--;
        if (use > MX_SCRAMBLE_LEN - 8)
            use = MX_SCRAMBLE_LEN - 8;
        memcpy(hs->scramble + 8, part2.p, use);
        hs->scramble_len = 8 + use;
    }
    if ((hs->caps & MX_CLIENT_PLUGIN_AUTH) && mx_rd_left(&r) > 0)
        rd_nulstr_lenient(&r, &hs->auth_plugin);
    return 0;
}

int mx_parse_hsresp(const uint8_t *p, size_t len, mx_hsresp_t *hr)
{
    mx_rd_t r;
    mx_str_t filler;
    uint64_t v;

    memset(hr, 0, sizeof(*hr));
    hr->user = hr->auth = hr->db = hr->plugin = hr->attrs = empty_str;
    mx_rd_init(&r, p, len);
    if (!mx_rd_fixed(&r, 4, &v))
        return -1;
    hr->caps = (uint32_t)v;
    /* manx speaks only the 4.1 protocol; the old 320 response has a
     * different layout. */
    if (!(hr->caps & MX_CLIENT_PROTOCOL_41))
        return -1;
    if (!mx_rd_fixed(&r, 4, &v) || !mx_rd_u8(&r, &hr->charset) || !mx_rd_bytes(&r, 23, &filler))
        return -1;
    hr->max_packet = (uint32_t)v;
    if (!(hr->caps & MX_CLIENT_LONG_PASSWORD))
        hr->ext_caps = mx_rd_u32(filler.p + 19);
    if (len == 32 && (hr->caps & MX_CLIENT_SSL)) {
        hr->is_ssl_request = true;
        return 0;
    }
    if (!mx_rd_nulstr(&r, &hr->user))
        return -1;

    /* Everything after the user name may be missing in responses from old
     * or minimal clients; absent fields stay empty. */
    if (mx_rd_left(&r) == 0)
        return 0;
    if (hr->caps & MX_CLIENT_PLUGIN_AUTH_LENENC) {
        if (!mx_rd_lenenc_str(&r, &hr->auth))
            return -1;
    } else if (hr->caps & MX_CLIENT_SECURE_CONNECTION) {
        uint8_t n;
        if (!mx_rd_u8(&r, &n) || !mx_rd_bytes(&r, n, &hr->auth))
            return -1;
    } else {
        rd_nulstr_lenient(&r, &hr->auth);
    }
    if ((hr->caps & MX_CLIENT_CONNECT_WITH_DB) && mx_rd_left(&r) > 0)
        rd_nulstr_lenient(&r, &hr->db);
    if ((hr->caps & MX_CLIENT_PLUGIN_AUTH) && mx_rd_left(&r) > 0)
        rd_nulstr_lenient(&r, &hr->plugin);
    if ((hr->caps & MX_CLIENT_CONNECT_ATTRS) && mx_rd_left(&r) > 0) {
        if (!mx_rd_lenenc_str(&r, &hr->attrs))
            return -1;
    }
    return 0;
}

int mx_parse_change_user(const uint8_t *p, size_t len, uint32_t client_caps, mx_change_user_t *cu)
{
    mx_rd_t r;
    uint8_t cmd;
    uint64_t v;

    memset(cu, 0, sizeof(*cu));
    cu->user = cu->auth = cu->db = cu->plugin = cu->attrs = empty_str;
    mx_rd_init(&r, p, len);
    if (!mx_rd_u8(&r, &cmd) || cmd != MX_COM_CHANGE_USER || !mx_rd_nulstr(&r, &cu->user))
        return -1;
    /* As the server does (sql_acl.cc parse_com_change_user_packet): the
     * auth data is length-prefixed under SECURE_CONNECTION, and every field
     * after it is optional. */
    if (mx_rd_left(&r) == 0)
        return 0;
    if (client_caps & MX_CLIENT_SECURE_CONNECTION) {
        uint8_t n;
        if (!mx_rd_u8(&r, &n) || !mx_rd_bytes(&r, n, &cu->auth))
            return -1;
    } else {
        rd_nulstr_lenient(&r, &cu->auth);
    }
    if (mx_rd_left(&r) == 0)
        return 0;
    rd_nulstr_lenient(&r, &cu->db);
    if (mx_rd_left(&r) < 2)
        return 0;
    mx_rd_fixed(&r, 2, &v);
    cu->charset = (uint16_t)v;
    if ((client_caps & MX_CLIENT_PLUGIN_AUTH) && mx_rd_left(&r) > 0)
        rd_nulstr_lenient(&r, &cu->plugin);
    if ((client_caps & MX_CLIENT_CONNECT_ATTRS) && mx_rd_left(&r) > 0) {
        if (!mx_rd_lenenc_str(&r, &cu->attrs))
            return -1;
    }
    return 0;
}

/* ---- OK / EOF / ERR ---------------------------------------------------- */

/* The info of an OK without CLIENT_SESSION_TRACK is documented as the rest
 * of the packet, but MySQL and MariaDB write it length-encoded all the same
 * (net_send_ok() uses net_store_data()) and libmysqlclient and libmariadb
 * read it so.  Take the length-encoded form when it spans exactly the rest,
 * the documented form otherwise. */
static void rd_info_lenient(mx_rd_t *r, mx_str_t *out)
{
    uint64_t n;
    int k = mx_lenenc_decode(r->p, mx_rd_left(r), &n);

    if (k > 0 && n == mx_rd_left(r) - (size_t)k) {
        mx_rd_lenenc_str(r, out);
        return;
    }
    mx_rd_eofstr(r, out);
}

int mx_parse_ok(const uint8_t *p, size_t len, uint32_t caps, mx_ok_t *ok)
{
    mx_rd_t r;
    uint8_t hdr;
    uint64_t v;

    memset(ok, 0, sizeof(*ok));
    ok->info = ok->session_state = empty_str;
    mx_rd_init(&r, p, len);
    if (!mx_rd_u8(&r, &hdr) || (hdr != 0x00 && hdr != 0xfe))
        return -1;
    if (!mx_rd_lenenc(&r, &ok->affected_rows, NULL) || !mx_rd_lenenc(&r, &ok->last_insert_id, NULL))
        return -1;
    if (caps & MX_CLIENT_PROTOCOL_41) {
        if (!mx_rd_fixed(&r, 2, &v))
            return -1;
        ok->status = (uint16_t)v;
        if (!mx_rd_fixed(&r, 2, &v))
            return -1;
        ok->warnings = (uint16_t)v;
    } else if (caps & MX_CLIENT_TRANSACTIONS) {
        if (!mx_rd_fixed(&r, 2, &v))
            return -1;
        ok->status = (uint16_t)v;
    }
    if (!(caps & MX_CLIENT_SESSION_TRACK)) {
        rd_info_lenient(&r, &ok->info);
        return 0;
    }
    /* Servers leave the info out when it is empty and no session state
     * follows. */
    if (mx_rd_left(&r) == 0)
        return 0;
    if (!mx_rd_lenenc_str(&r, &ok->info))
        return -1;
    if ((ok->status & MX_STATUS_SESSION_STATE) && mx_rd_left(&r) > 0) {
        if (!mx_rd_lenenc_str(&r, &ok->session_state))
            return -1;
    }
    return 0;
}

int mx_parse_eof(const uint8_t *p, size_t len, uint16_t *warnings, uint16_t *status)
{
    if (len < 1 || len >= 9 || p[0] != 0xfe)
        return -1;
    /* A pre-4.1 EOF is the bare 0xFE byte. */
    if (len < 5) {
        if (len != 1)
            return -1;
        *warnings = 0;
        *status = 0;
        return 0;
    }
    *warnings = (uint16_t)mx_rd_u16(p + 1);
    *status = (uint16_t)mx_rd_u16(p + 3);
    return 0;
}

int mx_parse_err(const uint8_t *p, size_t len, mx_err_t *err)
{
    mx_rd_t r;
    uint8_t hdr;
    uint64_t v;

    memset(err, 0, sizeof(*err));
    memcpy(err->sqlstate, "HY000", 6);
    mx_rd_init(&r, p, len);
    if (!mx_rd_u8(&r, &hdr) || hdr != 0xff || !mx_rd_fixed(&r, 2, &v))
        return -1;
    err->code = (uint16_t)v;
    if (mx_rd_left(&r) >= 6 && r.p[0] == '#') {
        memcpy(err->sqlstate, r.p + 1, 5);
        err->sqlstate[5] = '\0';
        r.p += 6;
    }
    mx_rd_eofstr(&r, &err->message);
    return 0;
}

int mx_parse_prepare_ok(const uint8_t *p, size_t len, mx_prepare_ok_t *pok)
{
    memset(pok, 0, sizeof(*pok));
    if (len < 12 || p[0] != 0x00)
        return -1;
    pok->stmt_id = mx_rd_u32(p + 1);
    pok->num_columns = (uint16_t)mx_rd_u16(p + 5);
    pok->num_params = (uint16_t)mx_rd_u16(p + 7);
    pok->warnings = (uint16_t)mx_rd_u16(p + 10);
    return 0;
}

int mx_parse_bulk_execute(const uint8_t *p, size_t len, mx_bulk_t *bk)
{
    memset(bk, 0, sizeof(*bk));
    if (len < 7 || p[0] != MX_COM_STMT_BULK_EXECUTE)
        return -1;
    bk->stmt_id = mx_rd_u32(p + 1);
    bk->flags = (uint16_t)mx_rd_u16(p + 5);
    bk->types_at = 7;
    return 0;
}

int mx_parse_column_def(const uint8_t *p, size_t len, bool ext_type_info, mx_coldef_t *cd)
{
    mx_rd_t r;
    uint64_t v;
    uint8_t fixed_len;

    memset(cd, 0, sizeof(*cd));
    cd->ext_info = empty_str;
    mx_rd_init(&r, p, len);
    if (!mx_rd_lenenc_str(&r, &cd->catalog) || !mx_rd_lenenc_str(&r, &cd->schema) ||
        !mx_rd_lenenc_str(&r, &cd->table) || !mx_rd_lenenc_str(&r, &cd->org_table) ||
        !mx_rd_lenenc_str(&r, &cd->name) || !mx_rd_lenenc_str(&r, &cd->org_name))
        return -1;
    if (ext_type_info && !mx_rd_lenenc_str(&r, &cd->ext_info))
        return -1;
    /* The fixed part says its length (12: the fields below and 2 unused
     * bytes); servers add nothing after it but a COM_FIELD_LIST default. */
    if (!mx_rd_u8(&r, &fixed_len) || fixed_len < 10 || mx_rd_left(&r) < fixed_len)
        return -1;
    mx_rd_fixed(&r, 2, &v);
    cd->charset = (uint16_t)v;
    mx_rd_fixed(&r, 4, &v);
    cd->length = (uint32_t)v;
    mx_rd_u8(&r, &cd->type);
    mx_rd_fixed(&r, 2, &v);
    cd->flags = (uint16_t)v;
    mx_rd_u8(&r, &cd->decimals);
    return 0;
}

bool mx_coldef_ext_value(const mx_coldef_t *cd, uint8_t key, mx_str_t *out)
{
    mx_rd_t r;
    uint8_t k;
    mx_str_t val;

    mx_rd_init(&r, cd->ext_info.p, cd->ext_info.len);
    while (mx_rd_left(&r) > 0) {
        if (!mx_rd_u8(&r, &k) || !mx_rd_lenenc_str(&r, &val))
            return false;
        if (k == key) {
            *out = val;
            return true;
        }
    }
    return false;
}

int mx_track_next(mx_rd_t *r, mx_track_t *t)
{
    mx_rd_t d;
    const uint8_t *start = r->p;

    memset(t, 0, sizeof(*t));
    t->data = t->name = t->value = empty_str;
    if (r->bad)
        return -1;
    if (mx_rd_left(r) == 0)
        return 0;
    if (!mx_rd_u8(r, &t->type) || !mx_rd_lenenc_str(r, &t->data)) {
        r->p = start;
        r->bad = true;
        return -1;
    }
    mx_rd_init(&d, t->data.p, t->data.len);
    switch (t->type) {
    case MX_TRACK_SYSTEM_VARIABLES:
        if (!mx_rd_lenenc_str(&d, &t->name) || !mx_rd_lenenc_str(&d, &t->value))
            goto bad;
        break;
    case MX_TRACK_SCHEMA:
        if (!mx_rd_lenenc_str(&d, &t->name))
            goto bad;
        break;
    default:
        break;
    }
    return 1;

bad:
    r->p = start;
    r->bad = true;
    return -1;
}

/* ---- writer ------------------------------------------------------------ */

void mx_pktbuf_init(mx_pktbuf_t *b)
{
    memset(b, 0, sizeof(*b));
}

void mx_pktbuf_init_fixed(mx_pktbuf_t *b, uint8_t *mem, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->data = mem;
    b->cap = cap;
    b->fixed = true;
}

void mx_pktbuf_free(mx_pktbuf_t *b)
{
    if (!b->fixed)
        free(b->data);
    memset(b, 0, sizeof(*b));
}

void mx_pktbuf_reset(mx_pktbuf_t *b)
{
    b->len = 0;
    b->start = 0;
    b->failed = false;
}

/* Makes room for n more bytes and returns where they go, or NULL (and sets
 * failed).  A payload may not reach MX_PKT_MAX: manx never splits packets
 * it builds, so anything that large is a bug or an abuse. */
static uint8_t *reserve(mx_pktbuf_t *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (n >= MX_PKT_MAX || b->len - b->start + n >= (size_t)MX_PKT_MAX + MX_PKT_HDR) {
        b->failed = true;
        return NULL;
    }
    /* An empty buffer has no memory yet: reserve some even for 0 bytes, so
     * callers never do pointer arithmetic on NULL. */
    if (b->len + n > b->cap || !b->data) {
        if (b->fixed) {
            b->failed = true;
            return NULL;
        }
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return NULL;
        }
        b->data = d;
        b->cap = cap;
    }
    uint8_t *w = b->data + b->len;
    b->len += n;
    return w;
}

void mx_pkt_begin(mx_pktbuf_t *b, uint8_t seq)
{
    if (b->failed)
        return;
    b->start = b->len;
    uint8_t *w = reserve(b, MX_PKT_HDR);
    if (w) {
        mx_wr_u24(w, 0);
        w[3] = seq;
    }
}

void mx_pkt_end(mx_pktbuf_t *b)
{
    if (b->failed)
        return;
    size_t n = b->len - b->start - MX_PKT_HDR;
    if (n >= MX_PKT_MAX) {
        b->failed = true;
        return;
    }
    mx_wr_u24(b->data + b->start, (uint32_t)n);
}

void mx_put_u8(mx_pktbuf_t *b, uint8_t v)
{
    uint8_t *w = reserve(b, 1);
    if (w)
        w[0] = v;
}

void mx_put_u16(mx_pktbuf_t *b, uint16_t v)
{
    uint8_t *w = reserve(b, 2);
    if (w)
        mx_wr_u16(w, v);
}

void mx_put_u24(mx_pktbuf_t *b, uint32_t v)
{
    uint8_t *w = reserve(b, 3);
    if (w)
        mx_wr_u24(w, v);
}

void mx_put_u32(mx_pktbuf_t *b, uint32_t v)
{
    uint8_t *w = reserve(b, 4);
    if (w)
        mx_wr_u32(w, v);
}

void mx_put_u64(mx_pktbuf_t *b, uint64_t v)
{
    uint8_t *w = reserve(b, 8);
    if (w) {
        mx_wr_u32(w, (uint32_t)v);
        mx_wr_u32(w + 4, (uint32_t)(v >> 32));
    }
}

void mx_put_lenenc(mx_pktbuf_t *b, uint64_t v)
{
    if (v < 251) {
        mx_put_u8(b, (uint8_t)v);
    } else if (v <= 0xffff) {
        mx_put_u8(b, 0xfc);
        mx_put_u16(b, (uint16_t)v);
    } else if (v <= 0xffffff) {
        mx_put_u8(b, 0xfd);
        mx_put_u24(b, (uint32_t)v);
    } else {
        mx_put_u8(b, 0xfe);
        mx_put_u64(b, v);
    }
}

void mx_put_bytes(mx_pktbuf_t *b, const void *p, size_t n)
{
    uint8_t *w = reserve(b, n);
    if (w && n)
        memcpy(w, p, n);
}

void mx_put_zeros(mx_pktbuf_t *b, size_t n)
{
    uint8_t *w = reserve(b, n);
    if (w && n)
        memset(w, 0, n);
}

void mx_put_cstr(mx_pktbuf_t *b, const char *s)
{
    mx_put_bytes(b, s, strlen(s) + 1);
}

void mx_put_lenenc_str(mx_pktbuf_t *b, const void *p, size_t n)
{
    mx_put_lenenc(b, n);
    mx_put_bytes(b, p, n);
}

/* ---- whole packets ----------------------------------------------------- */

/* Status, warnings and info of an OK packet; shared by manx's own OKs and
 * re-encoded backend OKs.  The session state is written only when the
 * client tracks sessions and the status flag announces it. */
static void put_ok_tail(mx_pktbuf_t *b, uint32_t caps, uint16_t status, uint16_t warnings,
                        const uint8_t *info, size_t info_len, const mx_str_t *state)
{
    if (!(caps & MX_CLIENT_SESSION_TRACK))
        status &= (uint16_t)~MX_STATUS_SESSION_STATE;
    if (caps & MX_CLIENT_PROTOCOL_41) {
        mx_put_u16(b, status);
        mx_put_u16(b, warnings);
    } else if (caps & MX_CLIENT_TRANSACTIONS) {
        mx_put_u16(b, status);
    }
    if (caps & MX_CLIENT_SESSION_TRACK) {
        mx_put_lenenc_str(b, info, info_len);
        if (status & MX_STATUS_SESSION_STATE)
            mx_put_lenenc_str(b, state ? state->p : NULL, state ? state->len : 0);
    } else if (info_len > 0) {
        /* Length-encoded, as servers write it (see rd_info_lenient()). */
        mx_put_lenenc_str(b, info, info_len);
    }
}

void mx_pkt_ok(mx_pktbuf_t *b, uint8_t seq, uint32_t caps, uint64_t affected,
               uint64_t insert_id, uint16_t status, uint16_t warnings, const char *info)
{
    if (!info)
        info = "";
    mx_pkt_begin(b, seq);
    mx_put_u8(b, 0x00);
    mx_put_lenenc(b, affected);
    mx_put_lenenc(b, insert_id);
    /* manx's own OKs carry no session state to announce. */
    put_ok_tail(b, caps, status & (uint16_t)~MX_STATUS_SESSION_STATE, warnings,
                (const uint8_t *)info, strlen(info), NULL);
    mx_pkt_end(b);
}

void mx_pkt_ok_reencode(mx_pktbuf_t *b, uint8_t seq, uint8_t hdr, const mx_ok_t *ok,
                        uint32_t to_caps)
{
    mx_pkt_begin(b, seq);
    mx_put_u8(b, hdr);
    mx_put_lenenc(b, ok->affected_rows);
    mx_put_lenenc(b, ok->last_insert_id);
    put_ok_tail(b, to_caps, ok->status, ok->warnings, ok->info.p, ok->info.len,
                &ok->session_state);
    mx_pkt_end(b);
}

void mx_pkt_err(mx_pktbuf_t *b, uint8_t seq, uint16_t code, const char *sqlstate,
                const char *fmt, ...)
{
    va_list ap, ap2;

    if (!sqlstate || strlen(sqlstate) != 5)
        sqlstate = "HY000";
    mx_pkt_begin(b, seq);
    mx_put_u8(b, 0xff);
    mx_put_u16(b, code);
    mx_put_u8(b, '#');
    mx_put_bytes(b, sqlstate, 5);

    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
    } else {
        /* vsnprintf wants room for its NUL, which is then dropped. */
        uint8_t *w = reserve(b, (size_t)n + 1);
        if (w) {
            vsnprintf((char *)w, (size_t)n + 1, fmt, ap2);
            b->len--;
        }
    }
    va_end(ap2);
    mx_pkt_end(b);
}

void mx_pkt_eof(mx_pktbuf_t *b, uint8_t seq, uint16_t warnings, uint16_t status)
{
    mx_pkt_begin(b, seq);
    mx_put_u8(b, 0xfe);
    mx_put_u16(b, warnings);
    mx_put_u16(b, status);
    mx_pkt_end(b);
}

/* The extended capabilities a packet may carry: none when it claims
 * CLIENT_MYSQL (the peer then reads those bytes as reserved). */
static uint32_t ext_on_wire(uint32_t caps, uint32_t ext_caps)
{
    return (caps & MX_CLIENT_LONG_PASSWORD) ? 0 : ext_caps;
}

void mx_pkt_handshake(mx_pktbuf_t *b, const char *server_version, uint32_t conn_id,
                      const uint8_t scramble[MX_SCRAMBLE_LEN], uint32_t caps, uint32_t ext_caps,
                      uint8_t charset, uint16_t status, const char *plugin)
{
    mx_pkt_begin(b, 0);
    mx_put_u8(b, 10);
    mx_put_cstr(b, server_version);
    mx_put_u32(b, conn_id);
    mx_put_bytes(b, scramble, 8);
    mx_put_u8(b, 0);
    mx_put_u16(b, (uint16_t)caps);
    mx_put_u8(b, charset);
    mx_put_u16(b, status);
    mx_put_u16(b, (uint16_t)(caps >> 16));
    mx_put_u8(b, (caps & MX_CLIENT_PLUGIN_AUTH) ? MX_SCRAMBLE_LEN + 1 : 0);
    /* Reserved; MariaDB puts its extended capabilities in the last four. */
    mx_put_zeros(b, 6);
    mx_put_u32(b, ext_on_wire(caps, ext_caps));
    if (caps & MX_CLIENT_SECURE_CONNECTION) {
        mx_put_bytes(b, scramble + 8, MX_SCRAMBLE_LEN - 8);
        mx_put_u8(b, 0);
    }
    if (caps & MX_CLIENT_PLUGIN_AUTH)
        mx_put_cstr(b, plugin ? plugin : "");
    mx_pkt_end(b);
}

/* Capabilities, max packet, collation and the 23 reserved bytes of a
 * handshake response or SSLRequest; MariaDB reads the extended
 * capabilities from the last four of them. */
static void put_hsresp_head(mx_pktbuf_t *b, uint32_t caps, uint32_t ext_caps, uint32_t max_packet,
                            uint8_t charset)
{
    mx_put_u32(b, caps);
    mx_put_u32(b, max_packet);
    mx_put_u8(b, charset);
    mx_put_zeros(b, 19);
    mx_put_u32(b, ext_on_wire(caps, ext_caps));
}

void mx_pkt_hsresp(mx_pktbuf_t *b, uint8_t seq, uint32_t caps, uint32_t ext_caps, uint32_t max_packet,
                   uint8_t charset, const char *user, const uint8_t *auth, size_t auth_len,
                   const char *db, const char *plugin)
{
    mx_pkt_begin(b, seq);
    put_hsresp_head(b, caps, ext_caps, max_packet, charset);
    mx_put_cstr(b, user ? user : "");
    if (caps & MX_CLIENT_PLUGIN_AUTH_LENENC) {
        mx_put_lenenc_str(b, auth, auth_len);
    } else {
        /* A one-byte length cannot say more; such a response would be
         * misread by the server. */
        if (auth_len > 255)
            b->failed = true;
        mx_put_u8(b, (uint8_t)auth_len);
        mx_put_bytes(b, auth, auth_len);
    }
    if (caps & MX_CLIENT_CONNECT_WITH_DB)
        mx_put_cstr(b, db ? db : "");
    if (caps & MX_CLIENT_PLUGIN_AUTH)
        mx_put_cstr(b, plugin ? plugin : "");
    mx_pkt_end(b);
}

void mx_pkt_ssl_request(mx_pktbuf_t *b, uint8_t seq, uint32_t caps, uint32_t ext_caps, uint32_t max_packet,
                        uint8_t charset)
{
    mx_pkt_begin(b, seq);
    put_hsresp_head(b, caps | MX_CLIENT_SSL, ext_caps, max_packet, charset);
    mx_pkt_end(b);
}

void mx_pkt_auth_switch(mx_pktbuf_t *b, uint8_t seq, const char *plugin,
                        const uint8_t *data, size_t len)
{
    mx_pkt_begin(b, seq);
    mx_put_u8(b, 0xfe);
    mx_put_cstr(b, plugin);
    mx_put_bytes(b, data, len);
    mx_pkt_end(b);
}

void mx_pkt_auth_more(mx_pktbuf_t *b, uint8_t seq, const uint8_t *data, size_t len)
{
    mx_pkt_begin(b, seq);
    mx_put_u8(b, 0x01);
    mx_put_bytes(b, data, len);
    mx_pkt_end(b);
}

void mx_pkt_column_count(mx_pktbuf_t *b, uint8_t seq, uint64_t n)
{
    mx_pkt_begin(b, seq);
    mx_put_lenenc(b, n);
    mx_pkt_end(b);
}

static void put_lenenc_cstr(mx_pktbuf_t *b, const char *s)
{
    if (!s)
        s = "";
    mx_put_lenenc_str(b, s, strlen(s));
}

void mx_pkt_column_def(mx_pktbuf_t *b, uint8_t seq, const char *schema, const char *table,
                       const char *name, uint8_t type, uint32_t length, uint16_t charset,
                       bool ext_type_info)
{
    mx_pkt_begin(b, seq);
    put_lenenc_cstr(b, "def");
    put_lenenc_cstr(b, schema);
    put_lenenc_cstr(b, table);
    put_lenenc_cstr(b, table);
    put_lenenc_cstr(b, name);
    put_lenenc_cstr(b, name);
    /* manx's own columns are plain strings and numbers: no type name or
     * format to tell, so the block is empty, as the server sends it then. */
    if (ext_type_info)
        mx_put_lenenc(b, 0);
    mx_put_u8(b, 0x0c);          /* length of the fixed fields that follow */
    mx_put_u16(b, charset);
    mx_put_u32(b, length);
    mx_put_u8(b, type);
    mx_put_u16(b, 0);            /* column flags */
    mx_put_u8(b, 0);             /* decimals */
    mx_put_zeros(b, 2);
    mx_pkt_end(b);
}

void mx_pkt_text_row(mx_pktbuf_t *b, uint8_t seq, const char *const *vals, size_t n)
{
    mx_pkt_begin(b, seq);
    for (size_t i = 0; i < n; i++) {
        if (vals[i])
            put_lenenc_cstr(b, vals[i]);
        else
            mx_put_u8(b, 0xfb);
    }
    mx_pkt_end(b);
}
