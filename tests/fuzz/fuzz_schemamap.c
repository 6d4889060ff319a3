/* Fuzz target for protocol/schemamap.c: column definitions (both layouts)
 * then rows (text and binary) then an ERR, all from the input; whatever a
 * backend sends, the mapper never reads out of bounds and what it writes
 * is one well-formed packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/schemamap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mx_smap_pair_t pairs[] = {{"app_db", "app-db"}, {"x", "a-much-longer-logical-name"}, {"", "e"}};

static void check(int rc, const mx_pktbuf_t *out)
{
    if (rc == 1 && !out->failed && (out->len < 4 || (size_t)(out->data[0] | out->data[1] << 8 | out->data[2] << 16) != out->len - 4))
        __builtin_trap();
    if (rc != 1 && out->len != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Input: records of [kind][len lo][len hi][payload]; kind & 3 picks
     * coldef / text row / binary row / err, kind & 4 the extended layout. */
    mx_smap_rs_t rs;
    mx_smap_rs_begin(&rs);
    mx_pktbuf_t out;
    mx_pktbuf_init(&out);
    while (size >= 3) {
        uint8_t kind = data[0];
        size_t len = (size_t)data[1] | (size_t)data[2] << 8;
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        uint8_t *p = malloc(len ? len : 1); /* exact size: ASan sees overreads */
        if (!p)
            break;
        memcpy(p, data, len);
        mx_pktbuf_reset(&out);
        int rc;
        switch (kind & 3) {
        case 0:
            rc = mx_smap_coldef(pairs, 3, &rs, (kind & 4) != 0, p, len, &out, 1);
            break;
        case 1:
            rc = mx_smap_row(pairs, 3, &rs, false, p, len, &out, 1);
            break;
        case 2:
            rc = mx_smap_row(pairs, 3, &rs, true, p, len, &out, 1);
            break;
        default:
            rc = mx_smap_err(pairs, 3, p, len, &out, 1);
            break;
        }
        check(rc, &out);
        if (kind & 8)
            mx_smap_rs_begin(&rs);
        free(p);
        data += len;
        size -= len;
    }
    mx_pktbuf_free(&out);
    return 0;
}
