/* Fuzz driver for the dnindex.properties parser (read at start-up and on
 * SIGHUP from a file anyone with access to state_dir may have edited).
 * Besides not crashing: every index applied is in range, and what manx
 * writes back reads back to the same indexes. */
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
    static mx_host_t hosts[3];
    static mx_datahost_t dh[2];
    static mx_config_t cfg;
    strcpy(dh[0].name, "localhost1");
    dh[0].write_hosts[0] = &hosts[0];
    dh[0].write_hosts[1] = &hosts[1];
    dh[0].n_write_hosts = 2;
    strcpy(dh[1].name, "DH_Main");
    dh[1].write_hosts[0] = &hosts[0];
    dh[1].write_hosts[1] = &hosts[1];
    dh[1].write_hosts[2] = &hosts[2];
    dh[1].n_write_hosts = 3;
    cfg.datahosts = dh;
    cfg.n_datahosts = 2;
    int idx[2] = {0, 0};
    mx_dnindex_parse((const char *)data, size, &cfg, idx, ignore, NULL);
    if (idx[0] < 0 || idx[0] > 1 || idx[1] < 0 || idx[1] > 2)
        __builtin_trap();
    char buf[512];
    if (mx_dnindex_format_cap(&cfg) > sizeof(buf))
        __builtin_trap();
    int n = mx_dnindex_format(buf, sizeof(buf), &cfg, idx, 0);
    int back[2] = {-1, -1};
    if (n < 0 || mx_dnindex_parse(buf, (size_t)n, &cfg, back, ignore, NULL) != 2 || back[0] != idx[0] ||
        back[1] != idx[1])
        __builtin_trap();
    return 0;
}
