/* Logical schema names in a backend's answers: a manx schema may stand for
 * a database of another name (Mycat's `schema` -> `dataNode database`), and
 * the client must see only the logical name.  This rewrites the packets of
 * a response that can carry a database name: column definitions (their
 * schema field, SHOW TABLES' "Tables_in_<db>" column, a DATABASE() call
 * manx replaced by a literal), the values of information_schema columns
 * that hold schema names (TABLE_SCHEMA, SCHEMA_NAME, ..., also under the
 * names SHOW gives them), and ERR messages (`Table 'db.t' doesn't exist`).
 * A value is mapped when it equals a real database name exactly; anything
 * else, a data value in an ordinary table included, is left alone.  Pure
 * codec: no I/O, callers hand in whole payloads. */
#ifndef MX_PROTOCOL_SCHEMAMAP_H
#define MX_PROTOCOL_SCHEMAMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* What manx writes for DATABASE() in a statement it forwards for a session
 * whose schema is mapped: the logical name (hex, so that no sql_mode or
 * client charset changes its reading) with DATABASE()'s own type, length
 * and collation; PREFIX hex SUFFIX.  A column named after it is renamed
 * back to "DATABASE()". */
#define MX_SMAP_DBF_PREFIX "IF(0, REPEAT(_utf8mb3' ', 64), _utf8mb3 X'"
#define MX_SMAP_DBF_SUFFIX "')"

typedef struct mx_smap_pair_s {
    const char *real;    /* the database the backends know */
    const char *logical; /* the name the client sees */
} mx_smap_pair_t;

/* Result sets with more columns than this keep their values unmapped
 * (their column definitions are still mapped). */
#define MX_SMAP_MAX_COLS 512

/* What the column definitions of the current result set said, for its rows. */
typedef struct mx_smap_rs_s {
    uint32_t ncols;          /* column definitions seen */
    bool any;                /* some column's values are schema names */
    bool too_many;           /* more than MX_SMAP_MAX_COLS columns */
    uint8_t type[MX_SMAP_MAX_COLS];
    uint8_t map[MX_SMAP_MAX_COLS / 8];
} mx_smap_rs_t;

/* A new result set begins (its column count packet). */
void mx_smap_rs_begin(mx_smap_rs_t *rs);

/* Each of these returns 1 when it wrote a changed packet (sequence `seq`)
 * to out, 0 when the packet needs no change (nothing written), -1 when it
 * is malformed (nothing written: the caller forwards it as it is).
 * `ext`: the column definitions carry MariaDB's extended type metadata. */
int mx_smap_coldef(const mx_smap_pair_t *m, size_t n, mx_smap_rs_t *rs, bool ext, const uint8_t *p,
                   size_t len, mx_pktbuf_t *out, uint8_t seq);
/* A row of the current result set; binary: a COM_STMT_EXECUTE row. */
int mx_smap_row(const mx_smap_pair_t *m, size_t n, const mx_smap_rs_t *rs, bool binary, const uint8_t *p,
                size_t len, mx_pktbuf_t *out, uint8_t seq);
/* An ERR packet (0xFF ...): real names quoted in its message. */
int mx_smap_err(const mx_smap_pair_t *m, size_t n, const uint8_t *p, size_t len, mx_pktbuf_t *out,
                uint8_t seq);

#endif
