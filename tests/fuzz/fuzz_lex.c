/* libFuzzer driver for router/lex.c: any bytes, in any mode (from the first
 * two bytes, see fuzz_mode.h), must tokenize without reading outside the
 * input, with tokens that cover the text in order and leave between them
 * only what the lexer skips (spaces, comments, executable-comment marks). */
#include <stdint.h>
#include <string.h>

#include "fuzz_mode.h"
#include "router/lex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mx_lexmode_t mode;
    fuzz_mode(&data, &size, &mode);
    mx_lex_t lx;
    mx_lex_init(&lx, data, size, &mode);
    size_t prev_e = 0, tokens = 0;
    for (;;) {
        mx_tok_t t;
        mx_lex_next(&lx, &t);
        if (t.s < prev_e || t.e < t.s || t.e > size || t.type > MX_TOK_PUNCT)
            __builtin_trap();
        if (t.type == MX_TOK_END) {
            if (t.s != size || t.e != size)
                __builtin_trap();
            break;
        }
        /* Every token consumes input, so the loop ends. */
        if (t.e == t.s || ++tokens > size)
            __builtin_trap();
        if ((t.type == MX_TOK_PUNCT) != (t.ch != 0))
            __builtin_trap();
        if (t.type == MX_TOK_PUNCT && (t.e - t.s != 1 || data[t.s] != t.ch))
            __builtin_trap();
        if (t.type == MX_TOK_SEMI && (t.e - t.s != 1 || data[t.s] != ';'))
            __builtin_trap();
        if (t.type == MX_TOK_ASSIGN && (t.e - t.s != 2 || data[t.s] != ':' || data[t.s + 1] != '='))
            __builtin_trap();
        if ((t.type == MX_TOK_USERVAR || t.type == MX_TOK_SYSVAR) && data[t.s] != '@')
            __builtin_trap();
        /* An unterminated quote runs to the end and marks the text. */
        if ((t.flags & MX_TOKF_OPEN) && (t.e != size || !lx.malformed))
            __builtin_trap();
        char buf[65];
        int len = mx_lex_unquote(data, &t, buf, sizeof(buf));
        if (len >= (int)sizeof(buf) || (len >= 0 && buf[len] != 0))
            __builtin_trap();
        if (t.type == MX_TOK_SEMI) {
            if (data[t.e - 1] == ';' && (t.s % 3) == 0)
                mx_lex_mode_changes(&lx, MX_LEX_NEXT_SQL_MODE | MX_LEX_NEXT_CHARSET);
            mx_lex_stmt_end(&lx);
        }
        if (lx.hint_end > size || lx.last_end > size)
            __builtin_trap();
        prev_e = t.e;
    }
    if ((lx.hint == MX_LEX_HINT_NONE) != (lx.hint_end == 0) || lx.hint > MX_LEX_HINT_SLAVE)
        __builtin_trap();
    return 0;
}
