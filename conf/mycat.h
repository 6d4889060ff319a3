/* Reads a Mycat 1.6 conf/ directory (server.xml, schema.xml,
 * dnindex.properties) and turns it into the manx INI that means the same,
 * which conf.c then loads and validates as it would a file: both paths give
 * the same mx_config_t, and `manx --mycat-conf DIR --print-ini` prints that
 * INI.  What manx cannot honour is a warning naming file, line and element;
 * what would change the meaning (sharded tables, DML privileges) is an
 * error unless the caller accepts it.  Knows nothing of the running proxy. */
#ifndef MX_CONF_MYCAT_H
#define MX_CONF_MYCAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

/* --mycat-ignore-sharding: <table>s become warnings; their statements go
 * to the schema's dataNode like every other. */
#define MX_MYCAT_IGNORE_SHARDING 0x1u

/* The largest XML file read (Mycat's own are a few KB). */
#define MX_MYCAT_MAX_FILE (4u << 20)

/* Called once per warning with "FILE:LINE: <element>: what and why". */
typedef void (*mx_mycat_warn_cb)(void *arg, const char *msg);

/* The three files' contents, for tests and fuzzing (no file is read).
 * dnindex may be NULL: no dnindex.properties. */
typedef struct mx_mycat_files_s {
    const char *server;
    size_t server_len;
    const char *schema;
    size_t schema_len;
    const char *dnindex;
    size_t dnindex_len;
} mx_mycat_files_t;

/* The translation: the INI text and where each of its lines came from. */
typedef struct mx_mycat_ini_s {
    char *text;                  /* NUL-terminated INI */
    size_t len;
    mx_conf_origin_t *origins;   /* origins[i]: INI line i + 1 */
    size_t n_origins;
    char *files[3];              /* internal: server.xml, schema.xml, dnindex.properties paths */
    char (*whats)[128];          /* internal: origins[i].what points at whats[i] */
    int *fidx;                   /* internal: origins[i].file is files[fidx[i]], -1 none */
    size_t cap, origins_cap;
} mx_mycat_ini_t;

/* Translate the Mycat directory `dir` (files == NULL: read its files;
 * else use those contents, `dir` only naming them).  Returns false with
 * "FILE:LINE: reason" in err; true with the INI in *out (free it with
 * mx_mycat_ini_free).  Warnings go to warn (may be NULL). */
bool mx_mycat_translate(const char *dir, const mx_mycat_files_t *files, unsigned flags,
                        mx_mycat_warn_cb warn, void *arg, mx_mycat_ini_t *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void mx_mycat_ini_free(mx_mycat_ini_t *ini);

/* Translate and load: the config a Mycat user gets from
 * `manx --mycat-conf dir`.  Errors of the INI loader name the XML file and
 * line.  NULL with err on failure. */
mx_config_t *mx_mycat_load(const char *dir, unsigned flags, mx_mycat_warn_cb warn, void *arg, char *err,
                           size_t errlen);

/* --print-ini: translate, check that the INI loads, and write it to out;
 * warnings go to stderr.  False with err when either step fails. */
bool mx_mycat_print_ini(const char *dir, unsigned flags, FILE *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
