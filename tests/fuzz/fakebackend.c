/* The scripted fake backend of the client-session fuzz driver: a MariaDB
 * look-alike on the caller's libuv loop.  It reads whole logical commands
 * (continuation packets included, keeping only the first bytes), answers
 * them from a few rules about the statement's first word, and keeps the
 * little session state (transaction, autocommit, prepared statements) its
 * answers need to be consistent.  See fakebackend.h for the script. */
#include "fakebackend.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "protocol/packet.h"

#define HEAD_MAX 512           /* bytes of a command kept for deciding the answer */
#define MAX_STMTS 32

/* ---- output: packets into a growable buffer ----------------------------- */

typedef struct out_s {
    uint8_t *p;
    size_t len, cap;
    size_t start;              /* header of the packet being built */
    uint8_t seq;               /* sequence id of the next packet */
    bool ext_types;            /* column definitions carry the extended type-info block */
} out_t;

static uint8_t *o_reserve(out_t *o, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n)
            cap *= 2;
        uint8_t *np = realloc(o->p, cap);
        if (!np) {
            fprintf(stderr, "fakebackend: out of memory\n");
            abort();
        }
        o->p = np;
        o->cap = cap;
    }
    uint8_t *w = o->p + o->len;
    o->len += n;
    return w;
}

static void o_bytes(out_t *o, const void *p, size_t n)
{
    if (n)
        memcpy(o_reserve(o, n), p, n);
}

static void o_u8(out_t *o, uint8_t v) { *o_reserve(o, 1) = v; }
static void o_u16(out_t *o, uint32_t v) { mx_wr_u16(o_reserve(o, 2), v); }
static void o_u32(out_t *o, uint32_t v) { mx_wr_u32(o_reserve(o, 4), v); }

static void o_lenenc(out_t *o, uint64_t v)
{
    if (v < 0xFB) {
        o_u8(o, (uint8_t)v);
    } else if (v <= 0xFFFF) {
        o_u8(o, 0xFC);
        o_u16(o, (uint32_t)v);
    } else if (v <= 0xFFFFFF) {
        o_u8(o, 0xFD);
        mx_wr_u24(o_reserve(o, 3), (uint32_t)v);
    } else {
        o_u8(o, 0xFE);
        o_u32(o, (uint32_t)v);
        o_u32(o, (uint32_t)(v >> 32));
    }
}

static void o_lstr(out_t *o, const void *p, size_t n)
{
    o_lenenc(o, n);
    o_bytes(o, p, n);
}

static void o_begin(out_t *o)
{
    o->start = o->len;
    uint8_t *h = o_reserve(o, MX_PKT_HDR);
    mx_wr_u24(h, 0);
    h[3] = o->seq++;
}

/* Close the packet begun last.  A payload of 0xFFFFFF bytes or more goes
 * out as the protocol wants it: full packets, then a shorter (maybe
 * empty) one, each with the next sequence id. */
static void o_end(out_t *o)
{
    size_t n = o->len - o->start - MX_PKT_HDR;
    if (n < MX_PKT_MAX) {
        mx_wr_u24(o->p + o->start, (uint32_t)n);
        return;
    }
    uint8_t *payload = malloc(n);
    if (!payload)
        abort();
    memcpy(payload, o->p + o->start + MX_PKT_HDR, n);
    uint8_t seq = o->p[o->start + 3];
    o->len = o->start;
    o->seq = seq;
    size_t off = 0;
    for (;;) {
        size_t piece = n - off < MX_PKT_MAX ? n - off : MX_PKT_MAX;
        uint8_t *h = o_reserve(o, MX_PKT_HDR);
        mx_wr_u24(h, (uint32_t)piece);
        h[3] = o->seq++;
        o_bytes(o, payload + off, piece);
        off += piece;
        if (piece < MX_PKT_MAX)
            break;
    }
    free(payload);
}

static void o_ok(out_t *o, uint32_t caps, uint64_t affected, uint64_t insert_id, uint16_t status,
                 const out_t *state)
{
    bool track = (caps & MX_CLIENT_SESSION_TRACK) && state && state->len;
    if (track)
        status |= MX_STATUS_SESSION_STATE;
    o_begin(o);
    o_u8(o, 0x00);
    o_lenenc(o, affected);
    o_lenenc(o, insert_id);
    o_u16(o, status);
    o_u16(o, 0);
    if (caps & MX_CLIENT_SESSION_TRACK) {
        o_lstr(o, "", 0);
        if (track)
            o_lstr(o, state->p, state->len);
    }
    o_end(o);
}

static void o_err(out_t *o, uint16_t code, const char *state, const char *msg)
{
    o_begin(o);
    o_u8(o, 0xFF);
    o_u16(o, code);
    o_u8(o, '#');
    o_bytes(o, state, 5);
    o_bytes(o, msg, strlen(msg));
    o_end(o);
}

static void o_eof(out_t *o, uint16_t warnings, uint16_t status)
{
    o_begin(o);
    o_u8(o, 0xFE);
    o_u16(o, warnings);
    o_u16(o, status);
    o_end(o);
}

static void o_coldef(out_t *o, const char *name)
{
    o_begin(o);
    o_lstr(o, "def", 3);
    o_lstr(o, "fzdb", 4);
    o_lstr(o, "t", 1);
    o_lstr(o, "t", 1);
    o_lstr(o, name, strlen(name));
    o_lstr(o, name, strlen(name));
    if (o->ext_types) {
        /* As MariaDB describes a JSON column: format "json". */
        o_lenenc(o, 6);
        o_u8(o, 1);
        o_lstr(o, "json", 4);
    }
    o_u8(o, 0x0c);
    o_u16(o, 33);
    o_u32(o, 1024);
    o_u8(o, MX_TYPE_VAR_STRING);
    o_u16(o, 0);
    o_u8(o, 0);
    o_u16(o, 0);
    o_end(o);
}

/* A row holding one value of `len` bytes ('v'), or NULL when len is
 * UINT32_MAX; binary protocol rows start with 0x00 and a NULL bitmap. */
static void o_row(out_t *o, uint32_t len, bool binary)
{
    o_begin(o);
    if (binary) {
        o_u8(o, 0x00);
        o_u8(o, len == UINT32_MAX ? 0x04 : 0x00);
        if (len != UINT32_MAX) {
            o_lenenc(o, len);
            memset(o_reserve(o, len), 'v', len);
        }
    } else if (len == UINT32_MAX) {
        o_u8(o, 0xFB);
    } else {
        o_lenenc(o, len);
        memset(o_reserve(o, len), 'v', len);
    }
    o_end(o);
}

/* ---- connections ----------------------------------------------------------- */

enum { P_LOGIN, P_SWITCHED, P_CMD, P_INFILE };

typedef struct fb_stmt_s {
    uint32_t id;
    bool select;               /* answers EXECUTE with a result set */
    uint16_t params;
} fb_stmt_t;

typedef struct fb_conn_s {
    uv_tcp_t tcp;
    uv_timer_t timer;          /* writes the second piece of a split response */
    fb_t *fb;
    struct fb_conn_s *next;
    int index;                 /* accept order */
    int phase;                 /* P_* */
    uint8_t hs_mode;           /* FB_HS_* */
    bool stalled;              /* reads are ignored, nothing is answered */
    bool closing;
    int handles_open;          /* tcp and timer until their close callbacks */
    uint32_t caps;             /* what manx asked for in its handshake response */
    uint32_t ext_caps;         /* ... and its MariaDB extended capabilities */
    uint16_t status;
    uint32_t commands;         /* commands on this connection */
    uint8_t hdr[MX_PKT_HDR];   /* packet reader */
    unsigned hdr_have;
    uint32_t pkt_len, pkt_left;
    uint8_t seq;
    bool cont;                 /* the logical packet continues */
    uint8_t head[HEAD_MAX];    /* first bytes of the logical packet */
    size_t head_len;
    fb_stmt_t stmts[MAX_STMTS];
    unsigned n_stmts;
    uint32_t next_stmt;
    out_t pending;             /* rest of a split response */
} fb_conn_t;

struct fb_s {
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool closing;
    int handles_open;          /* listener and every connection's handles */
    fb_script_t s;
    fb_conn_t *conns;
    int n_accepted;
    uint32_t n_cmds;
    uint32_t gtid;             /* last GTID sequence number handed out */
    uint32_t rows;             /* rows sent so far */
};

static uint8_t read_scratch[64 * 1024];

/* The value length of the next row (see fb_script_t.row_times). */
static uint32_t next_row_len(fb_t *fb)
{
    if (fb->s.row_times && fb->rows >= fb->s.row_times)
        return 1;
    fb->rows++;
    return fb->s.row_len;
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    fb_conn_t *c = h->data;
    fb_t *fb = c->fb;
    fb->handles_open--;
    if (--c->handles_open > 0)
        return;
    for (fb_conn_t **pp = &fb->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    free(c->pending.p);
    free(c);
}

static void conn_close(fb_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

typedef struct wreq_s {
    uv_write_t req;
    uint8_t data[];
} wreq_t;

static void on_write(uv_write_t *req, int status)
{
    (void)status; /* a failed write shows up as a read error too */
    free(req);
}

static void raw_send(fb_conn_t *c, const uint8_t *p, size_t n)
{
    if (c->closing || n == 0)
        return;
    wreq_t *w = malloc(sizeof(*w) + n);
    if (!w)
        abort();
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        free(w);
        conn_close(c);
    }
}

static void on_split_timer(uv_timer_t *t)
{
    fb_conn_t *c = t->data;
    raw_send(c, c->pending.p, c->pending.len);
    c->pending.len = 0;
}

/* Send a response, in two pieces a loop turn apart when the script says so. */
static void send_out(fb_conn_t *c, const out_t *o, size_t limit)
{
    size_t n = o->len < limit ? o->len : limit;
    size_t first = n;
    if (c->pending.len) {
        first = 0; /* keep the order behind what is still waiting */
    } else if (c->fb->s.split_at && n > c->fb->s.split_at) {
        first = c->fb->s.split_at;
    }
    raw_send(c, o->p, first);
    if (first < n) {
        o_bytes(&c->pending, o->p + first, n - first);
        uv_timer_start(&c->timer, on_split_timer, 0, 0);
    }
}

/* ---- deciding the answer ---------------------------------------------------- */

static bool ci_contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp((const char *)p + i, needle, k) == 0)
            return true;
    return false;
}

/* Skip blanks, '(' and comments. */
static size_t skip_blank(const uint8_t *p, size_t n, size_t i)
{
    for (;;) {
        while (i < n && (isspace(p[i]) || p[i] == '('))
            i++;
        if (i + 1 < n && p[i] == '/' && p[i + 1] == '*') {
            i += 2;
            while (i + 1 < n && !(p[i] == '*' && p[i + 1] == '/'))
                i++;
            i = i + 2 < n ? i + 2 : n;
            continue;
        }
        if (i < n && (p[i] == '#' || (i + 2 < n && p[i] == '-' && p[i + 1] == '-' && p[i + 2] == ' '))) {
            while (i < n && p[i] != '\n')
                i++;
            continue;
        }
        return i;
    }
}

/* The word at i (letters, digits, '_', '@', '.'), upper-cased. */
static size_t word_at(const uint8_t *p, size_t n, size_t i, char *w, size_t cap)
{
    size_t k = 0;
    while (i < n && (isalnum(p[i]) || p[i] == '_' || p[i] == '@' || p[i] == '.')) {
        if (k + 1 < cap)
            w[k++] = (char)toupper(p[i]);
        i++;
    }
    w[k] = 0;
    return i;
}

static bool is_word(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

/* One session-tracker entry: type, then its data as a length-encoded string. */
static void track_entry(out_t *st, uint8_t type, const char *a, size_t al, const char *b, size_t bl)
{
    out_t d = { 0 };
    if (type == MX_TRACK_SYSTEM_VARIABLES) {
        o_lstr(&d, a, al);
        o_lstr(&d, b, bl);
    } else {
        o_lstr(&d, a, al);
    }
    o_u8(st, type);
    o_lstr(st, d.p, d.len);
    free(d.p);
}

/* SET name = value: what a server's tracker would report. */
static void track_set(fb_conn_t *c, const uint8_t *p, size_t n, size_t i, out_t *st)
{
    char name[64], value[64];
    i = skip_blank(p, n, i);
    i = word_at(p, n, i, name, sizeof(name));
    if (strcmp(name, "SESSION") == 0 || strcmp(name, "LOCAL") == 0) {
        i = skip_blank(p, n, i);
        i = word_at(p, n, i, name, sizeof(name));
    }
    if (name[0] == '@' && name[1] != '@') {
        track_entry(st, MX_TRACK_STATE_CHANGE, "1", 1, NULL, 0);
        return;
    }
    const char *nm = name;
    if (strncmp(nm, "@@SESSION.", 10) == 0)
        nm += 10;
    else if (strncmp(nm, "@@", 2) == 0)
        nm += 2;
    if (!nm[0])
        return;
    if (strcmp(nm, "NAMES") == 0) {
        i = skip_blank(p, n, i);
        word_at(p, n, i, value, sizeof(value));
        track_entry(st, MX_TRACK_SYSTEM_VARIABLES, "character_set_client", 20, value, strlen(value));
        return;
    }
    i = skip_blank(p, n, i);
    if (i < n && p[i] == '=')
        i++;
    i = skip_blank(p, n, i);
    size_t k = 0;
    while (i < n && k + 1 < sizeof(value) && (isalnum(p[i]) || p[i] == '_' || p[i] == '-' || p[i] == '.'))
        value[k++] = (char)p[i++];
    value[k] = 0;
    char lname[64];
    size_t nl = strlen(nm);
    for (size_t j = 0; j <= nl; j++)
        lname[j] = (char)tolower((unsigned char)nm[j]);
    if (strcmp(lname, "autocommit") == 0) {
        bool on = strcmp(value, "1") == 0 || strcasecmp(value, "ON") == 0;
        if (on)
            c->status |= MX_STATUS_AUTOCOMMIT;
        else
            c->status &= (uint16_t)~MX_STATUS_AUTOCOMMIT;
        track_entry(st, MX_TRACK_SYSTEM_VARIABLES, lname, nl, on ? "ON" : "OFF", on ? 2 : 3);
        return;
    }
    track_entry(st, MX_TRACK_SYSTEM_VARIABLES, lname, nl, value, k);
}

static void answer_select(fb_conn_t *c, out_t *o, uint32_t row_len, bool binary, bool cursor)
{
    uint16_t status = c->status;
    o_begin(o);
    o_lenenc(o, 1);
    o_end(o);
    o_coldef(o, "v");
    if (cursor) {
        o_eof(o, 0, status | MX_STATUS_CURSOR_EXISTS);
        return;
    }
    o_eof(o, 0, status);
    o_row(o, row_len, binary);
    o_eof(o, c->fb->s.warnings ? 1 : 0, status);
}

static void answer_query(fb_conn_t *c, out_t *o, const uint8_t *p, size_t n)
{
    static const char *const reads[] = { "SELECT", "SHOW", "WITH", "DESC", "DESCRIBE", "EXPLAIN", "VALUES",
                                         "TABLE", "CHECKSUM", NULL };
    static const char *const writes[] = { "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER",
                                          "TRUNCATE", "RENAME", "GRANT", "REVOKE", "CALL", "DO", NULL };
    char w[32];
    size_t i = skip_blank(p, n, 0);
    if (i == n) {
        o_err(o, 1065, "42000", "Query was empty");
        return;
    }
    i = word_at(p, n, i, w, sizeof(w));
    if (c->fb->s.multi && memchr(p, ';', n))
        o_ok(o, c->caps, 0, 0, c->status | MX_STATUS_MORE_RESULTS, NULL);
    if (ci_contains(p, n, "MASTER_GTID_WAIT")) {
        int g = c->fb->s.gtid_wait;
        uint32_t len = g == 2 ? UINT32_MAX : g == -1 ? 2 : 1;
        o_begin(o);
        o_lenenc(o, 1);
        o_end(o);
        o_coldef(o, "w");
        o_eof(o, 0, c->status);
        o_begin(o);
        if (len == UINT32_MAX)
            o_u8(o, 0xFB);
        else
            o_lstr(o, g == -1 ? "-1" : "0", len);
        o_end(o);
        o_eof(o, 0, c->status);
        return;
    }
    if (strcmp(w, "LOAD") == 0 && ci_contains(p, n, "LOCAL")) {
        o_begin(o);
        o_u8(o, 0xFB);
        o_bytes(o, "/tmp/fuzz.csv", 13);
        o_end(o);
        c->phase = P_INFILE;
        return;
    }
    if (is_word(w, reads)) {
        if (!(c->status & MX_STATUS_AUTOCOMMIT))
            c->status |= MX_STATUS_IN_TRANS;
        answer_select(c, o, next_row_len(c->fb), false, false);
        return;
    }
    out_t st = { 0 };
    uint64_t affected = 0, insert_id = 0;
    if (strcmp(w, "SET") == 0) {
        track_set(c, p, n, i, &st);
    } else if (strcmp(w, "USE") == 0) {
        char db[64];
        i = skip_blank(p, n, i);
        word_at(p, n, i, db, sizeof(db));
        track_entry(&st, MX_TRACK_SCHEMA, db, strlen(db), NULL, 0);
    } else if (strcmp(w, "BEGIN") == 0 || strcmp(w, "START") == 0 || strcmp(w, "XA") == 0) {
        c->status |= MX_STATUS_IN_TRANS;
    } else if (strcmp(w, "COMMIT") == 0 || strcmp(w, "ROLLBACK") == 0) {
        c->status &= (uint16_t)~MX_STATUS_IN_TRANS;
    } else if (strcmp(w, "LOCK") == 0 || strcmp(w, "PREPARE") == 0 || ci_contains(p, n, "TEMPORARY")) {
        track_entry(&st, MX_TRACK_STATE_CHANGE, "1", 1, NULL, 0);
    } else if (is_word(w, writes)) {
        char gtid[32];
        int gl = snprintf(gtid, sizeof(gtid), "0-1-%u", ++c->fb->gtid);
        track_entry(&st, MX_TRACK_SYSTEM_VARIABLES, "last_gtid", 9, gtid, (size_t)gl);
        affected = 1;
        insert_id = strcmp(w, "INSERT") == 0 ? c->fb->gtid : 0;
        if (!(c->status & MX_STATUS_AUTOCOMMIT))
            c->status |= MX_STATUS_IN_TRANS;
    }
    o_ok(o, c->caps, affected, insert_id, c->status, &st);
    free(st.p);
}

static fb_stmt_t *find_stmt(fb_conn_t *c, const uint8_t *p, size_t n)
{
    if (n < 5)
        return NULL;
    uint32_t id = mx_rd_u32(p + 1);
    for (unsigned i = 0; i < c->n_stmts; i++)
        if (c->stmts[i].id == id)
            return &c->stmts[i];
    return NULL;
}

static void answer_prepare(fb_conn_t *c, out_t *o, const uint8_t *p, size_t n)
{
    char w[32];
    size_t i = skip_blank(p, n, 0);
    if (i == n) {
        o_err(o, 1065, "42000", "Query was empty");
        return;
    }
    word_at(p, n, i, w, sizeof(w));
    uint16_t params = 0;
    for (size_t k = 0; k < n; k++)
        params += p[k] == '?';
    fb_stmt_t st = { ++c->next_stmt, strcmp(w, "SELECT") == 0, params };
    if (c->n_stmts == MAX_STMTS)
        memmove(c->stmts, c->stmts + 1, (MAX_STMTS - 1) * sizeof(st));
    else
        c->n_stmts++;
    c->stmts[c->n_stmts - 1] = st;
    o_begin(o);
    o_u8(o, 0x00);
    o_u32(o, st.id);
    o_u16(o, st.select ? 1 : 0);
    o_u16(o, params);
    o_u8(o, 0);
    o_u16(o, 0);
    o_end(o);
    if (params) {
        for (uint16_t k = 0; k < params; k++)
            o_coldef(o, "?");
        o_eof(o, 0, c->status);
    }
    if (st.select) {
        o_coldef(o, "v");
        o_eof(o, 0, c->status);
    }
}

/* The normal answer to the command in c->head (may be nothing). */
static void answer(fb_conn_t *c, out_t *o)
{
    const uint8_t *p = c->head;
    size_t n = c->head_len;
    fb_stmt_t *st;
    switch (p[0]) {
    case MX_COM_QUERY:
        answer_query(c, o, p + 1, n - 1);
        return;
    case MX_COM_STMT_PREPARE:
        answer_prepare(c, o, p + 1, n - 1);
        return;
    case MX_COM_STMT_EXECUTE:
        if (!(st = find_stmt(c, p, n))) {
            o_err(o, 1243, "HY000", "Unknown prepared statement handler given to mysqld_stmt_execute");
        } else if (st->select) {
            answer_select(c, o, next_row_len(c->fb), true, n > 5 && p[5] != 0);
        } else {
            o_ok(o, c->caps, 1, 0, c->status, NULL);
        }
        return;
    case MX_COM_STMT_BULK_EXECUTE:
        /* As MariaDB: only for connections that negotiated it, only for
         * statements that return no rows. */
        if (!(c->ext_caps & MX_MARIADB_STMT_BULK_OPS)) {
            o_err(o, 1047, "08S01", "Unknown command");
        } else if (!(st = find_stmt(c, p, n))) {
            o_err(o, 1243, "HY000", "Unknown prepared statement handler given to mysqld_stmt_bulk_execute");
        } else if (st->select || n < 7) {
            o_err(o, 1295, "HY000", "This command is not supported in the prepared statement protocol yet");
        } else {
            o_ok(o, c->caps, 2, 0, c->status, NULL);
        }
        return;
    case MX_COM_STMT_FETCH:
        if (!(st = find_stmt(c, p, n))) {
            o_err(o, 1243, "HY000", "Unknown prepared statement handler given to mysqld_stmt_fetch");
            return;
        }
        o_row(o, next_row_len(c->fb), true);
        o_eof(o, 0, c->status | MX_STATUS_LAST_ROW_SENT);
        return;
    case MX_COM_STMT_RESET:
        if (!find_stmt(c, p, n))
            o_err(o, 1243, "HY000", "Unknown prepared statement handler given to mysqld_stmt_reset");
        else
            o_ok(o, c->caps, 0, 0, c->status, NULL);
        return;
    case MX_COM_STMT_CLOSE:
        if ((st = find_stmt(c, p, n)) != NULL) {
            *st = c->stmts[--c->n_stmts];
        }
        return;
    case MX_COM_STMT_SEND_LONG_DATA:
        return;
    case MX_COM_INIT_DB: {
        out_t s = { 0 };
        size_t dl = n - 1 < 64 ? n - 1 : 64;
        track_entry(&s, MX_TRACK_SCHEMA, (const char *)p + 1, dl, NULL, 0);
        o_ok(o, c->caps, 0, 0, c->status, &s);
        free(s.p);
        return;
    }
    case MX_COM_RESET_CONNECTION:
        c->status = MX_STATUS_AUTOCOMMIT;
        c->n_stmts = 0;
        o_ok(o, c->caps, 0, 0, c->status, NULL);
        return;
    case MX_COM_PING:
    case MX_COM_REFRESH:
    case MX_COM_PROCESS_KILL:
    case MX_COM_CHANGE_USER:
        o_ok(o, c->caps, 0, 0, c->status, NULL);
        return;
    case MX_COM_SET_OPTION:
    case MX_COM_DEBUG:
        o_eof(o, 0, c->status);
        return;
    case MX_COM_STATISTICS:
        /* As MariaDB: one packet with a bare string. */
        o_begin(o);
        o_bytes(o, "Uptime: 1  Threads: 1  Questions: 1", 35);
        o_end(o);
        return;
    case MX_COM_FIELD_LIST:
        o_coldef(o, "v");
        o_eof(o, 0, c->status);
        return;
    case MX_COM_PROCESS_INFO:
        answer_select(c, o, 8, false, false);
        return;
    default:
        o_err(o, 1047, "08S01", "Unknown command");
        return;
    }
}

static void handle_command(fb_conn_t *c)
{
    fb_t *fb = c->fb;
    if (c->head_len == 0)
        return; /* manx never sends an empty command */
    fb->n_cmds++;
    c->commands++;
    if (c->head[0] == MX_COM_QUIT) {
        conn_close(c);
        return;
    }
    out_t o = { 0 };
    o.seq = (uint8_t)(c->seq + 1);
    o.ext_types = (c->ext_caps & MX_MARIADB_EXTENDED_TYPE_INFO) != 0;
    if (c->hs_mode == FB_HS_SETUP_ERR && c->commands == 1) {
        o_err(&o, 1227, "42000", "Access denied; you need the SUPER privilege");
        send_out(c, &o, o.len);
        free(o.p);
        return;
    }
    answer(c, &o);
    if (fb->s.fault_at != fb->n_cmds) {
        send_out(c, &o, o.len);
        free(o.p);
        return;
    }
    switch (fb->s.fault) {
    case FB_FAULT_CLOSE:
        conn_close(c);
        break;
    case FB_FAULT_ERR:
        o.len = 0;
        o.seq = (uint8_t)(c->seq + 1);
        c->phase = P_CMD;
        o_err(&o, 1064, "42000", "You have an error in your SQL syntax (fake backend)");
        send_out(c, &o, o.len);
        break;
    case FB_FAULT_STALL:
        c->stalled = true;
        break;
    case FB_FAULT_GARBAGE: {
        static const uint8_t junk[] = { 0x01, 0x00, 0x00, 0x01, 0xFC };
        raw_send(c, junk, sizeof(junk));
        break;
    }
    case FB_FAULT_HALF_CLOSE:
        send_out(c, &o, o.len / 2);
        conn_close(c);
        break;
    case FB_FAULT_HALF_STALL:
        send_out(c, &o, o.len / 2);
        c->stalled = true;
        break;
    default:
        abort();
    }
    free(o.p);
}

/* A whole logical packet from manx is in c->head (its first bytes). */
static void handle_packet(fb_conn_t *c)
{
    out_t o = { 0 };
    o.seq = (uint8_t)(c->seq + 1);
    switch (c->phase) {
    case P_LOGIN:
        c->caps = c->head_len >= 4 ? mx_rd_u32(c->head) : 0;
        c->ext_caps = c->fb->s.ext_caps && !(c->caps & MX_CLIENT_LONG_PASSWORD) && c->head_len >= 32
                          ? mx_rd_u32(c->head + 28) & (MX_MARIADB_STMT_BULK_OPS | MX_MARIADB_EXTENDED_TYPE_INFO)
                          : 0;
        if (c->hs_mode == FB_HS_AUTH_ERR) {
            o_err(&o, 1045, "28000", "Access denied for user 'fz'@'localhost' (using password: YES)");
            send_out(c, &o, o.len);
            conn_close(c);
            break;
        }
        if (c->hs_mode == FB_HS_SWITCH) {
            o_begin(&o);
            o_u8(&o, 0xFE);
            o_bytes(&o, "mysql_native_password", 22);
            o_bytes(&o, "abcdefghij0123456789", 21);
            o_end(&o);
            c->phase = P_SWITCHED;
            send_out(c, &o, o.len);
            break;
        }
        if (c->hs_mode == FB_HS_SHA2) {
            o_begin(&o);
            o_u8(&o, 0x01);
            o_u8(&o, 0x03);
            o_end(&o);
        }
        o_ok(&o, c->caps, 0, 0, c->status, NULL);
        c->phase = P_CMD;
        send_out(c, &o, o.len);
        break;
    case P_SWITCHED:
        o_ok(&o, c->caps, 0, 0, c->status, NULL);
        c->phase = P_CMD;
        send_out(c, &o, o.len);
        break;
    case P_INFILE:
        if (c->head_len == 0) {
            c->phase = P_CMD;
            o_ok(&o, c->caps, 1, 0, c->status, NULL);
            send_out(c, &o, o.len);
        }
        break;
    default:
        handle_command(c);
        break;
    }
    free(o.p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    b->base = (char *)read_scratch;
    b->len = sizeof(read_scratch);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    fb_conn_t *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    const uint8_t *p = (const uint8_t *)b->base;
    size_t n = (size_t)nread;
    while (n > 0 && !c->stalled && !c->closing) {
        if (c->hdr_have < MX_PKT_HDR) {
            c->hdr[c->hdr_have++] = *p++;
            n--;
            if (c->hdr_have < MX_PKT_HDR)
                continue;
            c->pkt_len = c->pkt_left = mx_pkt_len(c->hdr);
            c->seq = mx_pkt_seq(c->hdr);
            if (!c->cont)
                c->head_len = 0;
        } else {
            size_t take = n < c->pkt_left ? n : c->pkt_left;
            size_t keep = HEAD_MAX - c->head_len < take ? HEAD_MAX - c->head_len : take;
            memcpy(c->head + c->head_len, p, keep);
            c->head_len += keep;
            c->pkt_left -= (uint32_t)take;
            p += take;
            n -= take;
        }
        if (c->pkt_left == 0) {
            c->hdr_have = 0;
            c->cont = c->pkt_len == MX_PKT_MAX;
            if (!c->cont)
                handle_packet(c);
        }
    }
}

static void send_handshake(fb_conn_t *c)
{
    uint8_t mem[256], scramble[MX_SCRAMBLE_LEN];
    mx_pktbuf_t b;
    memcpy(scramble, "0123456789abcdefghij", MX_SCRAMBLE_LEN);
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    uint32_t caps = MX_CLIENT_LONG_PASSWORD | MX_CLIENT_FOUND_ROWS | MX_CLIENT_LONG_FLAG |
                    MX_CLIENT_CONNECT_WITH_DB | MX_CLIENT_LOCAL_FILES | MX_CLIENT_PROTOCOL_41 |
                    MX_CLIENT_TRANSACTIONS | MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_MULTI_STATEMENTS |
                    MX_CLIENT_MULTI_RESULTS | MX_CLIENT_PS_MULTI_RESULTS | MX_CLIENT_PLUGIN_AUTH |
                    MX_CLIENT_CONNECT_ATTRS | MX_CLIENT_PLUGIN_AUTH_LENENC | MX_CLIENT_SESSION_TRACK |
                    MX_CLIENT_DEPRECATE_EOF;
    uint32_t ext = 0;
    if (c->fb->s.ext_caps) {
        caps &= ~MX_CLIENT_LONG_PASSWORD;
        ext = MX_MARIADB_STMT_BULK_OPS | MX_MARIADB_EXTENDED_TYPE_INFO;
    }
    mx_pkt_handshake(&b, "5.5.5-10.11.6-MariaDB-fake", (uint32_t)(1000 + c->index), scramble, caps, ext, 45,
                     MX_STATUS_AUTOCOMMIT,
                     c->hs_mode == FB_HS_SHA2 ? "caching_sha2_password" : "mysql_native_password");
    if (b.failed)
        abort();
    raw_send(c, b.data, b.len);
}

static void on_connection(uv_stream_t *server, int status)
{
    fb_t *fb = server->data;
    if (status < 0 || fb->closing)
        return;
    fb_conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->fb = fb;
    c->index = fb->n_accepted++;
    c->status = MX_STATUS_AUTOCOMMIT;
    c->hs_mode = fb->s.hs_conn == 0xFF || fb->s.hs_conn == c->index ? fb->s.hs_mode : FB_HS_OK;
    uv_tcp_init(fb->loop, &c->tcp);
    uv_timer_init(fb->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    fb->handles_open += 2;
    c->next = fb->conns;
    fb->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    /* Split responses must reach manx in pieces, not wait for an ACK. */
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    switch (c->hs_mode) {
    case FB_HS_ERR: {
        out_t o = { 0 };
        o_err(&o, 1040, "08004", "Too many connections");
        send_out(c, &o, o.len);
        free(o.p);
        conn_close(c);
        return;
    }
    case FB_HS_STALL:
        c->stalled = true;
        return;
    case FB_HS_GARBAGE: {
        static const uint8_t junk[] = { 0x03, 0x00, 0x00, 0x00, 0x0a, 0x35, 0x00 };
        raw_send(c, junk, sizeof(junk));
        return;
    }
    case FB_HS_CLOSE:
        conn_close(c);
        return;
    default:
        send_handshake(c);
        return;
    }
}

/* ---- the backend as a whole ---------------------------------------------------- */

fb_t *fb_start(uv_loop_t *loop, int listen_fd, const fb_script_t *script)
{
    fb_t *fb = calloc(1, sizeof(*fb));
    if (!fb)
        return NULL;
    fb->loop = loop;
    fb->s = *script;
    int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        free(fb);
        return NULL;
    }
    uv_tcp_init(loop, &fb->listener);
    fb->listener.data = fb;
    fb->handles_open = 1;
    if (uv_tcp_open(&fb->listener, fd) != 0 || uv_listen((uv_stream_t *)&fb->listener, 64, on_connection) != 0) {
        fb_close(fb);
        return fb; /* the caller's connections will be refused or time out */
    }
    return fb;
}

void fb_drop_connections(fb_t *fb)
{
    for (fb_conn_t *c = fb->conns; c; c = c->next)
        conn_close(c);
}

static void on_listener_closed(uv_handle_t *h)
{
    fb_t *fb = h->data;
    fb->handles_open--;
}

void fb_close(fb_t *fb)
{
    fb_drop_connections(fb);
    if (!fb->closing) {
        fb->closing = true;
        uv_close((uv_handle_t *)&fb->listener, on_listener_closed);
    }
}

bool fb_closed(const fb_t *fb)
{
    return fb->handles_open == 0;
}

void fb_free(fb_t *fb)
{
    free(fb);
}

uint32_t fb_commands(const fb_t *fb)
{
    return fb->n_cmds;
}
