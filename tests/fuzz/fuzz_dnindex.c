/* Fuzz driver for the dnindex.properties parser (read at start-up and on
 * SIGHUP from a file anyone with access to state_dir may have edited). */
#include <stdint.h>
#include <string.h>

#include "router/dnindex.h"

static void ignore(void *arg, int line, const char *msg)
{
    (void)arg;
    (void)line;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mx_host_t hosts[2];
    static mx_datahost_t dh;
    static mx_config_t cfg;
    strcpy(dh.name, "localhost1");
    dh.write_hosts[0] = &hosts[0];
    dh.write_hosts[1] = &hosts[1];
    dh.n_write_hosts = 2;
    cfg.datahosts = &dh;
    cfg.n_datahosts = 1;
    int idx[1] = {0};
    mx_dnindex_parse((const char *)data, size, &cfg, idx, ignore, NULL);
    if (idx[0] < 0 || idx[0] > 1)
        __builtin_trap();
    char buf[128];
    mx_dnindex_format(buf, sizeof(buf), &cfg, idx, 0);
    return 0;
}
