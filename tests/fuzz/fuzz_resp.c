/* libFuzzer driver for the response tracker.  Input layout:
 *   byte 0   command the response answers
 *   byte 1   selector: bit 0 DEPRECATE_EOF, bit 1 SESSION_TRACK,
 *            bit 2 COM_STMT_EXECUTE asks for a cursor
 *   rest     packets, each a 4-byte header and its payload
 * Each packet is handed to mx_resp_feed() as resp.h's contract says: an
 * exact-size copy of min(length, MX_RESP_PEEK) bytes (zero-padded when the
 * input ends early), so a read past what the caller holds trips ASan.  A
 * payload longer than MX_RESP_PEEK takes only MX_RESP_PEEK input bytes,
 * which lets small inputs describe 0xFFFFFF continuation chains. */
#include <stdint.h>
#include <stdlib.h>

#include "protocol/resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mx_resp_t r;
    uint8_t req[10] = {0};
    uint32_t caps = MX_CLIENT_PROTOCOL_41 | MX_CLIENT_TRANSACTIONS |
        MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_MULTI_STATEMENTS | MX_CLIENT_MULTI_RESULTS |
        MX_CLIENT_PS_MULTI_RESULTS | MX_CLIENT_PLUGIN_AUTH | MX_CLIENT_LOCAL_FILES;

    if (size < 2)
        return 0;
    req[0] = data[0];
    if (data[1] & 1)
        caps |= MX_CLIENT_DEPRECATE_EOF;
    if (data[1] & 2)
        caps |= MX_CLIENT_SESSION_TRACK;
    if (data[1] & 4)
        req[5] = 1;
    if (!mx_resp_expected(req[0]))
        return 0;
    mx_resp_begin(&r, caps, req, sizeof(req));

    size_t off = 2;
    uint32_t logical = 0;
    bool cont = false, done = false;
    while (off + MX_PKT_HDR <= size) {
        uint32_t len = mx_pkt_len(data + off);
        off += MX_PKT_HDR;
        size_t avail = len < MX_RESP_PEEK ? len : MX_RESP_PEEK;
        size_t have = size - off < avail ? size - off : avail;
        uint8_t *p = malloc(avail ? avail : 1);
        if (!p)
            return 0;
        memcpy(p, data + off, have);
        memset(p + have, 0, avail - have);
        off += have;

        if (!cont)
            logical++;
        int rc = mx_resp_feed(&r, p, avail, len);
        free(p);
        cont = len == MX_PKT_MAX;
        if (rc == MX_RESP_BAD)
            break;
        /* Invariants every caller relies on. */
        if (done || r.continuing != cont || r.packets != logical)
            abort();
        if (r.last_ok && r.last_eof)
            abort();
        if (rc == MX_RESP_DONE) {
            if (cont || r.phase != MX_RP_DONE)
                abort();
            done = true;
        } else if (rc == MX_RESP_INFILE) {
            if (cont)
                abort();
            mx_resp_infile_sent(&r);
        } else if (rc != MX_RESP_MORE) {
            abort();
        } else if (r.phase == MX_RP_DONE && !cont) {
            abort();
        }
    }
    return 0;
}
