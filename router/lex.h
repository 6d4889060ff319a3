/* The one SQL tokenizer of manx: everything that reads SQL text (the
 * classifier, the schema and user-variable scans) goes through it, so that
 * manx splits a text into strings, identifiers, comments and statements
 * exactly where MariaDB 10.11's lexer (sql/sql_lex.cc) does, for the
 * session's sql_mode and client character set.  Where the reading depends
 * on something the mode says is unknown, the lexer does not guess: it marks
 * the text ambiguous and the caller fails closed.  No I/O, no allocation,
 * no copy: tokens are byte ranges into the caller's text. */
#ifndef MX_ROUTER_LEX_H
#define MX_ROUTER_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MX_LEX_NO_BACKSLASH_ESCAPES 0x01u /* sql_mode NO_BACKSLASH_ESCAPES */
#define MX_LEX_ANSI_QUOTES          0x02u /* sql_mode ANSI_QUOTES: "x" is an identifier */
#define MX_LEX_SQL_MODE_UNKNOWN     0x04u /* the two bits above are not known */

/* How the client character set cuts bytes into characters, which is all the
 * lexer needs of it.  Verified against MariaDB 10.11.19 byte by byte. */
typedef enum {
    MX_CS_UTF8,     /* utf8mb3/utf8mb4, and the EUC family (ujis, eucjpms, euckr,
                     * gb2312): no ASCII byte inside a multi-byte character */
    MX_CS_SINGLE,   /* latin1, ascii, binary, cp1250, ... : one byte = one character */
    MX_CS_GBK,      /* lead 0x81-0xFE, trail 0x40-0x7E, 0x80-0xFE (MariaDB's ctype-gbk ismbchar) */
    MX_CS_BIG5,     /* lead 0xA1-0xF9, trail 0x40-0x7E, 0xA1-0xFE */
    MX_CS_SJIS,     /* sjis and cp932: lead 0x81-0x9F, 0xE0-0xFC, trail 0x40-0x7E, 0x80-0xFC */
    MX_CS_OTHER_MB, /* any other multi-byte client charset whose trail bytes can be ASCII */
    MX_CS_UNKNOWN   /* manx does not know the client charset */
} mx_charset_kind_t;

typedef struct mx_lexmode_s {
    uint8_t sql_mode;        /* MX_LEX_* bits */
    uint8_t charset;         /* mx_charset_kind_t of character_set_client */
    uint32_t server_version; /* 10.11.6 -> 101106; 0 = unknown */
    bool mariadb;            /* the server is MariaDB (its versioned-comment rules) */
} mx_lexmode_t;

/* Charset kind from a name ("gbk", "utf8mb4", "latin1"...; case-insensitive;
 * unknown names and the charsets a client cannot use (ucs2, utf16, utf32)
 * give MX_CS_UNKNOWN), and from a collation id as sent in a handshake
 * (MariaDB 10.11's ids; unknown ids give MX_CS_UNKNOWN). */
mx_charset_kind_t mx_charset_kind(const char *name, size_t len);
mx_charset_kind_t mx_charset_kind_of_collation(unsigned id);

/* "10.11.19-MariaDB-0+deb12u1-log", "5.5.5-10.11.6-MariaDB", "8.0.36" ->
 * version id (101119, 101106, 80036) and flavour.  Returns false, leaving
 * the outputs alone, when s does not start with a version. */
bool mx_lex_parse_server_version(const char *s, size_t n, uint32_t *id, bool *mariadb);

/* MX_LEX_* bits of a sql_mode value as the server reports it
 * ("STRICT_TRANS_TABLES,ANSI_QUOTES,..."): the combination modes ANSI,
 * DB2, MAXDB, MSSQL and POSTGRESQL imply ANSI_QUOTES; ORACLE changes the
 * grammar and gives MX_LEX_SQL_MODE_UNKNOWN. */
uint8_t mx_lex_sql_mode_bits(const char *v, size_t n);

typedef enum {
    MX_TOK_END,     /* end of the text: s == e == n */
    MX_TOK_WORD,    /* keyword or bare identifier, also _charset introducers */
    MX_TOK_NUMBER,  /* 12, 1.5, .5, 1e-3, 0x1F, 0b101, x'1F', b'101' */
    MX_TOK_STRING,  /* 'x', "x" (see MX_TOKF_DQUOTE), N'x' */
    MX_TOK_QIDENT,  /* `x`, and "x" when ANSI_QUOTES is known to be on */
    MX_TOK_USERVAR, /* @name, @'name', @"name", @`name` (the quotes included) */
    MX_TOK_SYSVAR,  /* @@name, @@scope.name, @@`name` */
    MX_TOK_ASSIGN,  /* := */
    MX_TOK_SEMI,    /* ; */
    MX_TOK_PUNCT    /* any other byte, in ch (operators come byte by byte) */
} mx_tok_type_t;

#define MX_TOKF_OPEN      0x01u /* the quote runs to the end of the text: the server rejects it */
#define MX_TOKF_DQUOTE    0x02u /* "x" read while ANSI_QUOTES is unknown: string or identifier */
#define MX_TOKF_QUALIFIED 0x04u /* a word right after a '.' token: a name, never a keyword */
#define MX_TOKF_IN_EXEC   0x08u /* inside an executable comment */
#define MX_TOKF_ESCAPED   0x10u /* a quoted token holding a backslash or a doubled quote */

typedef struct mx_tok_s {
    uint8_t type;  /* mx_tok_type_t */
    uint8_t ch;    /* MX_TOK_PUNCT: the byte; otherwise 0 */
    uint8_t flags; /* MX_TOKF_* */
    size_t s, e;   /* [s, e) in the text */
} mx_tok_t;

/* Hint comments (manx's and Mycat's routing hints), reported by the lexer
 * because the leading one is no SQL: manx strips it before forwarding. */
#define MX_LEX_HINT_NONE   0
#define MX_LEX_HINT_MASTER 1 /* db_type=master */
#define MX_LEX_HINT_SLAVE  2 /* db_type=slave */

typedef struct mx_lex_s {
    const uint8_t *q;    /* the text */
    size_t n;            /* its length */
    size_t i;            /* next byte to read */
    mx_lexmode_t mode;   /* the reading rules; see mx_lex_stmt_end() */
    bool ambiguous;      /* the reading depended on something the mode leaves unknown */
    bool malformed;      /* an unterminated quote or a bad x''/b'' literal: a syntax error */
    bool open_comment;   /* a comment runs to the end of the text */
    bool in_exec;        /* inside an executable comment: its star-slash is skipped */
    bool started;        /* a token was returned: no hint comment counts any more */
    uint8_t hint;        /* MX_LEX_HINT_* of the leading hint comment */
    size_t hint_end;     /* offset just past that comment, 0 without one */
    size_t last_end;     /* end of the last token other than ';', moved past the star-slash
                          * closing the executable comment that token was in */
    bool last_in_exec;   /* the last such token is in the open executable comment */
    uint8_t prev_type;   /* MX_TOK_* of the previous token (MX_TOK_END before the first) */
    size_t prev_e;       /* its end */
    uint8_t next_mode;   /* pending mode change, MX_LEX_NEXT_* bits */
} mx_lex_t;

#define MX_LEX_NEXT_SQL_MODE 0x01u /* sql_mode may change after this statement */
#define MX_LEX_NEXT_CHARSET  0x02u /* character_set_client may change after it */

/* Starts reading the n bytes at q under mode. */
void mx_lex_init(mx_lex_t *lx, const uint8_t *q, size_t n, const mx_lexmode_t *mode);

/* The next token; MX_TOK_END (repeatedly) at the end of the text. */
void mx_lex_next(mx_lex_t *lx, mx_tok_t *t);

/* The caller's statement machine found the end of a statement as the
 * server will (a ';' outside any compound statement): the server starts a
 * new parse there, so an executable comment left open does not continue,
 * and a change announced by mx_lex_mode_changes() takes effect. */
void mx_lex_stmt_end(mx_lex_t *lx);

/* The current statement may change the sql_mode or the client charset
 * (MX_LEX_NEXT_* bits): from the end of the statement on, what it set is
 * unknown.  Applied at the next ';' even inside a compound statement, which
 * is earlier than the server and therefore only more cautious. */
void mx_lex_mode_changes(mx_lex_t *lx, unsigned what);

/* Byte classes shared with the statement machine. */
bool mx_lex_is_ident_byte(uint8_t c); /* [A-Za-z0-9_$] and bytes >= 0x80 */

/* Copies the name of a quoted token (` or " or ' quoted, quotes removed,
 * doubled quotes undone) or a word into dst (cap bytes, NUL-terminated).
 * Returns its length, or -1 when it does not fit or cannot be undone
 * without the mode (a backslash inside ' or " quotes). */
int mx_lex_unquote(const uint8_t *q, const mx_tok_t *t, char *dst, size_t cap);

/* "WORD", "STRING"... for tests and debugging. */
const char *mx_lex_tok_name(int type);

#endif
