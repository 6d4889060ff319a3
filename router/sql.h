/* Transitional: proxy/ moves to mx_sql_scan() (router/classify.h), which
 * reports all of this in one pass under the session's real sql_mode and
 * charset.  Until then these keep their old contracts as thin wrappers over
 * it, reading text as {sql_mode 0, utf8, unknown server version}.  Only
 * mx_sql_like() stays for good.  No I/O and no allocation. */
#ifndef MX_ROUTER_SQL_H
#define MX_ROUTER_SQL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define MX_MARK_USERVAR    0x01u /* @name outside quotes (not @@) */
#define MX_MARK_TEMP       0x02u /* TEMPORARY keyword */
#define MX_MARK_LOCK       0x04u /* GET_LOCK(, LOCK TABLE(S) */
#define MX_MARK_PREPARE    0x08u /* SQL-level PREPARE */
#define MX_MARK_FOUND_ROWS 0x10u /* SQL_CALC_FOUND_ROWS */
#define MX_MARK_LAST_INSERT_ID 0x20u /* LAST_INSERT_ID, @@identity, @@last_insert_id */

/* Transitional: from mx_sql_info_t.flags (USERVAR: USERVAR_SET|READ|ASSIGN;
 * TEMP: TEMP_TABLE; LOCK: LOCK_FUNC|LOCK_TABLES; PREPARE; FOUND_ROWS:
 * SQL_CALC_FOUND_ROWS; LAST_INSERT_ID). */
uint32_t mx_sql_marks(const uint8_t *q, size_t n);

/* Transitional (mx_sql_info_t.local).  Returns 1 and copies the database
 * name (unquoted) when q is a single `USE name` statement, 0 when no
 * statement of q is a USE, -1 when one is but q is not a single USE with a
 * name that fits. */
int mx_sql_use(const uint8_t *q, size_t n, char *name, size_t cap);

#endif

/* Transitional (mx_sql_info_t.local): statements manx answers itself.  Both
 * return 1 when q is exactly that single statement (spaces, comments and
 * trailing ';' allowed). */

/* `SELECT DATABASE()` / `SELECT SCHEMA()` with an optional alias; `name`
 * gets the column name the server would use (alias, or the call as typed). */
int mx_sql_select_database(const uint8_t *q, size_t n, char *name, size_t cap);

/* `SELECT CONNECTION_ID()` with an optional alias, as above. */
int mx_sql_select_connection_id(const uint8_t *q, size_t n, char *name, size_t cap);

/* `SHOW DATABASES` / `SHOW SCHEMAS` with an optional `LIKE 'pattern'`;
 * `like` gets the pattern ("" when none). */
int mx_sql_show_databases(const uint8_t *q, size_t n, char *like, size_t cap);

/* SQL LIKE match with % and _, case-insensitive for ASCII, no escapes. */
bool mx_sql_like(const char *pattern, const char *s);

/* Transitional (mx_sql_cb_t.db_name, MX_SQL_DB_QUALIFIER).
 * Logical schema qualifiers: `aiurt-platform`.t -> `aiurt_platform`.t.
 * `map` returns the real database name for a logical schema name the
 * session may use, or NULL.  Identifiers (bare or backticked) directly
 * followed by '.' outside strings and comments are looked up; the text
 * with replacements is appended to out.  Returns the number replaced (0:
 * out untouched, use the original). */
typedef const char *(*mx_sql_schema_map_fn)(void *arg, const char *name, size_t len);
struct mx_pktbuf_s;
size_t mx_sql_map_schemas(const uint8_t *q, size_t n, mx_sql_schema_map_fn map, void *arg,
                          struct mx_pktbuf_s *out);

/* Transitional (mx_sql_cb_t.uservar, MX_SQLF_USERVAR_LITERAL).
 * User variables set by a plain SET with literal values, so they can be
 * replayed on other backends: calls cb(name, value) for each `@name = lit`
 * (value is the literal's text, verbatim).  Returns 1 when q is a SET whose
 * user-variable assignments all have literal values (system variables may
 * be mixed in) and that reads no user variable, 0 otherwise (not a SET, an
 * expression that a replay might evaluate differently, a quoted or
 * non-ASCII variable name, which the replay would write back unquoted, or
 * a literal that reads differently under another sql_mode or charset). */
typedef void (*mx_sql_uservar_fn)(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen);
int mx_sql_set_uservars(const uint8_t *q, size_t n, mx_sql_uservar_fn cb, void *arg);
