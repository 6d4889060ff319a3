/* Response boundary tracking: follows the packets a server sends back for one
 * command and says when the response is complete, what the final status
 * flags are, and whether the server asked for a LOCAL INFILE.  It never
 * copies or buffers a packet; the caller hands each packet in as it arrives.
 *
 * Contract on what the caller hands in: for every packet, `pkt_len` is the
 * payload length from the header and `p`/`avail` the payload bytes at hand.
 * avail >= min(pkt_len, MX_RESP_PEEK) always; for a payload shorter than
 * MX_RESP_PEEK the whole payload is present.  Continuation packets (those
 * following a payload of exactly 0xFFFFFF bytes) are handed in too. */
#ifndef MX_PROTOCOL_RESP_H
#define MX_PROTOCOL_RESP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "packet.h"

#define MX_RESP_PEEK 16384

enum mx_resp_rc {
    MX_RESP_MORE = 0,      /* response continues */
    MX_RESP_DONE = 1,      /* this packet ended the response */
    MX_RESP_INFILE = 2,    /* server sent 0xFB: the client must now send the
                              file; call mx_resp_infile_sent() after the
                              client's empty packet went to the server */
    MX_RESP_BAD = -1,      /* malformed response: the stream is unusable */
};

enum mx_resp_phase {                  /* internal; exposed for tests */
    MX_RP_FIRST,                      /* expecting the first packet of a result */
    MX_RP_PREP_PARAMS, MX_RP_PREP_PARAMS_EOF,
    MX_RP_PREP_COLS, MX_RP_PREP_COLS_EOF,
    MX_RP_COLS, MX_RP_COLS_EOF,
    MX_RP_ROWS,
    MX_RP_FIELDS,                     /* COM_FIELD_LIST column definitions */
    MX_RP_INFILE_WAIT,                /* file being sent; expecting nothing */
    MX_RP_DONE,
};

typedef struct mx_resp_s {
    uint8_t cmd;                 /* command the response answers */
    uint8_t phase;               /* enum mx_resp_phase */
    bool continuing;             /* previous packet had length 0xFFFFFF */
    bool cursor;                 /* COM_STMT_EXECUTE opened a cursor */
    uint32_t caps;               /* negotiated with the server */
    uint64_t left;               /* column defs / params left in this phase */

    /* Results, valid when MX_RESP_DONE was returned (and partly before). */
    bool is_error;               /* the response ended with ERR */
    bool got_ok;                 /* at least one OK packet (not just EOF) */
    uint16_t status;             /* server status of the last OK/EOF seen */
    uint16_t warnings;           /* of the last OK/EOF seen */
    uint16_t err_code;           /* when is_error */
    mx_prepare_ok_t prepare;     /* COM_STMT_PREPARE: valid if !is_error */
    uint32_t packets;            /* packets seen (logical, not continuations) */
    uint64_t rows;               /* rows of the result sets so far (the console's statistics) */
    bool last_ok;                /* the packet just fed was an OK packet (0x00,
                                    or 0xFE ending rows under DEPRECATE_EOF):
                                    the caller may parse it for session state */
    bool last_eof;               /* the packet just fed was a classic EOF */
} mx_resp_t;

/* Start tracking the response to command `cmd` sent with payload `req`
 * (first bytes of the request, at least 10 for COM_STMT_EXECUTE so the
 * cursor flag can be read).  Commands with no response (COM_STMT_CLOSE,
 * COM_STMT_SEND_LONG_DATA, COM_QUIT) are not begun: see mx_resp_expected(). */
void mx_resp_begin(mx_resp_t *r, uint32_t caps, const uint8_t *req, size_t req_len);
bool mx_resp_expected(uint8_t cmd);

/* Feed one packet; returns an mx_resp_rc. */
int mx_resp_feed(mx_resp_t *r, const uint8_t *p, size_t avail, uint32_t pkt_len);

/* The client's file data (ending with its empty packet) has been forwarded:
 * the server will now answer with OK or ERR. */
void mx_resp_infile_sent(mx_resp_t *r);


#endif
