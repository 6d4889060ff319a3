/* SQL statement machine for read/write splitting and the readonly wall: on
 * top of router/lex.h, one pass over a query's text decides per statement
 * whether it may run on a replica (READ), must hold on every backend of the
 * session (SESSION) or must run on the writer (WRITE); whether every
 * statement is of a kind known not to write (ro_ok, an allow-list that
 * fails closed); reads Mycat style routing hints; recognises the
 * statements manx answers itself; and reports the facts the proxy needs
 * for sticky routing, rewriting, schema isolation and user-variable
 * replay.  Never a parser; no I/O, no allocation, no copy of the text. */
#ifndef MX_ROUTER_CLASSIFY_H
#define MX_ROUTER_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/lex.h"

/* Ordered by strength: a multi-statement query takes its strongest part. */
typedef enum {
    MX_SQL_READ = 0,    /* may run on any readable backend */
    MX_SQL_SESSION = 1, /* session state: run here and replay on other backends */
    MX_SQL_WRITE = 2    /* must run on the writer (also unknown, empty and ambiguous text) */
} mx_sql_class_t;

typedef enum {
    MX_HINT_NONE = MX_LEX_HINT_NONE,
    MX_HINT_MASTER = MX_LEX_HINT_MASTER, /* db_type=master */
    MX_HINT_SLAVE = MX_LEX_HINT_SLAVE    /* db_type=slave */
} mx_sql_hint_t;

/* Flags of mx_sql_info_t, the OR over all statements unless noted. */
#define MX_SQLF_FOR_UPDATE       (UINT64_C(1) << 0)  /* FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE */
#define MX_SQLF_LAST_INSERT_ID   (UINT64_C(1) << 1)  /* LAST_INSERT_ID(), @@identity, @@last_insert_id */
#define MX_SQLF_LOCK_FUNC        (UINT64_C(1) << 2)  /* GET_LOCK() and the other named-lock functions */
#define MX_SQLF_FOUND_ROWS       (UINT64_C(1) << 3)  /* FOUND_ROWS(), ROW_COUNT() */
#define MX_SQLF_SEQUENCE         (UINT64_C(1) << 4)  /* NEXTVAL(), LASTVAL(), SETVAL(), NEXT/PREVIOUS VALUE FOR */
#define MX_SQLF_USERVAR_ASSIGN   (UINT64_C(1) << 5)  /* @x := outside SET, INTO @x, GET DIAGNOSTICS @x = */
#define MX_SQLF_SELECT_INTO      (UINT64_C(1) << 6)  /* a query with INTO (OUTFILE, DUMPFILE, variables) */
#define MX_SQLF_TEMP_TABLE       (UINT64_C(1) << 7)  /* the word TEMPORARY anywhere (CREATE/DROP TEMPORARY ...) */
#define MX_SQLF_LOCK_TABLES      (UINT64_C(1) << 8)  /* LOCK TABLE(S) anywhere, FLUSH TABLES WITH READ LOCK / FOR EXPORT */
#define MX_SQLF_UNLOCK_TABLES    (UINT64_C(1) << 9)  /* UNLOCK TABLES */
#define MX_SQLF_BEGIN            (UINT64_C(1) << 10) /* BEGIN [WORK], START TRANSACTION, COMMIT/ROLLBACK AND CHAIN */
#define MX_SQLF_START_READ_ONLY  (UINT64_C(1) << 11) /* START TRANSACTION ... READ ONLY */
#define MX_SQLF_COMMIT           (UINT64_C(1) << 12) /* COMMIT */
#define MX_SQLF_ROLLBACK         (UINT64_C(1) << 13) /* ROLLBACK, not ROLLBACK TO SAVEPOINT */
#define MX_SQLF_XA               (UINT64_C(1) << 14) /* any XA statement */
#define MX_SQLF_SET_AUTOCOMMIT   (UINT64_C(1) << 15) /* SET [SESSION] autocommit = ... */
#define MX_SQLF_AUTOCOMMIT_0     (UINT64_C(1) << 16) /* ... to a literal 0/OFF/FALSE */
#define MX_SQLF_AUTOCOMMIT_1     (UINT64_C(1) << 17) /* ... to a literal 1/ON/TRUE */
#define MX_SQLF_SET_NAMES        (UINT64_C(1) << 18) /* SET NAMES, SET CHARACTER SET, SET CHARSET,
                                                      * character_set_client assigned */
#define MX_SQLF_SET_TRANSACTION  (UINT64_C(1) << 19) /* SET TRANSACTION without scope: next transaction only */
#define MX_SQLF_USE              (UINT64_C(1) << 20) /* USE db; the name is in use_db */
#define MX_SQLF_KILL             (UINT64_C(1) << 21) /* KILL anywhere; a literal connection id is in kill_id */
#define MX_SQLF_KILL_QUERY       (UINT64_C(1) << 22) /* KILL QUERY */
#define MX_SQLF_SQL_CALC_FOUND_ROWS (UINT64_C(1) << 23)
#define MX_SQLF_SELECT_NO_LIMIT  (UINT64_C(1) << 24) /* single SELECT ... FROM without LIMIT: see limit_pos */
#define MX_SQLF_SHOW_DATABASES   (UINT64_C(1) << 25) /* SHOW DATABASES / SHOW SCHEMAS */
#define MX_SQLF_SELECT_DATABASE  (UINT64_C(1) << 26) /* a DATABASE() or SCHEMA() call */
#define MX_SQLF_CONNECTION_ID    (UINT64_C(1) << 27) /* a CONNECTION_ID() call */
#define MX_SQLF_MULTI            (UINT64_C(1) << 28) /* more than one statement */
#define MX_SQLF_PREPARE          (UINT64_C(1) << 29) /* SQL-level PREPARE, EXECUTE, DEALLOCATE/DROP PREPARE */
#define MX_SQLF_DIAGNOSTICS      (UINT64_C(1) << 30) /* SHOW WARNINGS/ERRORS, GET DIAGNOSTICS, @@warning_count */
#define MX_SQLF_USERVAR_SET      (UINT64_C(1) << 31) /* a SET assigns a user variable */
#define MX_SQLF_USERVAR_LITERAL  (UINT64_C(1) << 32) /* a single SET that assigns user variables,
                                                      * all literals, every one reported (mx_sql_cb_t) */
#define MX_SQLF_USERVAR_READ     (UINT64_C(1) << 33) /* a user variable is read */
#define MX_SQLF_HANDLER          (UINT64_C(1) << 34) /* HANDLER t OPEN/READ/CLOSE */
#define MX_SQLF_CALL             (UINT64_C(1) << 35) /* CALL p(...) */
#define MX_SQLF_GLOBAL           (UINT64_C(1) << 36) /* SET GLOBAL/PERSIST, @@global. assignment */
#define MX_SQLF_SET_SQL_MODE     (UINT64_C(1) << 37) /* the session's sql_mode is assigned */
#define MX_SQLF_SHUTDOWN         (UINT64_C(1) << 38) /* the SHUTDOWN statement */
#define MX_SQLF_KILL_USER        (UINT64_C(1) << 39) /* KILL USER, or a KILL whose target is not a
                                                      * literal connection id (expression, QUERY ID,
                                                      * inside a compound statement) */
#define MX_SQLF_SYSVAR_BARE      (UINT64_C(1) << 40) /* SET @@name = ... (no scope): MariaDB 10.11's
                                                      * session tracking does not report it */
#define MX_SQLF_LAST_INSERT_ID_SET (UINT64_C(1) << 41) /* LAST_INSERT_ID(expr): sets it, whatever the statement */
#define MX_SQLF_NBITS 42

/* Functions whose result depends on the connection that wrote, or that
 * change server state: a query calling one must run on the writer. */
#define MX_SQLF_WRITER_FUNC \
    (MX_SQLF_LAST_INSERT_ID | MX_SQLF_LOCK_FUNC | MX_SQLF_FOUND_ROWS | MX_SQLF_SEQUENCE)

#define MX_SQL_USE_DB_MAX 64

/* Statements manx answers itself (mx_sql_info_t.local). */
enum {
    MX_LOCAL_NONE = 0,
    MX_LOCAL_USE,                /* USE db: local_name is the database */
    MX_LOCAL_SELECT_DATABASE,    /* SELECT DATABASE() / SCHEMA() [[AS] alias]: local_name is the column */
    MX_LOCAL_SELECT_CONNECTION_ID, /* SELECT CONNECTION_ID() [[AS] alias]: likewise */
    MX_LOCAL_SHOW_DATABASES      /* SHOW DATABASES|SCHEMAS [LIKE 'p']: local_name is p */
};

#define MX_SQL_LOCAL_NAME_MAX 129

typedef struct mx_sql_info_s {
    uint8_t cls;        /* mx_sql_class_t: the strongest statement's class */
    uint8_t hint;       /* mx_sql_hint_t from a hint comment before the first statement */
    bool ro_ok;         /* every statement is of a kind known not to write (see mx_sql_scan) */
    bool ambiguous;     /* the reading of the text depends on what the mode leaves unknown */
    uint8_t local;      /* MX_LOCAL_*: the text is exactly one statement manx answers */
    bool local_like;    /* MX_LOCAL_SHOW_DATABASES with a LIKE pattern */
    uint64_t flags;     /* MX_SQLF_* */
    uint32_t n_stmts;   /* non-empty statements; 0 for empty or comment-only text */
    size_t limit_pos;   /* with SELECT_NO_LIMIT: offset where " LIMIT n" may be inserted */
    size_t hint_end;    /* with a hint: offset just past the hint comment, to strip it */
    uint64_t kill_id;   /* KILL [CONNECTION|QUERY] <id> of the first KILL, 0 if not literal */
    char use_db[MX_SQL_USE_DB_MAX + 1]; /* last USE's name unquoted; "" if too long or invalid */
    char local_name[MX_SQL_LOCAL_NAME_MAX + 1]; /* see MX_LOCAL_*; "" with MX_LOCAL_NONE */
} mx_sql_info_t;

/* Kinds of mx_sql_cb_t.db_name. */
enum {
    MX_SQL_DB_QUALIFIER = 1, /* x in x.y or x.y.z, and db.func( */
    MX_SQL_DB_USE,           /* USE x, in any statement of the text */
    MX_SQL_DB_SHOW,          /* SHOW ... FROM|IN x, SHOW CREATE DATABASE|SCHEMA x */
    MX_SQL_DB_DDL,           /* CREATE|DROP|ALTER DATABASE|SCHEMA [IF [NOT] EXISTS] x */
    MX_SQL_DB_FUNC           /* a DATABASE() or SCHEMA() call, from its name to the ')' */
};

typedef struct mx_sql_cb_s {
    void *arg;
    /* A name the server may take as a database name.  kind:
     *  MX_SQL_DB_QUALIFIER  x in x.y or x.y.z (a word, backticked, or "..." under
     *                       ANSI_QUOTES or an unknown sql_mode, followed by the '.'
     *                       token, not itself preceded by '.'), also db.func(
     *  MX_SQL_DB_USE        USE x, in any statement of the text
     *  MX_SQL_DB_SHOW       SHOW ... FROM|IN x (any word/ident after FROM or IN in a
     *                       SHOW statement), SHOW CREATE DATABASE|SCHEMA x
     *  MX_SQL_DB_DDL        CREATE|DROP|ALTER DATABASE|SCHEMA [IF [NOT] EXISTS] x
     *  MX_SQL_DB_FUNC       DATABASE() / SCHEMA() (not db.database()): [off, off+len)
     *                       runs from the function's name to its ')', name is ""
     * [off, off+len) is the token in q (quotes included); name/nlen the
     * unquoted name (NUL-terminated, valid during the call), nlen == 0 when
     * it exceeds 64 bytes or cannot be unquoted without the mode.  Calls come
     * in text order, as the tokens are read, including for a text that turns
     * out ambiguous: a caller enforcing a rule on them must refuse ambiguous
     * texts.  May be NULL. */
    void (*db_name)(void *arg, int kind, size_t off, size_t len, const char *name, size_t nlen);
    /* For a text that is exactly one SET statement: each `@name = literal`
     * (or :=) it assigns (name without '@', unquoted, NUL-terminated: a caller
     * replaying it must quote it again; the literal's text verbatim: numbers
     * with sign, 'str' with optional _charset or N prefix, X'..', B'..',
     * 0x.., NULL, TRUE, FALSE).  Only literals that read the same under every
     * sql_mode and client charset are reported: a string holding a backslash
     * or written with double quotes is no literal here.  Called at the end
     * of the scan, only when MX_SQLF_USERVAR_LITERAL is set, which tells the
     * caller that every user variable the text assigns was reported.  May be
     * NULL. */
    void (*uservar)(void *arg, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen);
    /* Each string literal the server reads as a string whatever the mode
     * ('x', N'x', and "x" only when ANSI_QUOTES is known to be off), in text
     * order: [off, off+len) is the quoted token, val/vlen its value
     * (NUL-terminated, valid during the call) when it is at most 64 bytes
     * and unquotes without the mode, else vlen == 0.  May be NULL. */
    void (*literal)(void *arg, size_t off, size_t len, const char *val, size_t vlen);
} mx_sql_cb_t;

/* Classifies the n bytes at q (the text of COM_QUERY or COM_STMT_PREPARE)
 * read under mode (the session's sql_mode bits, character_set_client,
 * server version; see router/lex.h).  Never fails: unknown, malformed and
 * ambiguous text is WRITE.
 *
 * ro_ok is true only when the text has at least one statement, is not
 * ambiguous nor malformed, and EVERY statement is, by itself, of a kind
 * known not to write: a query (SELECT, TABLE, VALUES, parenthesised, WITH)
 * without INTO OUTFILE/DUMPFILE; SHOW; DESC/EXPLAIN of a table or of such a
 * query; HELP; USE; DO; SET of user variables, NAMES, CHARACTER SET and an
 * allow-list of session variables; SET TRANSACTION / START TRANSACTION /
 * BEGIN / COMMIT / ROLLBACK / SAVEPOINT forms that do not ask for READ
 * WRITE; UNLOCK TABLES; DEALLOCATE/DROP PREPARE; GET DIAGNOSTICS; HANDLER
 * OPEN/READ/CLOSE; KILL alone (manx answers it).  No statement may use a
 * sequence writer (NEXTVAL, SETVAL, NEXT VALUE FOR).  A stored function,
 * a UDF or a view's function that writes is invisible here: only the
 * server (a READ ONLY session, backend grants) can refuse it.
 *
 * The lexer mode must be the session's: a client in sql_mode ORACLE is
 * parsed by another grammar (BEGIN opens a block) and should be scanned
 * with MX_LEX_SQL_MODE_UNKNOWN at least. */
void mx_sql_scan(const uint8_t *q, size_t n, const mx_lexmode_t *mode, const mx_sql_cb_t *cb,
                 mx_sql_info_t *out);

/* "READ", "SESSION", "WRITE", or "?" for a value out of range. */
const char *mx_sql_class_name(int cls);

/* "none", "master", "slave", or "?". */
const char *mx_sql_hint_name(int hint);

/* Name of one MX_SQLF_ bit without the prefix ("FOR_UPDATE"), NULL when the
 * argument is not exactly one known bit. */
const char *mx_sql_flag_name(uint64_t bit);

#endif
