/* Read/write classification of SQL text: a lexer that knows comments,
 * executable comments, quotes and backticks feeds tokens to a small
 * per-statement state machine that looks only at leading keywords,
 * clause words at nesting depth 0 and function names.  Never a parser. */
#include "classify.h"

#include <stdbool.h>
#include <string.h>

enum {
    T_END,     /* end of text */
    T_WORD,    /* keyword, identifier or number */
    T_QIDENT,  /* `backticked identifier` */
    T_STRING,  /* 'string' or "string" */
    T_USERVAR, /* @name, @'name' */
    T_SYSVAR,  /* @@name, @@session.name */
    T_ASSIGN,  /* := */
    T_SEMI,    /* ; */
    T_PUNCT    /* any other single byte */
};

/* Only the words some rule looks at; every other word is K_NONE. */
enum {
    K_NONE,
    K_AND, K_ATOMIC, K_AUTOCOMMIT, K_BEGIN, K_CASE, K_CHAIN, K_CHARACTER,
    K_CHARSET, K_COMMIT, K_CONNECTION, K_CONNECTION_ID, K_COUNT, K_CREATE,
    K_DATABASE, K_DATABASES, K_DEALLOCATE, K_DEFAULT, K_DELETE, K_DESC,
    K_DESCRIBE, K_DIAGNOSTICS, K_DROP, K_END, K_ERRORS, K_EVENT, K_EXCEPT,
    K_EXECUTE, K_EXPLAIN, K_EXPORT, K_FALSE, K_FETCH, K_FLUSH, K_FOR,
    K_FOUND_ROWS, K_FROM, K_FUNCTION, K_GET, K_GET_LOCK, K_GLOBAL, K_HARD,
    K_HELP, K_ID, K_IF, K_IN, K_INSERT, K_INTERSECT, K_INTO, K_IS_FREE_LOCK,
    K_IS_USED_LOCK, K_KILL, K_LASTVAL, K_LAST_INSERT_ID, K_LIMIT, K_LOCAL,
    K_LOCK, K_LOOP, K_MODE, K_NAMES, K_NEXT, K_NEXTVAL, K_NOT, K_OFF, K_ON,
    K_ONLY, K_PASSWORD, K_PERSIST, K_PERSIST_ONLY, K_PREPARE, K_PREVIOUS,
    K_PROCEDURE, K_QUERY, K_READ, K_RELEASE_ALL_LOCKS, K_RELEASE_LOCK,
    K_REPEAT, K_REPLACE, K_ROLLBACK, K_ROW_COUNT, K_SCHEMA, K_SCHEMAS,
    K_SELECT, K_SESSION, K_SET, K_SETVAL, K_SHARE, K_SHOW, K_SOFT,
    K_SQL_CALC_FOUND_ROWS, K_START, K_STATEMENT, K_TABLE, K_TABLES,
    K_TEMPORARY, K_TO, K_TRANSACTION, K_TRIGGER, K_TRUE, K_UNION, K_UNLOCK,
    K_UPDATE, K_USE, K_VALUE, K_VALUES, K_WARNINGS, K_WHILE, K_WITH, K_WORK,
    K_XA
};

typedef struct kw_s {
    char s[20]; /* lower case; stored inline to spare a pointer chase */
    uint8_t id;
} kw_t;

static const kw_t kw2[] = {{"id", K_ID}, {"if", K_IF}, {"in", K_IN}, {"on", K_ON}, {"to", K_TO},
                           {"xa", K_XA}};
static const kw_t kw3[] = {{"and", K_AND}, {"end", K_END}, {"for", K_FOR}, {"get", K_GET},
                           {"not", K_NOT}, {"off", K_OFF}, {"set", K_SET}, {"use", K_USE}};
static const kw_t kw4[] = {{"case", K_CASE}, {"desc", K_DESC}, {"drop", K_DROP}, {"from", K_FROM},
                           {"hard", K_HARD}, {"help", K_HELP}, {"into", K_INTO}, {"kill", K_KILL},
                           {"lock", K_LOCK}, {"loop", K_LOOP}, {"mode", K_MODE}, {"next", K_NEXT},
                           {"only", K_ONLY}, {"read", K_READ}, {"show", K_SHOW}, {"soft", K_SOFT},
                           {"true", K_TRUE}, {"with", K_WITH}, {"work", K_WORK}};
static const kw_t kw5[] = {{"begin", K_BEGIN}, {"chain", K_CHAIN}, {"count", K_COUNT},
                           {"event", K_EVENT}, {"false", K_FALSE}, {"fetch", K_FETCH},
                           {"flush", K_FLUSH}, {"limit", K_LIMIT}, {"local", K_LOCAL},
                           {"names", K_NAMES}, {"query", K_QUERY}, {"share", K_SHARE},
                           {"start", K_START}, {"table", K_TABLE}, {"union", K_UNION},
                           {"value", K_VALUE}, {"while", K_WHILE}};
static const kw_t kw6[] = {{"atomic", K_ATOMIC}, {"commit", K_COMMIT}, {"create", K_CREATE},
                           {"delete", K_DELETE}, {"errors", K_ERRORS}, {"except", K_EXCEPT},
                           {"export", K_EXPORT}, {"global", K_GLOBAL}, {"insert", K_INSERT},
                           {"repeat", K_REPEAT}, {"schema", K_SCHEMA}, {"select", K_SELECT},
                           {"setval", K_SETVAL}, {"tables", K_TABLES}, {"unlock", K_UNLOCK},
                           {"update", K_UPDATE}, {"values", K_VALUES}};
static const kw_t kw7[] = {{"charset", K_CHARSET}, {"default", K_DEFAULT}, {"execute", K_EXECUTE},
                           {"explain", K_EXPLAIN}, {"lastval", K_LASTVAL}, {"nextval", K_NEXTVAL},
                           {"persist", K_PERSIST}, {"prepare", K_PREPARE}, {"replace", K_REPLACE},
                           {"schemas", K_SCHEMAS}, {"session", K_SESSION}, {"trigger", K_TRIGGER}};
static const kw_t kw8[] = {{"database", K_DATABASE}, {"describe", K_DESCRIBE},
                           {"function", K_FUNCTION}, {"get_lock", K_GET_LOCK},
                           {"password", K_PASSWORD}, {"previous", K_PREVIOUS},
                           {"rollback", K_ROLLBACK}, {"warnings", K_WARNINGS}};
static const kw_t kw9[] = {{"character", K_CHARACTER}, {"databases", K_DATABASES},
                           {"intersect", K_INTERSECT}, {"procedure", K_PROCEDURE},
                           {"row_count", K_ROW_COUNT}, {"statement", K_STATEMENT},
                           {"temporary", K_TEMPORARY}};
static const kw_t kw10[] = {{"autocommit", K_AUTOCOMMIT}, {"connection", K_CONNECTION},
                            {"deallocate", K_DEALLOCATE}, {"found_rows", K_FOUND_ROWS}};
static const kw_t kw11[] = {{"diagnostics", K_DIAGNOSTICS}, {"transaction", K_TRANSACTION}};
static const kw_t kw12[] = {{"is_free_lock", K_IS_FREE_LOCK}, {"is_used_lock", K_IS_USED_LOCK},
                            {"persist_only", K_PERSIST_ONLY}, {"release_lock", K_RELEASE_LOCK}};
static const kw_t kw13[] = {{"connection_id", K_CONNECTION_ID}};
static const kw_t kw14[] = {{"last_insert_id", K_LAST_INSERT_ID}};
static const kw_t kw17[] = {{"release_all_locks", K_RELEASE_ALL_LOCKS}};
static const kw_t kw19[] = {{"sql_calc_found_rows", K_SQL_CALC_FOUND_ROWS}};

/* Each kwN holds the keywords of length N, sorted: keyword() relies on it. */
#define KWS(a) {a, sizeof(a) / sizeof(a[0])}
#define KW_MAXLEN 19

/* Indexed by length, so a word is compared with a handful of candidates. */
static const struct {
    const kw_t *v;
    size_t n;
} kw_by_len[KW_MAXLEN + 1] = {
    [2] = KWS(kw2), [3] = KWS(kw3), [4] = KWS(kw4), [5] = KWS(kw5), [6] = KWS(kw6),
    [7] = KWS(kw7), [8] = KWS(kw8), [9] = KWS(kw9), [10] = KWS(kw10), [11] = KWS(kw11),
    [12] = KWS(kw12), [13] = KWS(kw13), [14] = KWS(kw14), [17] = KWS(kw17), [19] = KWS(kw19),
};

static inline uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool eq_ci(const uint8_t *w, const char *lit, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (lower(w[i]) != (uint8_t)lit[i])
            return false;
    return true;
}

static uint8_t keyword(const uint8_t *w, size_t len)
{
    if (len > KW_MAXLEN)
        return K_NONE;
    uint8_t c0 = lower(w[0]);
    /* Each bucket is sorted, so the scan stops past the first letter. */
    for (size_t i = 0; i < kw_by_len[len].n; i++) {
        const kw_t *k = &kw_by_len[len].v[i];
        if ((uint8_t)k->s[0] < c0)
            continue;
        if ((uint8_t)k->s[0] > c0)
            break;
        if (eq_ci(w, k->s, len))
            return k->id;
    }
    return K_NONE;
}

#define CC_IDENT 1
#define CC_SPACE 2

/* Byte classes: identifier bytes (letters, digits, _ and $, and every byte
 * of a UTF-8 sequence, so 中文 names are single words) and whitespace. */
static const uint8_t cclass[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static inline bool is_ident(uint8_t c)
{
    return cclass[c] & CC_IDENT;
}

static inline bool is_space(uint8_t c)
{
    return cclass[c] & CC_SPACE;
}

/* Returns the index just past the quote that closes the one at q[i], or n
 * with *open set.  Strings take backslash escapes (the default sql_mode) and
 * doubled quotes; backticks only doubled ones. */
static size_t skip_quoted(const uint8_t *q, size_t n, size_t i, bool *open)
{
    uint8_t quote = q[i];
    for (size_t j = i + 1; j < n; j++) {
        if (q[j] == '\\' && quote != '`') {
            j++;
            continue;
        }
        if (q[j] == quote) {
            if (j + 1 < n && q[j + 1] == quote) {
                j++;
                continue;
            }
            return j + 1;
        }
    }
    *open = true;
    return n;
}

/* Index of the star of the first star-slash at or after j, or n. */
static size_t comment_close(const uint8_t *q, size_t n, size_t j)
{
    for (; j + 1 < n; j++)
        if (q[j] == '*' && q[j + 1] == '/')
            return j;
    return n;
}

/* Index past lit when q[j..] starts with it (any case), else 0. */
static size_t match_ci(const uint8_t *q, size_t n, size_t j, const char *lit)
{
    size_t len = strlen(lit);
    return n - j >= len && eq_ci(q + j, lit, len) ? j + len : 0;
}

/* q[i] starts a slash-star comment.  When it is a Mycat or manx hint
 * (slash-star then `!`, `#` or nothing, then mycat: or manx:) returns the
 * index past it and stores its db_type in *hint (NONE for other hint kinds);
 * otherwise returns 0.  A hint is never SQL, even in the `!` spelling. */
static size_t hint_comment(const uint8_t *q, size_t n, size_t i, uint8_t *hint)
{
    size_t j = i + 2, k;
    if (j < n && (q[j] == '!' || q[j] == '#'))
        j++;
    while (j < n && is_space(q[j]))
        j++;
    if ((k = match_ci(q, n, j, "mycat:")) == 0 && (k = match_ci(q, n, j, "manx:")) == 0)
        return 0;
    size_t close = comment_close(q, n, k);
    *hint = MX_HINT_NONE;
    while (k < close && is_space(q[k]))
        k++;
    if ((k = match_ci(q, close, k, "db_type")) != 0) {
        while (k < close && is_space(q[k]))
            k++;
        if (k < close && q[k] == '=') {
            k++;
            while (k < close && is_space(q[k]))
                k++;
            size_t v;
            uint8_t h = MX_HINT_NONE;
            if ((v = match_ci(q, close, k, "master")) != 0)
                h = MX_HINT_MASTER;
            else if ((v = match_ci(q, close, k, "slave")) != 0)
                h = MX_HINT_SLAVE;
            if (h != MX_HINT_NONE && (v == close || !is_ident(q[v])))
                *hint = h;
        }
    }
    return close < n ? close + 2 : n;
}

typedef struct lexer_s {
    const uint8_t *q;
    size_t n, i;
    bool in_exec;      /* inside an executable comment: its text is SQL */
    bool hint_ok;      /* no token yet, so a hint comment counts */
    bool prev_dot;     /* the previous token was '.': a word is a qualified name */
    bool open_quote;   /* a quote runs to the end of the text: malformed */
    bool last_in_exec; /* the last token lies in the open executable comment */
    size_t last_end;   /* end of the last token other than ';' */
    mx_sql_info_t *out;
} lexer_t;

typedef struct tok_s {
    uint8_t type; /* T_* */
    uint8_t kw;   /* K_* of an unqualified word, else K_NONE */
    uint8_t ch;   /* the byte of a T_PUNCT */
    size_t s, e;  /* byte range in the text */
} tok_t;

/* Skips whitespace and comments, entering executable comments and
 * recording a leading hint.  Returns false at the end of the text. */
static bool lex_skip(lexer_t *lx)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n, i = lx->i;
    while (i < n) {
        uint8_t c = q[i];
        if (is_space(c)) {
            i++;
        } else if (c == '#' || (c == '-' && i + 1 < n && q[i + 1] == '-' &&
                                (i + 2 == n || q[i + 2] <= ' '))) {
            while (i < n && q[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && q[i + 1] == '*') {
            uint8_t h;
            size_t end = hint_comment(q, n, i, &h);
            if (end) {
                if (lx->hint_ok && !lx->in_exec && lx->out->hint == MX_HINT_NONE &&
                    h != MX_HINT_NONE) {
                    lx->out->hint = h;
                    lx->out->hint_end = end;
                }
                i = end;
            } else if (i + 2 < n && (q[i + 2] == '!' ||
                                     (q[i + 2] == 'M' && i + 3 < n && q[i + 3] == '!'))) {
                /* MySQL slash-star-bang and MariaDB slash-star-M-bang with
                 * an optional version: the content is SQL. */
                i += q[i + 2] == '!' ? 3 : 4;
                while (i < n && q[i] >= '0' && q[i] <= '9')
                    i++;
                lx->in_exec = true;
            } else {
                size_t close = comment_close(q, n, i + 2);
                i = close < n ? close + 2 : n;
            }
        } else if (c == '*' && lx->in_exec && i + 1 < n && q[i + 1] == '/') {
            i += 2;
            lx->in_exec = false;
            /* A LIMIT appended after a statement ending inside the comment
             * must go after the comment, not into it. */
            if (lx->last_in_exec) {
                lx->last_end = i;
                lx->last_in_exec = false;
            }
        } else {
            break;
        }
    }
    lx->i = i;
    return i < n;
}

static void lex_next(lexer_t *lx, tok_t *t)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n;
    t->kw = K_NONE;
    t->ch = 0;
    if (!lex_skip(lx)) {
        t->type = T_END;
        t->s = t->e = n;
        return;
    }
    size_t i = lx->i;
    uint8_t c = q[i];
    bool dot = false;
    t->s = i;
    if (c == '\'' || c == '"') {
        t->type = T_STRING;
        i = skip_quoted(q, n, i, &lx->open_quote);
    } else if (c == '`') {
        t->type = T_QIDENT;
        i = skip_quoted(q, n, i, &lx->open_quote);
    } else if (c == '@') {
        i++;
        if (i < n && q[i] == '@') {
            t->type = T_SYSVAR;
            i++;
            while (i < n && (is_ident(q[i]) || q[i] == '.'))
                i++;
        } else {
            t->type = T_USERVAR;
            if (i < n && (q[i] == '\'' || q[i] == '"' || q[i] == '`'))
                i = skip_quoted(q, n, i, &lx->open_quote);
            else
                while (i < n && (is_ident(q[i]) || q[i] == '.'))
                    i++;
        }
    } else if (is_ident(c)) {
        t->type = T_WORD;
        while (i < n && is_ident(q[i]))
            i++;
        if (!lx->prev_dot && !(c >= '0' && c <= '9'))
            t->kw = keyword(q + t->s, i - t->s);
    } else if (c == ':' && i + 1 < n && q[i + 1] == '=') {
        t->type = T_ASSIGN;
        i += 2;
    } else if (c == ';') {
        t->type = T_SEMI;
        i++;
    } else {
        t->type = T_PUNCT;
        t->ch = c;
        dot = c == '.';
        i++;
    }
    t->e = i;
    lx->i = i;
    lx->prev_dot = dot;
    if (t->type != T_SEMI) {
        lx->last_end = i;
        lx->last_in_exec = lx->in_exec;
    }
}

/* Statement kinds, from the first token. */
enum {
    V_NONE,     /* no token yet: an empty statement */
    V_OTHER,    /* anything not listed: WRITE */
    V_QUERY,    /* SELECT, TABLE, VALUES */
    V_READ,     /* HELP */
    V_PAREN,    /* leading '(': a query if a query keyword follows */
    V_WITH,     /* WITH: the class of the statement after the CTEs */
    V_EXPLAIN,  /* EXPLAIN, DESC, DESCRIBE */
    V_SHOW,
    V_USE,
    V_SET,
    V_BEGIN,
    V_START,
    V_COMMIT,
    V_ROLLBACK,
    V_LOCK,
    V_UNLOCK,
    V_CREATE,
    V_DROP,
    V_KILL,
    V_FLUSH
};

enum { SCOPE_NONE, SCOPE_SESSION, SCOPE_GLOBAL };

typedef struct stmt_s {
    uint8_t verb;       /* V_* */
    uint8_t prev_kw;    /* K_* of the previous token */
    uint8_t prev2_kw;   /* K_* of the token before that */
    uint8_t prev_type;  /* T_* of the previous token */
    uint8_t prev_ch;    /* byte of the previous token when T_PUNCT */
    uint8_t sub;        /* per-verb progress, 0 at the verb */
    uint8_t scope;      /* SET: SCOPE_* of the current assignment */
    bool read;          /* a read statement unless a flag forbids it */
    bool write;         /* WRITE whatever else is found */
    bool query;         /* a query: INTO makes it SELECT ... INTO */
    bool into;          /* after INTO: user variables are assigned */
    bool is_select;     /* SELECT or WITH ... SELECT, candidate for a LIMIT */
    bool explained;     /* WITH under EXPLAIN: never a LIMIT candidate */
    bool limit;         /* LIMIT, FETCH or PROCEDURE at the statement's depth 0 */
    bool set_union;     /* UNION, INTERSECT or EXCEPT at depth 0 */
    bool from;          /* FROM at depth 0 */
    bool lhs;           /* SET: at the start of an assignment */
    bool ac_var;        /* SET: the current assignment is to autocommit */
    bool set_stmt;      /* MariaDB SET STATEMENT ... FOR <statement> */
    bool compound;      /* a stored-program body may follow */
    bool end_pending;   /* compound: END seen, its block kind not yet */
    int8_t ac_val;      /* SET: literal autocommit value awaiting the end of its assignment */
    uint32_t steps;     /* tokens since the verb, saturating */
    uint32_t depth;     /* parenthesis depth */
    uint32_t wdepth;    /* WITH: the depth of the WITH keyword */
    uint32_t block;     /* compound: BEGIN/CASE ... END nesting */
    uint32_t flags;     /* MX_SQLF_* of this statement */
} stmt_t;

static void stmt_init(stmt_t *st)
{
    memset(st, 0, sizeof(*st));
    st->ac_val = -1;
}

/* The database name of `USE name`, unquoted; "" when it does not fit. */
static void copy_use(const lexer_t *lx, const tok_t *t, char *dst)
{
    const uint8_t *q = lx->q;
    size_t len = 0;
    dst[0] = 0;
    if (t->type == T_WORD) {
        if (t->e - t->s > MX_SQL_USE_DB_MAX)
            return;
        len = t->e - t->s;
        memcpy(dst, q + t->s, len);
    } else if (t->type == T_QIDENT || t->type == T_STRING) {
        uint8_t quote = q[t->s];
        if (t->e - t->s < 2 || q[t->e - 1] != quote)
            return; /* unterminated */
        for (size_t i = t->s + 1; i < t->e - 1; i++) {
            if (q[i] == '\\' && quote != '`' && i + 1 < t->e - 1)
                i++;
            else if (q[i] == quote)
                i++; /* the first of a doubled quote */
            if (len == MX_SQL_USE_DB_MAX)
                return;
            dst[len++] = (char)q[i];
        }
    } else {
        return;
    }
    dst[len] = 0;
}

/* Digits only, no overflow; 0 otherwise. */
static uint64_t parse_id(const uint8_t *w, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (w[i] < '0' || w[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(w[i] - '0');
    }
    return v;
}

/* Value of a literal autocommit setting: 0, 1, or -1. */
static int8_t autocommit_value(const lexer_t *lx, const tok_t *t)
{
    const uint8_t *w = lx->q + t->s;
    size_t len = t->e - t->s;
    if (t->type == T_STRING && len >= 2) {
        w++;
        len -= 2;
    } else if (t->type != T_WORD) {
        return -1;
    }
    if ((len == 1 && w[0] == '1') || (len == 2 && eq_ci(w, "on", 2)) ||
        (len == 4 && eq_ci(w, "true", 4)))
        return 1;
    if ((len == 1 && w[0] == '0') || (len == 3 && eq_ci(w, "off", 3)) ||
        (len == 5 && eq_ci(w, "false", 5)))
        return 0;
    return -1;
}

/* A system variable's name without its scope prefix; *global is set for
 * the scopes that reach beyond this session. */
static void sysvar_name(const lexer_t *lx, const tok_t *t, const uint8_t **name, size_t *len,
                        bool *global)
{
    const uint8_t *w = lx->q + t->s + 2;
    size_t n = t->e - t->s - 2;
    *global = false;
    for (size_t i = 0; i < n; i++) {
        if (w[i] != '.')
            continue;
        *global = (i == 6 && eq_ci(w, "global", 6)) || (i == 7 && eq_ci(w, "persist", 7)) ||
                  (i == 12 && eq_ci(w, "persist_only", 12));
        w += i + 1;
        n -= i + 1;
        break;
    }
    *name = w;
    *len = n;
}

static bool sysvar_is(const uint8_t *w, size_t len, const char *lit)
{
    return strlen(lit) == len && eq_ci(w, lit, len);
}

/* The first token decides the kind of statement. */
static void start_verb(stmt_t *st, const lexer_t *lx, const tok_t *t)
{
    switch (t->kw) {
    case K_SELECT:
        st->verb = V_QUERY;
        st->read = st->query = st->is_select = true;
        return;
    case K_TABLE:
    case K_VALUES:
        st->verb = V_QUERY;
        st->read = st->query = true;
        return;
    case K_WITH:
        st->verb = V_WITH;
        st->query = true;
        st->wdepth = st->depth;
        return;
    case K_HELP:
        st->verb = V_READ;
        st->read = true;
        return;
    case K_EXPLAIN:
    case K_DESC:
    case K_DESCRIBE:
        /* DESC t is a read; what is explained may make it a write. */
        st->verb = V_EXPLAIN;
        st->read = true;
        return;
    case K_SHOW:
        st->verb = V_SHOW;
        st->read = true;
        return;
    case K_USE:
        st->verb = V_USE;
        st->flags |= MX_SQLF_USE;
        lx->out->use_db[0] = 0;
        return;
    case K_SET:
        st->verb = V_SET;
        st->lhs = true;
        return;
    case K_BEGIN:
        st->verb = V_BEGIN;
        st->flags |= MX_SQLF_BEGIN;
        return;
    case K_START:
        st->verb = V_START;
        return;
    case K_COMMIT:
        st->verb = V_COMMIT;
        st->flags |= MX_SQLF_COMMIT;
        return;
    case K_ROLLBACK:
        st->verb = V_ROLLBACK;
        st->flags |= MX_SQLF_ROLLBACK;
        return;
    case K_XA:
        st->flags |= MX_SQLF_XA;
        break;
    case K_LOCK:
        st->verb = V_LOCK;
        return;
    case K_UNLOCK:
        st->verb = V_UNLOCK;
        return;
    case K_CREATE:
        st->verb = V_CREATE;
        return;
    case K_DROP:
        st->verb = V_DROP;
        return;
    case K_KILL:
        st->verb = V_KILL;
        st->flags |= MX_SQLF_KILL;
        return;
    case K_FLUSH:
        st->verb = V_FLUSH;
        return;
    case K_PREPARE:
    case K_EXECUTE:
    case K_DEALLOCATE:
        st->flags |= MX_SQLF_PREPARE;
        break;
    case K_GET:
        /* GET DIAGNOSTICS reads the previous statement's outcome. */
        st->flags |= MX_SQLF_DIAGNOSTICS;
        break;
    default:
        if (t->type == T_PUNCT && t->ch == '(') {
            st->verb = V_PAREN;
            return;
        }
        break;
    }
    st->verb = V_OTHER;
}

/* SET: a literal autocommit value counts once its assignment ends. */
static void commit_autocommit(stmt_t *st)
{
    if (st->ac_val == 0)
        st->flags |= MX_SQLF_AUTOCOMMIT_0;
    else if (st->ac_val == 1)
        st->flags |= MX_SQLF_AUTOCOMMIT_1;
    st->ac_val = -1;
}

/* SET: one token of an assignment list. */
static void feed_set(stmt_t *st, const lexer_t *lx, const tok_t *t)
{
    if (st->depth == 0 && t->type == T_PUNCT && t->ch == ',') {
        commit_autocommit(st);
        st->lhs = true;
        st->scope = SCOPE_NONE;
        st->ac_var = false;
        return;
    }
    if (st->set_stmt)
        return;
    if (!st->lhs) {
        if (st->ac_var && st->depth == 0 &&
            (st->prev_type == T_ASSIGN || (st->prev_type == T_PUNCT && st->prev_ch == '=')))
            st->ac_val = autocommit_value(lx, t);
        else
            st->ac_val = -1;
        return;
    }
    switch (t->kw) {
    case K_GLOBAL:
    case K_PERSIST:
    case K_PERSIST_ONLY:
        st->scope = SCOPE_GLOBAL;
        st->write = true;
        return;
    case K_SESSION:
    case K_LOCAL:
        st->scope = SCOPE_SESSION;
        return;
    case K_NAMES:
    case K_CHARSET:
    case K_CHARACTER:
        st->flags |= MX_SQLF_SET_NAMES;
        break;
    case K_TRANSACTION:
        if (st->scope == SCOPE_NONE)
            st->flags |= MX_SQLF_SET_TRANSACTION;
        break;
    case K_PASSWORD:
    case K_DEFAULT:
        /* SET PASSWORD and SET DEFAULT ROLE change grant tables. */
        if (st->steps == 1)
            st->write = true;
        break;
    case K_STATEMENT:
        if (st->steps == 1)
            st->set_stmt = true;
        break;
    case K_AUTOCOMMIT:
        st->ac_var = true;
        break;
    default:
        if (t->type == T_SYSVAR) {
            const uint8_t *name;
            size_t len;
            bool global;
            sysvar_name(lx, t, &name, &len, &global);
            if (global) {
                st->scope = SCOPE_GLOBAL;
                st->write = true;
            }
            st->ac_var = sysvar_is(name, len, "autocommit");
        }
        break;
    }
    if (st->ac_var && st->scope != SCOPE_GLOBAL)
        st->flags |= MX_SQLF_SET_AUTOCOMMIT;
    else
        st->ac_var = false;
    st->lhs = false;
}

/* Leading keywords after the verb. */
static void feed_lead(stmt_t *st, lexer_t *lx, const tok_t *t)
{
    uint8_t kw = t->kw;
    switch (st->verb) {
    case V_PAREN:
        if (st->sub == 0 && t->type != T_PUNCT) {
            st->sub = 1;
            if (kw == K_SELECT || kw == K_TABLE || kw == K_VALUES) {
                st->read = st->query = true;
            } else if (kw == K_WITH) {
                st->verb = V_WITH;
                st->sub = 0;
                st->query = true;
                st->wdepth = st->depth;
            }
        }
        break;
    case V_WITH:
        /* The CTE list holds only names and AS at WITH's depth; the first
         * statement keyword there, or a parenthesised body right after a
         * CTE's closing parenthesis, is the statement. */
        if (st->sub == 0 && st->depth == st->wdepth) {
            if (kw == K_SELECT || kw == K_TABLE || kw == K_VALUES ||
                (t->type == T_PUNCT && t->ch == '(' && st->prev_type == T_PUNCT &&
                 st->prev_ch == ')')) {
                st->sub = 1;
                st->read = true;
                st->is_select = kw == K_SELECT && st->wdepth == 0 && !st->explained;
            } else if (kw == K_UPDATE || kw == K_DELETE || kw == K_INSERT || kw == K_REPLACE) {
                st->sub = 1;
                st->write = true;
            }
        }
        break;
    case V_EXPLAIN:
        if (st->sub == 0 && st->depth == 0) {
            if (kw == K_SELECT || kw == K_TABLE || kw == K_VALUES ||
                (t->type == T_PUNCT && t->ch == '(')) {
                st->sub = 1;
                st->query = true;
            } else if (kw == K_WITH) {
                st->verb = V_WITH;
                st->read = false;
                st->query = st->explained = true;
                st->wdepth = 0;
            } else if (kw == K_UPDATE || kw == K_DELETE || kw == K_INSERT || kw == K_REPLACE ||
                       kw == K_FOR) {
                /* EXPLAIN ANALYZE runs the statement; EXPLAIN FOR
                 * CONNECTION names a thread of one particular server. */
                st->sub = 1;
                st->write = true;
            }
        }
        break;
    case V_SHOW:
        if (st->steps == 1) {
            if (kw == K_DATABASES || kw == K_SCHEMAS)
                st->flags |= MX_SQLF_SHOW_DATABASES;
            else if (kw == K_WARNINGS || kw == K_ERRORS)
                st->flags |= MX_SQLF_DIAGNOSTICS;
            else if (kw == K_COUNT)
                st->sub = 1;
        } else if (st->steps == 5 && st->sub == 1 && (kw == K_WARNINGS || kw == K_ERRORS)) {
            st->flags |= MX_SQLF_DIAGNOSTICS; /* SHOW COUNT(*) WARNINGS */
        }
        break;
    case V_USE:
        if (st->steps == 1)
            copy_use(lx, t, lx->out->use_db);
        break;
    case V_SET:
        feed_set(st, lx, t);
        break;
    case V_BEGIN:
        if (st->steps == 1 && kw == K_NOT) {
            /* BEGIN NOT ATOMIC: a MariaDB compound statement. */
            st->flags &= ~MX_SQLF_BEGIN;
            st->compound = true;
            st->block = 1;
        }
        break;
    case V_START:
        if (st->steps == 1 && kw == K_TRANSACTION)
            st->flags |= MX_SQLF_BEGIN;
        else if ((st->flags & MX_SQLF_BEGIN) && kw == K_ONLY && st->prev_kw == K_READ)
            st->flags |= MX_SQLF_START_READ_ONLY;
        break;
    case V_ROLLBACK:
        if (kw == K_TO)
            st->flags &= ~MX_SQLF_ROLLBACK; /* to a savepoint: the transaction goes on */
        /* fall through */
    case V_COMMIT:
        if (kw == K_CHAIN && st->prev_kw == K_AND)
            st->flags |= MX_SQLF_BEGIN;
        break;
    case V_LOCK:
        if (st->steps == 1 && (kw == K_TABLES || kw == K_TABLE))
            st->flags |= MX_SQLF_LOCK_TABLES;
        break;
    case V_UNLOCK:
        if (st->steps == 1 && (kw == K_TABLES || kw == K_TABLE))
            st->flags |= MX_SQLF_UNLOCK_TABLES;
        break;
    case V_FLUSH:
        if ((kw == K_LOCK && st->prev_kw == K_READ && st->prev2_kw == K_WITH) ||
            (kw == K_EXPORT && st->prev_kw == K_FOR))
            st->flags |= MX_SQLF_LOCK_TABLES;
        break;
    case V_CREATE:
        /* CREATE [OR REPLACE] [DEFINER = u@h] ... TEMPORARY TABLE or a
         * stored program, whose body holds semicolons. */
        if (st->sub == 0 && st->steps < 12) {
            if (kw == K_TEMPORARY) {
                st->flags |= MX_SQLF_TEMP_TABLE;
                st->sub = 1;
            } else if (kw == K_PROCEDURE || kw == K_FUNCTION || kw == K_TRIGGER ||
                       kw == K_EVENT) {
                st->compound = true;
                st->sub = 1;
            } else if (kw == K_TABLE) {
                st->sub = 1;
            }
        }
        break;
    case V_DROP:
        if (st->steps == 1 && kw == K_TEMPORARY)
            st->flags |= MX_SQLF_TEMP_TABLE;
        else if (st->steps == 1 && kw == K_PREPARE)
            st->flags |= MX_SQLF_PREPARE;
        break;
    case V_KILL:
        if (st->sub == 0) {
            if (kw == K_QUERY) {
                st->flags |= MX_SQLF_KILL_QUERY;
            } else if (kw == K_HARD || kw == K_SOFT || kw == K_CONNECTION || kw == K_ID) {
                /* MariaDB: KILL [HARD|SOFT] [CONNECTION|QUERY [ID]] */
            } else {
                st->sub = 1;
                if (t->type == T_WORD && lx->out->kill_id == 0)
                    lx->out->kill_id = parse_id(lx->q + t->s, t->e - t->s);
            }
        }
        break;
    default:
        break;
    }
}

/* Rules that apply anywhere in any statement. */
static void feed_any(stmt_t *st, const lexer_t *lx, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (t->type == T_PUNCT) {
        if (t->ch == '(') {
            /* `TABLE found_rows (` and `INTO found_rows (` name tables. */
            if (st->prev_type == T_WORD && st->prev2_kw != K_TABLE && st->prev2_kw != K_INTO) {
                switch (st->prev_kw) {
                case K_LAST_INSERT_ID:
                    st->flags |= MX_SQLF_LAST_INSERT_ID;
                    break;
                case K_GET_LOCK:
                case K_RELEASE_LOCK:
                case K_IS_FREE_LOCK:
                case K_IS_USED_LOCK:
                case K_RELEASE_ALL_LOCKS:
                    st->flags |= MX_SQLF_LOCK_FUNC;
                    break;
                case K_FOUND_ROWS:
                case K_ROW_COUNT:
                    st->flags |= MX_SQLF_FOUND_ROWS;
                    break;
                case K_NEXTVAL:
                case K_LASTVAL:
                case K_SETVAL:
                    st->flags |= MX_SQLF_SEQUENCE;
                    break;
                case K_DATABASE:
                case K_SCHEMA:
                    st->flags |= MX_SQLF_SELECT_DATABASE;
                    break;
                case K_CONNECTION_ID:
                    st->flags |= MX_SQLF_CONNECTION_ID;
                    break;
                default:
                    break;
                }
            }
            st->depth++;
        } else if (t->ch == ')') {
            if (st->depth > 0)
                st->depth--;
        }
        return;
    }
    if (t->type == T_USERVAR) {
        if (st->into)
            st->flags |= MX_SQLF_USERVAR_ASSIGN;
        return;
    }
    if (t->type == T_ASSIGN) {
        /* In SET, `@x := 1` is a session assignment like `@x = 1`. */
        if (st->prev_type == T_USERVAR && !(st->verb == V_SET && st->depth == 0))
            st->flags |= MX_SQLF_USERVAR_ASSIGN;
        return;
    }
    if (t->type == T_SYSVAR) {
        const uint8_t *name;
        size_t len;
        bool global;
        sysvar_name(lx, t, &name, &len, &global);
        if (sysvar_is(name, len, "identity") || sysvar_is(name, len, "last_insert_id"))
            st->flags |= MX_SQLF_LAST_INSERT_ID;
        else if (sysvar_is(name, len, "warning_count") || sysvar_is(name, len, "error_count"))
            st->flags |= MX_SQLF_DIAGNOSTICS;
        return;
    }
    if (t->type != T_WORD)
        return;
    st->into = false;
    switch (kw) {
    case K_UPDATE:
        if (st->prev_kw == K_FOR)
            st->flags |= MX_SQLF_FOR_UPDATE;
        break;
    case K_SHARE:
        if (st->prev_kw == K_FOR || (st->prev_kw == K_IN && st->prev2_kw == K_LOCK))
            st->flags |= MX_SQLF_FOR_UPDATE;
        break;
    case K_FOR:
        if (st->prev_kw == K_VALUE && (st->prev2_kw == K_NEXT || st->prev2_kw == K_PREVIOUS))
            st->flags |= MX_SQLF_SEQUENCE;
        break;
    case K_INTO:
        if (st->query) {
            st->flags |= MX_SQLF_SELECT_INTO;
            st->into = true;
        }
        break;
    case K_SQL_CALC_FOUND_ROWS:
        st->flags |= MX_SQLF_SQL_CALC_FOUND_ROWS;
        break;
    case K_LIMIT:
    case K_FETCH:
    case K_PROCEDURE: /* PROCEDURE ANALYSE() must be last: no LIMIT after it */
        if (st->depth == 0)
            st->limit = true;
        break;
    case K_UNION:
    case K_INTERSECT:
    case K_EXCEPT:
        if (st->depth == 0)
            st->set_union = true;
        break;
    case K_FROM:
        if (st->depth == 0)
            st->from = true;
        break;
    default:
        break;
    }
}

/* Stored-program bodies: BEGIN and CASE open a block that END closes, but
 * END IF / END LOOP / END WHILE / END REPEAT / END FOR close blocks that
 * were never counted.  Returns true when t was consumed as END's kind. */
static bool feed_block(stmt_t *st, const tok_t *t)
{
    if (st->end_pending) {
        st->end_pending = false;
        if (t->kw == K_IF || t->kw == K_LOOP || t->kw == K_WHILE || t->kw == K_REPEAT ||
            t->kw == K_FOR)
            return false;
        if (st->block > 0)
            st->block--;
        if (t->kw == K_CASE)
            return true;
    }
    if (t->kw == K_BEGIN || t->kw == K_CASE)
        st->block++;
    else if (t->kw == K_END)
        st->end_pending = true;
    return false;
}

static void feed(stmt_t *st, lexer_t *lx, const tok_t *t)
{
    if (st->verb == V_NONE) {
        start_verb(st, lx, t);
    } else {
        if (st->steps < UINT32_MAX)
            st->steps++;
        if (st->compound && t->type == T_WORD)
            feed_block(st, t);
        feed_lead(st, lx, t);
    }
    feed_any(st, lx, t);
    st->prev2_kw = st->prev_kw;
    st->prev_kw = t->kw;
    st->prev_type = t->type;
    st->prev_ch = t->ch;
    if (st->set_stmt && t->kw == K_FOR && st->depth == 0) {
        /* SET STATEMENT var=value FOR stmt: the options last one statement,
         * which alone decides the class. */
        uint32_t flags = st->flags;
        stmt_init(st);
        st->flags = flags;
    }
}

static uint8_t stmt_class(const stmt_t *st)
{
    if (st->write)
        return MX_SQL_WRITE;
    if (st->read)
        return st->flags & (MX_SQLF_FOR_UPDATE | MX_SQLF_WRITER_FUNC | MX_SQLF_SELECT_INTO |
                            MX_SQLF_USERVAR_ASSIGN)
                   ? MX_SQL_WRITE
                   : MX_SQL_READ;
    /* A SET whose value needs the writer (SET @id = LAST_INSERT_ID(),
     * SET @l = GET_LOCK(...)) is run there and not replayed elsewhere. */
    if (st->verb == V_USE || st->verb == V_SET)
        return st->flags & (MX_SQLF_WRITER_FUNC | MX_SQLF_FOR_UPDATE) ? MX_SQL_WRITE
                                                                       : MX_SQL_SESSION;
    return MX_SQL_WRITE;
}

static void finish(stmt_t *st, lexer_t *lx, mx_sql_info_t *out)
{
    if (st->verb == V_NONE)
        return;
    commit_autocommit(st);
    uint8_t cls = stmt_class(st);
    if (out->n_stmts == 0 || cls > out->cls)
        out->cls = cls;
    out->n_stmts++;
    if (out->n_stmts == 1 && st->is_select && st->from && !st->limit && !st->set_union &&
        !(st->flags & (MX_SQLF_FOR_UPDATE | MX_SQLF_SELECT_INTO))) {
        st->flags |= MX_SQLF_SELECT_NO_LIMIT;
        out->limit_pos = lx->last_end;
    }
    out->flags |= st->flags;
}

void mx_sql_classify(const uint8_t *q, size_t n, mx_sql_info_t *out)
{
    memset(out, 0, sizeof(*out));
    lexer_t lx = {.q = q, .n = n, .hint_ok = true, .out = out};
    stmt_t st;
    stmt_init(&st);
    for (;;) {
        tok_t t;
        lex_next(&lx, &t);
        if (t.type == T_SEMI && st.compound) {
            if (st.end_pending) {
                st.end_pending = false;
                if (st.block > 0)
                    st.block--;
            }
            if (st.block > 0) {
                feed(&st, &lx, &t);
                continue;
            }
        }
        if (t.type == T_END || t.type == T_SEMI) {
            finish(&st, &lx, out);
            if (t.type == T_END)
                break;
            stmt_init(&st);
            continue;
        }
        lx.hint_ok = false;
        feed(&st, &lx, &t);
    }
    /* Text a server cannot parse goes where its error is reported for
     * sure, and is never rewritten. */
    if (out->n_stmts == 0 || lx.open_quote) {
        out->cls = MX_SQL_WRITE;
        out->flags &= ~MX_SQLF_SELECT_NO_LIMIT;
        out->limit_pos = 0;
    }
    if (out->n_stmts == 0) {
    } else if (out->n_stmts > 1) {
        out->flags |= MX_SQLF_MULTI;
        out->flags &= ~MX_SQLF_SELECT_NO_LIMIT;
        out->limit_pos = 0;
    }
}

const char *mx_sql_class_name(int cls)
{
    switch (cls) {
    case MX_SQL_READ:
        return "READ";
    case MX_SQL_SESSION:
        return "SESSION";
    case MX_SQL_WRITE:
        return "WRITE";
    default:
        return "?";
    }
}

const char *mx_sql_hint_name(int hint)
{
    switch (hint) {
    case MX_HINT_NONE:
        return "none";
    case MX_HINT_MASTER:
        return "master";
    case MX_HINT_SLAVE:
        return "slave";
    default:
        return "?";
    }
}

static const char *const flag_names[31] = {
    "FOR_UPDATE", "LAST_INSERT_ID", "LOCK_FUNC", "FOUND_ROWS", "SEQUENCE",
    "USERVAR_ASSIGN", "SELECT_INTO", "TEMP_TABLE", "LOCK_TABLES", "UNLOCK_TABLES",
    "BEGIN", "START_READ_ONLY", "COMMIT", "ROLLBACK", "XA",
    "SET_AUTOCOMMIT", "AUTOCOMMIT_0", "AUTOCOMMIT_1", "SET_NAMES", "SET_TRANSACTION",
    "USE", "KILL", "KILL_QUERY", "SQL_CALC_FOUND_ROWS", "SELECT_NO_LIMIT",
    "SHOW_DATABASES", "SELECT_DATABASE", "CONNECTION_ID", "MULTI", "PREPARE",
    "DIAGNOSTICS",
};

const char *mx_sql_flag_name(uint32_t bit)
{
    for (unsigned i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (bit == 1u << i)
            return flag_names[i];
    return NULL;
}
