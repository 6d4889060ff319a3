/* SQL classifier for read/write splitting: one pass over a query's text
 * decides whether it may run on a replica (READ), must hold on every backend
 * of the session (SESSION) or must run on the writer (WRITE), reads Mycat
 * style routing hints and reports the facts the proxy needs for sticky
 * routing and rewriting.  No I/O, no allocation, no copy of the text. */
#ifndef MX_ROUTER_CLASSIFY_H
#define MX_ROUTER_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* Ordered by strength: a multi-statement query takes its strongest part. */
typedef enum {
    MX_SQL_READ = 0,    /* may run on any readable backend */
    MX_SQL_SESSION = 1, /* session state: run here and replay on other backends */
    MX_SQL_WRITE = 2    /* must run on the writer (also unknown and empty text) */
} mx_sql_class_t;

typedef enum {
    MX_HINT_NONE = 0,
    MX_HINT_MASTER = 1, /* db_type=master */
    MX_HINT_SLAVE = 2   /* db_type=slave */
} mx_sql_hint_t;

/* Flags of mx_sql_info_t, the OR over all statements unless noted. */
#define MX_SQLF_FOR_UPDATE       (1u << 0)  /* FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE */
#define MX_SQLF_LAST_INSERT_ID   (1u << 1)  /* LAST_INSERT_ID(), @@identity, @@last_insert_id */
#define MX_SQLF_LOCK_FUNC        (1u << 2)  /* GET_LOCK() and the other named-lock functions */
#define MX_SQLF_FOUND_ROWS       (1u << 3)  /* FOUND_ROWS(), ROW_COUNT() */
#define MX_SQLF_SEQUENCE         (1u << 4)  /* NEXTVAL(), LASTVAL(), SETVAL(), NEXT/PREVIOUS VALUE FOR */
#define MX_SQLF_USERVAR_ASSIGN   (1u << 5)  /* @x := outside SET, SELECT ... INTO @x */
#define MX_SQLF_SELECT_INTO      (1u << 6)  /* a query with INTO (OUTFILE, DUMPFILE, variables) */
#define MX_SQLF_TEMP_TABLE       (1u << 7)  /* CREATE/DROP TEMPORARY TABLE */
#define MX_SQLF_LOCK_TABLES      (1u << 8)  /* LOCK TABLES, FLUSH TABLES WITH READ LOCK / FOR EXPORT */
#define MX_SQLF_UNLOCK_TABLES    (1u << 9)  /* UNLOCK TABLES */
#define MX_SQLF_BEGIN            (1u << 10) /* BEGIN [WORK], START TRANSACTION, COMMIT/ROLLBACK AND CHAIN */
#define MX_SQLF_START_READ_ONLY  (1u << 11) /* START TRANSACTION ... READ ONLY */
#define MX_SQLF_COMMIT           (1u << 12) /* COMMIT */
#define MX_SQLF_ROLLBACK         (1u << 13) /* ROLLBACK, not ROLLBACK TO SAVEPOINT */
#define MX_SQLF_XA               (1u << 14) /* any XA statement */
#define MX_SQLF_SET_AUTOCOMMIT   (1u << 15) /* SET [SESSION] autocommit = ... */
#define MX_SQLF_AUTOCOMMIT_0     (1u << 16) /* ... to a literal 0/OFF/FALSE */
#define MX_SQLF_AUTOCOMMIT_1     (1u << 17) /* ... to a literal 1/ON/TRUE */
#define MX_SQLF_SET_NAMES        (1u << 18) /* SET NAMES, SET CHARACTER SET, SET CHARSET */
#define MX_SQLF_SET_TRANSACTION  (1u << 19) /* SET TRANSACTION without scope: next transaction only */
#define MX_SQLF_USE              (1u << 20) /* USE db; the name is in use_db */
#define MX_SQLF_KILL             (1u << 21) /* KILL; a literal id is in kill_id */
#define MX_SQLF_KILL_QUERY       (1u << 22) /* KILL QUERY */
#define MX_SQLF_SQL_CALC_FOUND_ROWS (1u << 23)
#define MX_SQLF_SELECT_NO_LIMIT  (1u << 24) /* single SELECT ... FROM without LIMIT: see limit_pos */
#define MX_SQLF_SHOW_DATABASES   (1u << 25) /* SHOW DATABASES / SHOW SCHEMAS */
#define MX_SQLF_SELECT_DATABASE  (1u << 26) /* a DATABASE() or SCHEMA() call */
#define MX_SQLF_CONNECTION_ID    (1u << 27) /* a CONNECTION_ID() call */
#define MX_SQLF_MULTI            (1u << 28) /* more than one statement */
#define MX_SQLF_PREPARE          (1u << 29) /* SQL-level PREPARE, EXECUTE, DEALLOCATE/DROP PREPARE */
#define MX_SQLF_DIAGNOSTICS      (1u << 30) /* SHOW WARNINGS/ERRORS, GET DIAGNOSTICS, @@warning_count */

/* Functions whose result depends on the connection that wrote, or that
 * change server state: a query calling one must run on the writer. */
#define MX_SQLF_WRITER_FUNC \
    (MX_SQLF_LAST_INSERT_ID | MX_SQLF_LOCK_FUNC | MX_SQLF_FOUND_ROWS | MX_SQLF_SEQUENCE)

#define MX_SQL_USE_DB_MAX 64

typedef struct mx_sql_info_s {
    uint8_t cls;        /* mx_sql_class_t: the strongest statement's class */
    uint8_t hint;       /* mx_sql_hint_t from a hint comment before the first statement */
    uint32_t flags;     /* MX_SQLF_* */
    uint32_t n_stmts;   /* non-empty statements; 0 for empty or comment-only text */
    size_t limit_pos;   /* with SELECT_NO_LIMIT: offset where " LIMIT n" may be inserted */
    size_t hint_end;    /* with a hint: offset just past the hint comment, to strip it */
    uint64_t kill_id;   /* KILL [CONNECTION|QUERY] <id> of the first KILL, 0 if not literal */
    char use_db[MX_SQL_USE_DB_MAX + 1]; /* last USE's name unquoted; "" if too long or invalid */
} mx_sql_info_t;

/* Classifies the n bytes at q (the text of COM_QUERY or COM_STMT_PREPARE).
 * Never fails: unknown or malformed text is WRITE. */
void mx_sql_classify(const uint8_t *q, size_t n, mx_sql_info_t *out);

/* "READ", "SESSION", "WRITE", or "?" for a value out of range. */
const char *mx_sql_class_name(int cls);

/* "none", "master", "slave", or "?". */
const char *mx_sql_hint_name(int hint);

/* Name of one MX_SQLF_ bit without the prefix ("FOR_UPDATE"), NULL when the
 * argument is not exactly one known bit. */
const char *mx_sql_flag_name(uint32_t bit);

#endif
