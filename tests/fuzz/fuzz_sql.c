/* Fuzz driver for router/sql.c: the markers scan and the recognizers of
 * USE, SELECT DATABASE() and SHOW DATABASES run on every client query. */
#include <stdint.h>
#include <string.h>

#include "protocol/packet.h"
#include "router/sql.h"

static const char *map(void *arg, const char *name, size_t len)
{
    (void)arg;
    return len == 4 && memcmp(name, "shop", 4) == 0 ? "shop_real" : NULL;
}

static void uv_noop(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
    (void)arg;
    (void)name;
    (void)nlen;
    (void)val;
    (void)vlen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[65];
    mx_sql_marks(data, size);
    mx_sql_use(data, size, buf, sizeof(buf));
    mx_sql_select_database(data, size, buf, sizeof(buf));
    mx_sql_select_connection_id(data, size, buf, sizeof(buf));
    mx_sql_set_uservars(data, size, uv_noop, NULL);
    mx_pktbuf_t b;
    mx_pktbuf_init(&b);
    mx_sql_map_schemas(data, size, map, NULL, &b);
    mx_pktbuf_free(&b);
    if (mx_sql_show_databases(data, size, buf, sizeof(buf)) == 1)
        mx_sql_like(buf, "aiurt-platform");
    return 0;
}
