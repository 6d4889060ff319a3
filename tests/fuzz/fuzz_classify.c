/* libFuzzer driver for router/classify.c: any bytes must classify without
 * reading outside the input, and the outputs must keep their promises. */
#include <stdint.h>
#include <string.h>

#include "router/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mx_sql_info_t info;
    mx_sql_classify(data, size, &info);
    if (info.cls > MX_SQL_WRITE || info.hint > MX_HINT_SLAVE || info.n_stmts > size ||
        info.hint_end > size || info.limit_pos > size || (info.flags & (1u << 31)))
        __builtin_trap();
    if (memchr(info.use_db, 0, sizeof(info.use_db)) == NULL)
        __builtin_trap();
    /* Empty text is WRITE; LIMIT offsets and MULTI follow n_stmts. */
    if (info.n_stmts == 0 && info.cls != MX_SQL_WRITE)
        __builtin_trap();
    if (((info.flags & MX_SQLF_MULTI) != 0) != (info.n_stmts > 1))
        __builtin_trap();
    if ((info.flags & MX_SQLF_SELECT_NO_LIMIT) && (info.n_stmts != 1 || info.limit_pos == 0))
        __builtin_trap();
    if (!(info.flags & MX_SQLF_SELECT_NO_LIMIT) && info.limit_pos != 0)
        __builtin_trap();
    if ((info.hint == MX_HINT_NONE) != (info.hint_end == 0))
        __builtin_trap();
    if ((info.flags & MX_SQLF_SELECT_NO_LIMIT) && info.cls == MX_SQL_SESSION)
        __builtin_trap();
    return 0;
}
