/* libFuzzer driver for conf/: any bytes as a config file must load or fail
 * with a message, never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    mx_config_t *c = mx_conf_load_buffer("fuzz.ini", (const char *)data, size, err, sizeof(err));
    if (c) {
        /* Walk what a loaded config promises: resolved names and params. */
        for (size_t i = 0; i < c->n_users; i++)
            for (size_t j = 0; j < c->users[i].n_schemas; j++)
                if (!mx_conf_user_may_use(&c->users[i], c->users[i].schemas[j]))
                    __builtin_trap();
        char reload_err[512];
        if (!mx_conf_check_reload(c, c, reload_err, sizeof(reload_err)))
            __builtin_trap();
        mx_conf_free(c);
    } else if (err[0] == '\0' || strncmp(err, "fuzz.ini", 8) != 0) {
        __builtin_trap();
    }
    return 0;
}
