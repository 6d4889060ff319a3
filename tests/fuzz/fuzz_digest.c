/* libFuzzer driver for router/digest.c: any bytes, in any lexer mode (the
 * first two bytes, see fuzz_mode.h), give a NUL-terminated fingerprint
 * within the buffer, without control bytes, whose hash is the FNV-1a of
 * what was written, and the same fingerprint twice. */
#include <stdint.h>
#include <string.h>

#include "fuzz_mode.h"
#include "router/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mx_lexmode_t mode;
    fuzz_mode(&data, &size, &mode);
    /* A small buffer too, so the cut is exercised. */
    size_t caps[2] = {MX_DIGEST_TEXT_MAX, 8 + (size % 40)};
    for (int c = 0; c < 2; c++) {
        char out[MX_DIGEST_TEXT_MAX + 1], again[MX_DIGEST_TEXT_MAX + 1];
        memset(out, 0x55, sizeof(out));
        uint64_t h = mx_digest(data, size, &mode, out, caps[c]);
        size_t len = strnlen(out, caps[c]);
        if (len >= caps[c] || out[caps[c]] != 0x55)
            __builtin_trap();
        uint64_t f = UINT64_C(14695981039346656037);
        for (size_t i = 0; i < len; i++) {
            if ((uint8_t)out[i] < 0x20 || out[i] == 0x7f)
                __builtin_trap();
            f ^= (uint8_t)out[i];
            f *= UINT64_C(1099511628211);
        }
        if (f != h || mx_digest(data, size, &mode, again, caps[c]) != h || strcmp(again, out) != 0)
            __builtin_trap();
    }
    return 0;
}
