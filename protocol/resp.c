/* Response boundary tracker: a small state machine per command that looks
 * only at the first bytes of each packet a server sends and decides where
 * the response ends.  See resp.h for what the caller must hand in. */
#include "resp.h"

/* No server sends anywhere near this many columns; a larger count means the
 * stream is out of step (MySQL and MariaDB stop at 4096 per table and the
 * prepared-statement protocol at 65535). */
#define MAX_COLUMNS (1u << 20)

bool mx_resp_expected(uint8_t cmd)
{
    switch (cmd) {
    case MX_COM_STMT_CLOSE:
    case MX_COM_STMT_SEND_LONG_DATA:
    case MX_COM_QUIT:
        return false;
    default:
        return true;
    }
}

void mx_resp_begin(mx_resp_t *r, uint32_t caps, const uint8_t *req, size_t req_len)
{
    memset(r, 0, sizeof(*r));
    r->caps = caps;
    r->cmd = req_len > 0 ? req[0] : MX_COM_SLEEP;
    switch (r->cmd) {
    case MX_COM_STMT_EXECUTE:
        /* The flags byte after the statement id may ask for a cursor;
         * whether the server opened one, the column EOF tells. */
        r->cursor = req_len > 5 && req[5] != 0;
        r->phase = MX_RP_FIRST;
        break;
    case MX_COM_STMT_FETCH:
        r->phase = MX_RP_ROWS;
        break;
    case MX_COM_FIELD_LIST:
        r->phase = MX_RP_FIELDS;
        break;
    default:
        r->phase = MX_RP_FIRST;
        break;
    }
}

void mx_resp_infile_sent(mx_resp_t *r)
{
    if (r->phase == MX_RP_INFILE_WAIT)
        r->phase = MX_RP_FIRST;
}

static bool deprecate_eof(const mx_resp_t *r)
{
    return (r->caps & MX_CLIENT_DEPRECATE_EOF) != 0;
}

/* Status and warnings of an OK packet from the bytes at hand; the info and
 * session state that follow them are of no interest here. */
static int take_ok(mx_resp_t *r, const uint8_t *p, size_t n)
{
    mx_rd_t rd;
    uint8_t hdr;
    uint64_t v;

    mx_rd_init(&rd, p, n);
    if (!mx_rd_u8(&rd, &hdr) || !mx_rd_lenenc(&rd, &v, NULL) || !mx_rd_lenenc(&rd, &v, NULL))
        return -1;
    if (r->caps & MX_CLIENT_PROTOCOL_41) {
        if (!mx_rd_fixed(&rd, 2, &v))
            return -1;
        r->status = (uint16_t)v;
        if (!mx_rd_fixed(&rd, 2, &v))
            return -1;
        r->warnings = (uint16_t)v;
    } else if (r->caps & MX_CLIENT_TRANSACTIONS) {
        if (!mx_rd_fixed(&rd, 2, &v))
            return -1;
        r->status = (uint16_t)v;
        r->warnings = 0;
    }
    r->last_ok = true;
    r->got_ok = true;
    return 0;
}

static int take_eof(mx_resp_t *r, const uint8_t *p, size_t n)
{
    if (mx_parse_eof(p, n, &r->warnings, &r->status) < 0)
        return -1;
    r->last_eof = true;
    return 0;
}

static int take_err(mx_resp_t *r, const uint8_t *p, size_t n)
{
    if (n < 3)
        return MX_RESP_BAD;
    r->is_error = true;
    r->err_code = (uint16_t)mx_rd_u16(p + 1);
    r->phase = MX_RP_DONE;
    return MX_RESP_DONE;
}

/* 0xFE that ends rows, field lists and prepare metadata: an OK packet under
 * DEPRECATE_EOF (where a row can start with 0xFE only if it is at least
 * 16 MB long), a classic EOF (shorter than 9 bytes) otherwise. */
static bool is_terminator(const mx_resp_t *r, const uint8_t *p, uint32_t pkt_len)
{
    if (pkt_len < 1 || p[0] != 0xfe)
        return false;
    return deprecate_eof(r) ? pkt_len < MX_PKT_MAX : pkt_len < 9;
}

static int take_terminator(mx_resp_t *r, const uint8_t *p, size_t n)
{
    return deprecate_eof(r) ? take_ok(r, p, n) : take_eof(r, p, n);
}

/* After the last OK/EOF of a result: either another result follows
 * (multi-statement or CALL) or the response is complete. */
static int result_end(mx_resp_t *r)
{
    if (r->status & MX_STATUS_MORE_RESULTS) {
        r->phase = MX_RP_FIRST;
        return MX_RESP_MORE;
    }
    r->phase = MX_RP_DONE;
    return MX_RESP_DONE;
}

/* First packet of a text or binary result: OK, ERR, LOCAL INFILE request or
 * the column count of a result set. */
static int feed_first(mx_resp_t *r, const uint8_t *p, size_t n)
{
    uint64_t cols;

    if (n < 1)
        return MX_RESP_BAD;
    switch (p[0]) {
    case 0x00:
        if (take_ok(r, p, n) < 0)
            return MX_RESP_BAD;
        return result_end(r);
    case 0xfb:
        r->phase = MX_RP_INFILE_WAIT;
        return MX_RESP_INFILE;
    default:
        if (mx_lenenc_decode(p, n, &cols) <= 0 || cols == 0 || cols > MAX_COLUMNS)
            return MX_RESP_BAD;
        r->left = cols;
        r->phase = MX_RP_COLS;
        return MX_RESP_MORE;
    }
}

static int feed_prepare_ok(mx_resp_t *r, const uint8_t *p, size_t n)
{
    if (mx_parse_prepare_ok(p, n, &r->prepare) < 0)
        return MX_RESP_BAD;
    if (r->prepare.num_params > 0) {
        r->left = r->prepare.num_params;
        r->phase = MX_RP_PREP_PARAMS;
    } else if (r->prepare.num_columns > 0) {
        r->left = r->prepare.num_columns;
        r->phase = MX_RP_PREP_COLS;
    } else {
        r->phase = MX_RP_DONE;
        return MX_RESP_DONE;
    }
    return MX_RESP_MORE;
}

/* After the parameter definitions (and their EOF) of a prepare response. */
static int prepare_params_done(mx_resp_t *r)
{
    if (r->prepare.num_columns > 0) {
        r->left = r->prepare.num_columns;
        r->phase = MX_RP_PREP_COLS;
        return MX_RESP_MORE;
    }
    r->phase = MX_RP_DONE;
    return MX_RESP_DONE;
}

/* A single-packet response: OK, ERR or (COM_SET_OPTION, COM_DEBUG and old
 * servers) EOF.  COM_CHANGE_USER does not belong here: its answer is an
 * authentication exchange, which the proxy follows itself. */
static int feed_simple(mx_resp_t *r, const uint8_t *p, size_t n)
{
    if (n < 1)
        return MX_RESP_BAD;
    if (p[0] == 0x00) {
        if (take_ok(r, p, n) < 0)
            return MX_RESP_BAD;
    } else if (p[0] == 0xfe) {
        if (take_terminator(r, p, n) < 0)
            return MX_RESP_BAD;
    } else {
        return MX_RESP_BAD;
    }
    r->phase = MX_RP_DONE;
    return MX_RESP_DONE;
}

/* Interprets the first (or only) packet of a logical packet. */
static int feed_packet(mx_resp_t *r, const uint8_t *p, size_t n, uint32_t pkt_len)
{
    /* An ERR can end any response at any point: no row, column definition
     * or first packet of a result starts with 0xFF.  Error code 0xFFFF is a
     * MariaDB progress report, which only clients that asked for
     * CLIENT_PROGRESS get; it changes nothing. */
    if (n >= 1 && p[0] == 0xff) {
        if (n >= 3 && mx_rd_u16(p + 1) == 0xffff)
            return MX_RESP_MORE;
        return take_err(r, p, n);
    }

    switch (r->phase) {
    case MX_RP_FIRST:
        /* A bulk execute answers OK, or (INSERT ... RETURNING, unit
         * results) result sets, as an execute does. */
        if (r->cmd == MX_COM_QUERY || r->cmd == MX_COM_STMT_EXECUTE ||
            r->cmd == MX_COM_STMT_BULK_EXECUTE || r->cmd == MX_COM_PROCESS_INFO)
            return feed_first(r, p, n);
        if (r->cmd == MX_COM_STMT_PREPARE)
            return feed_prepare_ok(r, p, n);
        if (r->cmd == MX_COM_STATISTICS) {
            r->phase = MX_RP_DONE;
            return MX_RESP_DONE;
        }
        return feed_simple(r, p, n);

    case MX_RP_COLS:
    case MX_RP_PREP_PARAMS:
    case MX_RP_PREP_COLS:
        /* An EOF before all definitions arrived means we lost step. */
        if (n < 1 || (is_terminator(r, p, pkt_len) && pkt_len < 9))
            return MX_RESP_BAD;
        if (--r->left > 0)
            return MX_RESP_MORE;
        if (!deprecate_eof(r)) {
            r->phase++;  /* each *_EOF phase directly follows its phase */
            return MX_RESP_MORE;
        }
        if (r->phase == MX_RP_COLS) {
            r->phase = MX_RP_ROWS;
            return MX_RESP_MORE;
        }
        if (r->phase == MX_RP_PREP_PARAMS)
            return prepare_params_done(r);
        r->phase = MX_RP_DONE;
        return MX_RESP_DONE;

    case MX_RP_COLS_EOF:
    case MX_RP_PREP_PARAMS_EOF:
    case MX_RP_PREP_COLS_EOF:
        if (take_eof(r, p, n) < 0)
            return MX_RESP_BAD;
        if (r->phase == MX_RP_PREP_PARAMS_EOF)
            return prepare_params_done(r);
        if (r->phase == MX_RP_PREP_COLS_EOF) {
            r->phase = MX_RP_DONE;
            return MX_RESP_DONE;
        }
        /* A cursor keeps the rows on the server for COM_STMT_FETCH. */
        if (r->cursor && (r->status & MX_STATUS_CURSOR_EXISTS)) {
            r->phase = MX_RP_DONE;
            return MX_RESP_DONE;
        }
        r->phase = MX_RP_ROWS;
        return MX_RESP_MORE;

    case MX_RP_ROWS:
        if (!is_terminator(r, p, pkt_len)) {
            r->rows++;
            return n >= 1 ? MX_RESP_MORE : MX_RESP_BAD;
        }
        if (take_terminator(r, p, n) < 0)
            return MX_RESP_BAD;
        return result_end(r);

    case MX_RP_FIELDS:
        if (!is_terminator(r, p, pkt_len))
            return n >= 1 ? MX_RESP_MORE : MX_RESP_BAD;
        if (take_terminator(r, p, n) < 0)
            return MX_RESP_BAD;
        r->phase = MX_RP_DONE;
        return MX_RESP_DONE;

    case MX_RP_INFILE_WAIT:
    case MX_RP_DONE:
    default:
        return MX_RESP_BAD;
    }
}

int mx_resp_feed(mx_resp_t *r, const uint8_t *p, size_t avail, uint32_t pkt_len)
{
    size_t n = avail < pkt_len ? avail : pkt_len;
    bool was_continuing = r->continuing;

    r->last_ok = false;
    r->last_eof = false;
    r->continuing = pkt_len == MX_PKT_MAX;

    /* The tail of a logical packet that was interpreted from its first
     * part: report what that interpretation decided once it is complete. */
    if (was_continuing) {
        if (r->continuing)
            return MX_RESP_MORE;
        if (r->phase == MX_RP_DONE)
            return MX_RESP_DONE;
        if (r->phase == MX_RP_INFILE_WAIT)
            return MX_RESP_INFILE;
        return MX_RESP_MORE;
    }

    if (r->phase == MX_RP_DONE || r->phase == MX_RP_INFILE_WAIT)
        return MX_RESP_BAD;
    r->packets++;
    int rc = feed_packet(r, p, n, pkt_len);
    if (rc == MX_RESP_BAD) {
        r->continuing = false;
        r->phase = MX_RP_DONE;
        return rc;
    }
    /* The response cannot end before the rest of this packet arrives. */
    if (r->continuing && rc != MX_RESP_MORE)
        return MX_RESP_MORE;
    return rc;
}
