/* The lexer mode of a fuzz input, from its first two bytes, shared by
 * fuzz_lex and fuzz_classify so one corpus file means the same to both:
 * byte 0 holds the sql_mode bits (0-2), the charset kind (3-6, any value,
 * also out of range) and the flavour (7); byte 1 picks a server version. */
#ifndef MX_TESTS_FUZZ_MODE_H
#define MX_TESTS_FUZZ_MODE_H

#include <stddef.h>
#include <stdint.h>

#include "router/lex.h"

static inline void fuzz_mode(const uint8_t **data, size_t *size, mx_lexmode_t *mode)
{
    static const uint32_t versions[8] = {0, 50699, 50700, 80036, 99999, 100000, 101106, 999999};
    mode->sql_mode = 0;
    mode->charset = MX_CS_UTF8;
    mode->server_version = 101106;
    mode->mariadb = true;
    if (*size < 2)
        return;
    mode->sql_mode = (*data)[0] & 0x07u;
    mode->charset = (uint8_t)(((*data)[0] >> 3) & 0x0fu);
    mode->mariadb = !((*data)[0] & 0x80u);
    mode->server_version = versions[(*data)[1] & 7u];
    *data += 2;
    *size -= 2;
}

#endif
