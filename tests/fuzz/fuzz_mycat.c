/* Fuzz driver for conf/mycat.c and the address matcher of proxy/access.c:
 * Mycat directories come from wherever the user copied them, and the
 * patterns from <whitehost>.  The input is split at "\n--8<--\n" into
 * server.xml, schema.xml and dnindex.properties; whatever translates must
 * be an INI the loader takes or refuses with a message, never a crash.
 * Each line of the input is also matched as "pattern address". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/mycat.h"
#include "proxy/access.h"

static const char *cut(const char *p, const char *end, const char **next)
{
    static const char sep[] = "\n--8<--\n";
    const char *s = p ? memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1) : NULL;
    *next = s ? s + sizeof(sep) - 1 : NULL;
    return s ? s : end;
}

static void match_lines(const char *p, size_t n)
{
    char line[128];
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t l = nl ? (size_t)(nl - p - i) : n - i;
        if (l < sizeof(line)) {
            memcpy(line, p + i, l);
            line[l] = '\0';
            char *sp = strchr(line, ' ');
            if (sp) {
                *sp = '\0';
                bool m = mx_access_host_match(line, sp + 1);
                /* An exact pattern matches its own address. */
                if (strcmp(line, sp + 1) == 0 && strlen(line) < MX_HOST_PATTERN_MAX && !strpbrk(line, "*%") &&
                    strspn(line, "0123456789.") == strlen(line) && !m && strlen(line) > 0)
                    __builtin_trap();
            }
        }
        i += l + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size, *n1, *n2, *n3;
    match_lines(p, size);
    const char *e1 = cut(p, end, &n1);
    const char *e2 = n1 ? cut(n1, end, &n2) : end;
    const char *e3 = n1 && n2 ? cut(n2, end, &n3) : end;
    mx_mycat_files_t f = {p, (size_t)(e1 - p), n1 ? n1 : "", n1 ? (size_t)(e2 - n1) : 0, n1 && n2 ? n2 : NULL,
                          n1 && n2 ? (size_t)(e3 - n2) : 0};
    char err[1024];
    mx_mycat_ini_t ini;
    if (mx_mycat_translate("/fuzz", &f, MX_MYCAT_IGNORE_SHARDING, NULL, NULL, &ini, err, sizeof(err))) {
        if (strlen(ini.text) != ini.len)
            __builtin_trap();
        mx_config_t *c = mx_conf_load_mapped("/fuzz/manx-from-mycat.ini", ini.text, ini.len, ini.origins,
                                             ini.n_origins, err, sizeof(err));
        if (!c && !err[0])
            __builtin_trap();
        mx_conf_free(c);
        mx_mycat_ini_free(&ini);
    } else if (!err[0]) {
        __builtin_trap();
    }
    return 0;
}
