/* The statement machine of router/classify.h: tokens from router/lex.h
 * drive a small per-statement state machine that looks at leading keywords
 * (the verb and the words a rule needs right after it), clause words at
 * parenthesis depth 0, function names and variables.  Routing classes
 * follow what the statement does; the readonly verdict (ro_ok) is an
 * allow-list per statement that fails closed.  Never a parser.
 *
 * One file over the 1,200-line mark on purpose: the keyword table, SET,
 * the leading-keyword rules and the rules that apply anywhere all read and
 * write one stmt_t/scan_t, and a rule often depends on what another noted.
 * Split, the pieces would share a private header of the whole state and a
 * reader would open them all to follow one statement (tests/sizes.allow). */
#include "classify.h"

#include <string.h>

/* Only the words some rule looks at; every other word is K_NONE. */
enum {
    K_NONE,
    K_ALTER, K_ANALYZE, K_AND, K_AS, K_ATOMIC, K_AUTOCOMMIT, K_BEGIN, K_CALL, K_CASE, K_CHAIN,
    K_CHARACTER, K_CHARSET, K_CLOSE, K_COLLATE, K_COMMENT, K_COMMIT, K_CONNECTION,
    K_CONNECTION_ID, K_CONSISTENT, K_COUNT, K_CREATE, K_CURRENT, K_DATABASE, K_DATABASES,
    K_DEALLOCATE, K_DEFAULT, K_DELETE, K_DESC, K_DESCRIBE, K_DIAGNOSTICS, K_DO, K_DROP,
    K_DUMPFILE, K_EACH, K_ELSE, K_END, K_ERRORS, K_EVENT, K_EXCEPT, K_EXECUTE, K_EXISTS,
    K_EXPLAIN, K_EXPORT, K_EXTENDED, K_FALSE, K_FETCH, K_FLUSH, K_FOR, K_FORMAT, K_FOUND_ROWS,
    K_FROM, K_FUNCTION, K_GET, K_GET_LOCK, K_GLOBAL, K_HANDLER, K_HARD, K_HELP, K_ID, K_IF,
    K_IN, K_INSERT, K_INTERSECT, K_INTO, K_IS_FREE_LOCK, K_IS_USED_LOCK, K_ISOLATION, K_KILL,
    K_LAST_INSERT_ID, K_LASTVAL, K_LIKE, K_LIMIT, K_LOAD, K_LOCAL, K_LOCK, K_LOOP, K_MODE,
    K_NAMES, K_NEXT, K_NEXTVAL, K_NO, K_NOT, K_NULL, K_OFF, K_ON, K_ONLY, K_OPEN, K_OR,
    K_OUTFILE, K_PACKAGE, K_PARTITIONS, K_PASSWORD, K_PERSIST, K_PERSIST_ONLY, K_PREPARE,
    K_PREVIOUS, K_PROCEDURE, K_QUERY, K_READ, K_RELEASE, K_RELEASE_ALL_LOCKS, K_RELEASE_LOCK,
    K_REPEAT, K_REPLACE, K_ROLE, K_ROLLBACK, K_ROW, K_ROW_COUNT, K_SAVEPOINT, K_SCHEMA,
    K_SCHEMAS, K_SELECT, K_SESSION, K_SET, K_SETVAL, K_SHARE, K_SHOW, K_SHUTDOWN, K_SNAPSHOT,
    K_SOFT, K_SQL_CALC_FOUND_ROWS, K_STACKED, K_START, K_STATEMENT, K_TABLE, K_TABLES,
    K_TEMPORARY, K_THEN, K_TO, K_TRANSACTION, K_TRIGGER, K_TRUE, K_UNION, K_UNLOCK, K_UPDATE,
    K_UPGRADE, K_USE, K_USER, K_VALUE, K_VALUES, K_WARNINGS, K_WHILE, K_WITH, K_WORK, K_WRITE,
    K_XA,
};

typedef struct kw_s {
    char s[20]; /* lower case; stored inline to spare a pointer chase */
    uint8_t id;
} kw_t;

/* Each kwN holds the keywords of length N, sorted: keyword() relies on it. */
static const kw_t kw2[] = {{"as", K_AS}, {"do", K_DO}, {"id", K_ID}, {"if", K_IF}, {"in", K_IN},
                           {"no", K_NO}, {"on", K_ON}, {"or", K_OR}, {"to", K_TO}, {"xa", K_XA}};
static const kw_t kw3[] = {{"and", K_AND}, {"end", K_END}, {"for", K_FOR}, {"get", K_GET},
                           {"not", K_NOT}, {"off", K_OFF}, {"row", K_ROW}, {"set", K_SET},
                           {"use", K_USE}};
static const kw_t kw4[] = {{"call", K_CALL}, {"case", K_CASE}, {"desc", K_DESC}, {"drop", K_DROP},
                           {"each", K_EACH}, {"else", K_ELSE}, {"from", K_FROM}, {"hard", K_HARD},
                           {"help", K_HELP}, {"into", K_INTO}, {"kill", K_KILL}, {"like", K_LIKE},
                           {"load", K_LOAD}, {"lock", K_LOCK}, {"loop", K_LOOP}, {"mode", K_MODE},
                           {"next", K_NEXT}, {"null", K_NULL}, {"only", K_ONLY}, {"open", K_OPEN},
                           {"read", K_READ}, {"role", K_ROLE}, {"show", K_SHOW}, {"soft", K_SOFT},
                           {"then", K_THEN}, {"true", K_TRUE}, {"user", K_USER}, {"with", K_WITH},
                           {"work", K_WORK}};
static const kw_t kw5[] = {{"alter", K_ALTER}, {"begin", K_BEGIN}, {"chain", K_CHAIN},
                           {"close", K_CLOSE}, {"count", K_COUNT}, {"event", K_EVENT},
                           {"false", K_FALSE}, {"fetch", K_FETCH}, {"flush", K_FLUSH},
                           {"limit", K_LIMIT}, {"local", K_LOCAL}, {"names", K_NAMES},
                           {"query", K_QUERY}, {"share", K_SHARE}, {"start", K_START},
                           {"table", K_TABLE}, {"union", K_UNION}, {"value", K_VALUE},
                           {"while", K_WHILE}, {"write", K_WRITE}};
static const kw_t kw6[] = {{"atomic", K_ATOMIC}, {"commit", K_COMMIT}, {"create", K_CREATE},
                           {"delete", K_DELETE}, {"errors", K_ERRORS}, {"except", K_EXCEPT},
                           {"exists", K_EXISTS}, {"export", K_EXPORT}, {"format", K_FORMAT},
                           {"global", K_GLOBAL}, {"insert", K_INSERT}, {"repeat", K_REPEAT},
                           {"schema", K_SCHEMA}, {"select", K_SELECT}, {"setval", K_SETVAL},
                           {"tables", K_TABLES}, {"unlock", K_UNLOCK}, {"update", K_UPDATE},
                           {"values", K_VALUES}};
static const kw_t kw7[] = {{"analyze", K_ANALYZE}, {"charset", K_CHARSET}, {"collate", K_COLLATE},
                           {"comment", K_COMMENT}, {"current", K_CURRENT}, {"default", K_DEFAULT},
                           {"execute", K_EXECUTE}, {"explain", K_EXPLAIN}, {"handler", K_HANDLER},
                           {"lastval", K_LASTVAL}, {"nextval", K_NEXTVAL}, {"outfile", K_OUTFILE},
                           {"package", K_PACKAGE}, {"persist", K_PERSIST}, {"prepare", K_PREPARE},
                           {"release", K_RELEASE}, {"replace", K_REPLACE}, {"schemas", K_SCHEMAS},
                           {"session", K_SESSION}, {"stacked", K_STACKED}, {"trigger", K_TRIGGER},
                           {"upgrade", K_UPGRADE}};
static const kw_t kw8[] = {{"database", K_DATABASE}, {"describe", K_DESCRIBE},
                           {"dumpfile", K_DUMPFILE}, {"extended", K_EXTENDED},
                           {"function", K_FUNCTION}, {"get_lock", K_GET_LOCK},
                           {"password", K_PASSWORD}, {"previous", K_PREVIOUS},
                           {"rollback", K_ROLLBACK}, {"shutdown", K_SHUTDOWN},
                           {"snapshot", K_SNAPSHOT}, {"warnings", K_WARNINGS}};
static const kw_t kw9[] = {{"character", K_CHARACTER}, {"databases", K_DATABASES},
                           {"intersect", K_INTERSECT}, {"isolation", K_ISOLATION},
                           {"procedure", K_PROCEDURE}, {"row_count", K_ROW_COUNT},
                           {"savepoint", K_SAVEPOINT}, {"statement", K_STATEMENT},
                           {"temporary", K_TEMPORARY}};
static const kw_t kw10[] = {{"autocommit", K_AUTOCOMMIT}, {"connection", K_CONNECTION},
                            {"consistent", K_CONSISTENT}, {"deallocate", K_DEALLOCATE},
                            {"found_rows", K_FOUND_ROWS}, {"partitions", K_PARTITIONS}};
static const kw_t kw11[] = {{"diagnostics", K_DIAGNOSTICS}, {"transaction", K_TRANSACTION}};
static const kw_t kw12[] = {{"is_free_lock", K_IS_FREE_LOCK}, {"is_used_lock", K_IS_USED_LOCK},
                            {"persist_only", K_PERSIST_ONLY}, {"release_lock", K_RELEASE_LOCK}};
static const kw_t kw13[] = {{"connection_id", K_CONNECTION_ID}};
static const kw_t kw14[] = {{"last_insert_id", K_LAST_INSERT_ID}};
static const kw_t kw17[] = {{"release_all_locks", K_RELEASE_ALL_LOCKS}};
static const kw_t kw19[] = {{"sql_calc_found_rows", K_SQL_CALC_FOUND_ROWS}};

#define KWS(a) {a, sizeof(a) / sizeof(a[0])}
#define KW_MAXLEN 19

/* Indexed by length, so a word is compared with a handful of candidates. */
static const struct {
    const kw_t *v;
    size_t n;
} kw_by_len[KW_MAXLEN + 1] = {
    [2] = KWS(kw2),   [3] = KWS(kw3),   [4] = KWS(kw4),   [5] = KWS(kw5),   [6] = KWS(kw6),
    [7] = KWS(kw7),   [8] = KWS(kw8),   [9] = KWS(kw9),   [10] = KWS(kw10), [11] = KWS(kw11),
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

static bool word_is(const uint8_t *w, size_t len, const char *lit)
{
    return strlen(lit) == len && eq_ci(w, lit, len);
}

static uint8_t keyword(const uint8_t *w, size_t len)
{
    if (len == 0 || len > KW_MAXLEN)
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

/* A lexer token and the keyword the server reads in it. */
typedef struct tok_s {
    uint8_t type;  /* MX_TOK_* */
    uint8_t kw;    /* K_* of a word the server takes for a keyword, else K_NONE */
    uint8_t ch;    /* MX_TOK_PUNCT: the byte */
    uint8_t flags; /* MX_TOKF_* */
    size_t s, e;   /* byte range in the text */
} tok_t;

/* Session variables a readonly user may set: they change how this session
 * reads, never data or other sessions. */
static const char *const ro_sysvars[] = {
    "autocommit", "sql_mode", "time_zone", "character_set_client", "character_set_connection",
    "character_set_results", "collation_connection", "net_read_timeout", "net_write_timeout",
    "wait_timeout", "interactive_timeout", "max_statement_time", "max_execution_time",
    "group_concat_max_len", "sql_select_limit", "max_join_size", "sql_big_selects",
    "sql_safe_updates", "div_precision_increment", "lc_time_names", "lc_messages",
    "transaction_isolation", "tx_isolation", "profiling", "profiling_history_size",
    "sql_quote_show_create", "sql_auto_is_null", "sql_notes", "sql_warnings", "optimizer_switch",
    "optimizer_search_depth", "big_tables", "sort_buffer_size", "join_buffer_size",
    "tmp_table_size", "max_heap_table_size", "default_week_format", "sql_buffer_result",
    "foreign_key_checks", "unique_checks", "lock_wait_timeout", "innodb_lock_wait_timeout",
};

static bool ro_sysvar(const uint8_t *w, size_t len)
{
    for (size_t i = 0; i < sizeof(ro_sysvars) / sizeof(ro_sysvars[0]); i++)
        if (word_is(w, len, ro_sysvars[i]))
            return true;
    return false;
}

/* Statement kinds, from the first token. */
enum {
    V_NONE,       /* no token yet: an empty statement */
    V_OTHER,      /* anything not listed: WRITE */
    V_QUERY,      /* SELECT, TABLE, VALUES */
    V_READ,       /* HELP */
    V_PAREN,      /* leading '(': a query if a query keyword follows */
    V_WITH,       /* WITH: the class of the statement after the CTEs */
    V_EXPLAIN,    /* EXPLAIN, DESC, DESCRIBE */
    V_SHOW,
    V_USE,
    V_SET,
    V_BEGIN,
    V_START,
    V_COMMIT,
    V_ROLLBACK,
    V_SAVEPOINT,
    V_RELEASE,
    V_LOCK,
    V_UNLOCK,
    V_CREATE,
    V_DROP,
    V_ALTER,
    V_DEALLOCATE,
    V_KILL,
    V_FLUSH,
    V_DO,
    V_GET,
    V_HANDLER,
    V_CALL,
    V_LOAD,
    V_SHUTDOWN,
    V_COMPOUND    /* IF, CASE, WHILE, LOOP, REPEAT, FOR outside a stored program */
};

enum { SCOPE_NONE, SCOPE_SESSION, SCOPE_GLOBAL };

/* SET: what the current assignment assigns. */
enum { TG_NONE, TG_USERVAR, TG_SYSVAR, TG_NAMES, TG_TRANSACTION, TG_OTHER };

/* SET: how far the value of a user variable is a literal. */
enum { LIT_START, LIT_SIGN, LIT_INTRODUCER, LIT_DONE, LIT_NO };

#define MAX_BLOCKS 64
#define MAX_UV 32

typedef struct stmt_s {
    uint8_t verb;       /* V_* */
    uint8_t prev_kw;    /* K_* of the previous token */
    uint8_t prev2_kw;   /* K_* of the token before that */
    uint8_t prev_type;  /* MX_TOK_* of the previous token */
    uint8_t prev_ch;    /* byte of the previous token when MX_TOK_PUNCT */
    uint8_t sub;        /* per-verb progress, 0 at the verb */
    uint8_t gpos;       /* readonly grammar progress, 0 at the verb */
    uint8_t scope;      /* SET: SCOPE_* of the current assignment */
    uint8_t target;     /* SET: TG_* of the current assignment */
    uint8_t lit;        /* SET: LIT_* of a user variable's value */
    bool read;          /* a read statement unless a flag forbids it */
    bool write;         /* WRITE whatever else is found */
    bool ro;            /* of a kind a readonly user may run ... */
    bool veto;          /* ... unless something in it says otherwise */
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
    bool compound;      /* a stored program or compound statement: ';' may not end it */
    bool end_pending;   /* compound: END seen, its block kind not yet */
    bool stmt_pos;      /* compound: the next word starts a statement of the body */
    bool label_pending; /* compound: a word at stmt_pos that a ':' would make a label */
    bool blk_overflow;  /* compound: nested too deep to follow; it runs to the end */
    bool uv_pending;    /* a user variable whose next token says read or assigned */
    bool db_pending;    /* CREATE/DROP/ALTER DATABASE: the name comes */
    int8_t ac_val;      /* SET: literal autocommit value awaiting the end of its assignment */
    uint8_t nblk;       /* compound: open blocks */
    uint64_t blk;       /* compound: bit k set when block k is a statement block, clear
                         * for a CASE expression (its THEN is followed by a value) */
    uint32_t steps;     /* tokens since the verb, saturating */
    uint32_t db_step;   /* the step that made db_pending */
    size_t prev_s, prev_e; /* start and end of the previous token */
    size_t dbf_s;       /* a DATABASE( / SCHEMA( call's name, until its ')' */
    bool dbf_open;      /* ... when the next token is that ')' */
    bool lid_open;      /* after LAST_INSERT_ID(: an argument unless ')' follows */
    uint32_t depth;     /* parenthesis depth */
    uint32_t wdepth;    /* WITH: the depth of the WITH keyword */
    uint64_t flags;     /* MX_SQLF_* of this statement */
    tok_t uv_name;      /* SET: the user variable being assigned */
    size_t lit_s, lit_e; /* SET: its literal value */
    /* The statements manx answers itself, recognised token by token. */
    uint8_t loc;        /* MX_LOCAL_* candidate */
    uint8_t loc_pos;    /* tokens matched so far; 0xff once it failed */
    size_t loc_s, loc_e; /* USE: the name's bytes; SELECT: the call as typed */
    tok_t loc_tok;      /* the quoted name, alias or LIKE pattern */
    bool loc_has_tok;   /* loc_tok is set */
} stmt_t;

typedef struct uv_rec_s {
    tok_t name;  /* the user variable token */
    size_t s, e; /* its literal value */
} uv_rec_t;

typedef struct scan_s {
    mx_lex_t lx;
    const uint8_t *q;
    const mx_sql_cb_t *cb;
    mx_sql_info_t *out;
    bool ro_all;        /* every finished statement was ro */
    bool first_set;     /* the first statement is a plain SET */
    bool kill;          /* a statement is a KILL */
    tok_t prev;         /* the previous token of the text */
    bool prev_is_dot;   /* it is the '.' token */
    bool prev_after_dot; /* it came right after a '.' token */
    bool uv_ok;         /* every user variable of the first statement got a literal */
    uint32_t n_uv;
    uv_rec_t uv[MAX_UV];
} scan_t;

static void stmt_init(stmt_t *st)
{
    memset(st, 0, sizeof(*st));
    st->ac_val = -1;
}

static void veto(stmt_t *st)
{
    st->veto = true;
}

static bool is_name(const tok_t *t)
{
    return t->type == MX_TOK_WORD || t->type == MX_TOK_QIDENT;
}

/* A token the server may read as an identifier: a word, a `name`, or a
 * "name" while ANSI_QUOTES is unknown. */
static bool maybe_ident(const tok_t *t)
{
    return is_name(t) || (t->type == MX_TOK_STRING && (t->flags & MX_TOKF_DQUOTE));
}

/* Tells the caller about a name the server may take for a database. */
static void report_db(scan_t *sc, int kind, size_t s, size_t e, const tok_t *t)
{
    if (!sc->cb || !sc->cb->db_name)
        return;
    char name[MX_SQL_USE_DB_MAX + 1];
    int len;
    if (kind == MX_SQL_DB_FUNC) {
        len = -1;
    } else if (t) {
        len = mx_lex_unquote(sc->q, &(mx_tok_t){.type = t->type, .flags = t->flags, .s = t->s, .e = t->e},
                             name, sizeof(name));
    } else if (e - s <= MX_SQL_USE_DB_MAX) {
        memcpy(name, sc->q + s, e - s);
        name[e - s] = 0;
        len = (int)(e - s);
    } else {
        len = -1;
    }
    if (len < 0) {
        name[0] = 0;
        len = 0;
    }
    sc->cb->db_name(sc->cb->arg, kind, s, e - s, name, (size_t)len);
}

/* The database name of `USE name`, unquoted; "" when it does not fit. */
static void copy_use(const scan_t *sc, const tok_t *t, char *dst)
{
    dst[0] = 0;
    if (t->type != MX_TOK_WORD && t->type != MX_TOK_QIDENT && t->type != MX_TOK_STRING &&
        t->type != MX_TOK_NUMBER)
        return;
    mx_tok_t m = {.type = t->type, .flags = t->flags, .s = t->s, .e = t->e};
    if (mx_lex_unquote(sc->q, &m, dst, MX_SQL_USE_DB_MAX + 1) < 0)
        dst[0] = 0;
}

/* Digits only, no overflow, not 0; 0 otherwise. */
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
static int8_t autocommit_value(const scan_t *sc, const tok_t *t)
{
    const uint8_t *w = sc->q + t->s;
    size_t len = t->e - t->s;
    if (t->type == MX_TOK_STRING && len >= 2 && !(t->flags & MX_TOKF_ESCAPED)) {
        w++;
        len -= 2;
    } else if (t->type != MX_TOK_WORD && t->type != MX_TOK_NUMBER) {
        return -1;
    }
    if ((len == 1 && w[0] == '1') || word_is(w, len, "on") || word_is(w, len, "true"))
        return 1;
    if ((len == 1 && w[0] == '0') || word_is(w, len, "off") || word_is(w, len, "false"))
        return 0;
    return -1;
}

/* A system variable's name without its @@ and scope prefix, and the scope. */
static void sysvar_name(const scan_t *sc, const tok_t *t, const uint8_t **name, size_t *len,
                        uint8_t *scope)
{
    const uint8_t *w = sc->q + t->s + 2;
    size_t n = t->e - t->s - 2;
    *scope = SCOPE_NONE;
    for (size_t i = 0; i < n && w[0] != '`'; i++) {
        if (w[i] != '.')
            continue;
        if (word_is(w, i, "global") || word_is(w, i, "persist") || word_is(w, i, "persist_only"))
            *scope = SCOPE_GLOBAL;
        else if (word_is(w, i, "session") || word_is(w, i, "local"))
            *scope = SCOPE_SESSION;
        else
            *scope = SCOPE_GLOBAL; /* @@keycache.x: a structured global variable */
        w += i + 1;
        n -= i + 1;
        break;
    }
    if (n >= 2 && w[0] == '`' && w[n - 1] == '`') {
        w++;
        n -= 2;
    }
    *name = w;
    *len = n;
}

/* ---- compound statements ------------------------------------------------ */

static void blk_push(stmt_t *st, bool stmt_block)
{
    if (st->nblk >= MAX_BLOCKS) {
        st->blk_overflow = true;
        return;
    }
    if (stmt_block)
        st->blk |= UINT64_C(1) << st->nblk;
    else
        st->blk &= ~(UINT64_C(1) << st->nblk);
    st->nblk++;
}

static bool blk_top_is_stmt(const stmt_t *st)
{
    return st->nblk > 0 && ((st->blk >> (st->nblk - 1)) & 1);
}

/* The body of a compound statement or stored program: BEGIN, IF, CASE,
 * LOOP, WHILE, REPEAT and FOR open blocks that END [IF|CASE|...] closes; a
 * ';' ends the statement only outside every block.  Following the body's
 * own statements also finds what they do to the session.  Getting this
 * wrong only merges or splits pieces of a statement that is WRITE and not
 * ro_ok anyway. */
static void feed_compound(scan_t *sc, stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->end_pending) {
        st->end_pending = false;
        if (t->type == MX_TOK_WORD &&
            (kw == K_IF || kw == K_CASE || kw == K_LOOP || kw == K_WHILE || kw == K_REPEAT ||
             kw == K_FOR || kw == K_NONE))
            return; /* END IF, END CASE, END label */
    }
    if (t->type == MX_TOK_SEMI) {
        st->stmt_pos = true;
        st->label_pending = false;
        return;
    }
    if (t->type == MX_TOK_PUNCT && t->ch == ':' && st->label_pending) {
        st->label_pending = false;
        st->stmt_pos = true;
        return;
    }
    st->label_pending = false;
    if (t->type == MX_TOK_USERVAR) {
        /* Whatever the body does with it, it is not replayable. */
        st->flags |= MX_SQLF_USERVAR_ASSIGN | MX_SQLF_USERVAR_READ;
    } else if (t->type == MX_TOK_SYSVAR || t->type == MX_TOK_WORD) {
        const uint8_t *w = sc->q + t->s;
        size_t len = t->e - t->s;
        uint8_t scope;
        if (t->type == MX_TOK_SYSVAR)
            sysvar_name(sc, t, &w, &len, &scope);
        if (word_is(w, len, "sql_mode"))
            mx_lex_mode_changes(&sc->lx, MX_LEX_NEXT_SQL_MODE);
        else if (kw == K_NAMES || kw == K_CHARSET || word_is(w, len, "character_set_client"))
            mx_lex_mode_changes(&sc->lx, MX_LEX_NEXT_CHARSET);
    }
    if (t->type != MX_TOK_WORD) {
        st->stmt_pos = false;
        return;
    }
    bool at_start = st->stmt_pos;
    st->stmt_pos = false;
    switch (kw) {
    case K_END:
        if (st->nblk > 0)
            st->nblk--;
        st->end_pending = true;
        return;
    case K_BEGIN:
        blk_push(st, true);
        st->stmt_pos = true;
        return;
    case K_NOT:
    case K_ATOMIC:
        /* BEGIN NOT ATOMIC: the body starts after ATOMIC. */
        if ((kw == K_NOT && st->prev_kw == K_BEGIN) || (kw == K_ATOMIC && st->prev_kw == K_NOT))
            st->stmt_pos = at_start;
        return;
    case K_CASE:
        blk_push(st, at_start);
        return;
    case K_IF:
    case K_WHILE:
    case K_FOR:
        if (at_start)
            blk_push(st, true);
        return;
    case K_LOOP:
    case K_REPEAT:
        if (at_start) {
            blk_push(st, true);
            st->stmt_pos = true;
        }
        return;
    case K_THEN:
    case K_ELSE:
        st->stmt_pos = blk_top_is_stmt(st);
        return;
    case K_DO:
        st->stmt_pos = !at_start; /* WHILE ... DO, FOR ... DO, CREATE EVENT ... DO */
        return;
    case K_ROW:
        st->stmt_pos = st->prev_kw == K_EACH; /* CREATE TRIGGER ... FOR EACH ROW */
        return;
    default:
        break;
    }
    if (!at_start)
        return;
    switch (kw) {
    case K_SHUTDOWN:
        st->flags |= MX_SQLF_SHUTDOWN;
        break;
    case K_HANDLER:
        st->flags |= MX_SQLF_HANDLER;
        break;
    case K_PREPARE:
    case K_EXECUTE:
    case K_DEALLOCATE:
        st->flags |= MX_SQLF_PREPARE;
        break;
    case K_NONE:
        st->label_pending = true;
        break;
    default:
        break;
    }
}

/* ---- the first token ----------------------------------------------------- */

static void start_verb(scan_t *sc, stmt_t *st, const tok_t *t)
{
    st->ro = false;
    switch (t->kw) {
    case K_SELECT:
        st->verb = V_QUERY;
        st->read = st->query = st->is_select = st->ro = true;
        st->loc = MX_LOCAL_SELECT_DATABASE; /* or CONNECTION_ID: decided by the call */
        return;
    case K_TABLE:
    case K_VALUES:
        st->verb = V_QUERY;
        st->read = st->query = st->ro = true;
        return;
    case K_WITH:
        st->verb = V_WITH;
        st->query = true;
        st->wdepth = st->depth;
        return;
    case K_HELP:
        st->verb = V_READ;
        st->read = st->ro = true;
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
        st->read = st->ro = true;
        st->loc = MX_LOCAL_SHOW_DATABASES;
        return;
    case K_USE:
        st->verb = V_USE;
        st->ro = true;
        st->flags |= MX_SQLF_USE;
        st->loc = MX_LOCAL_USE;
        sc->out->use_db[0] = 0;
        return;
    case K_SET:
        st->verb = V_SET;
        st->lhs = st->ro = true;
        return;
    case K_BEGIN:
        st->verb = V_BEGIN;
        st->ro = true;
        st->flags |= MX_SQLF_BEGIN;
        return;
    case K_START:
        st->verb = V_START;
        return;
    case K_COMMIT:
        st->verb = V_COMMIT;
        st->ro = true;
        st->flags |= MX_SQLF_COMMIT;
        return;
    case K_ROLLBACK:
        st->verb = V_ROLLBACK;
        st->ro = true;
        st->flags |= MX_SQLF_ROLLBACK;
        return;
    case K_SAVEPOINT:
        st->verb = V_SAVEPOINT;
        st->ro = true;
        return;
    case K_RELEASE:
        st->verb = V_RELEASE;
        st->ro = true;
        return;
    case K_XA:
        st->flags |= MX_SQLF_XA;
        break;
    case K_LOCK:
        st->verb = V_LOCK;
        return;
    case K_UNLOCK:
        st->verb = V_UNLOCK;
        st->ro = true;
        return;
    case K_CREATE:
        st->verb = V_CREATE;
        return;
    case K_DROP:
        st->verb = V_DROP;
        return;
    case K_ALTER:
        st->verb = V_ALTER;
        return;
    case K_KILL:
        st->verb = V_KILL;
        st->ro = true;
        st->flags |= MX_SQLF_KILL;
        return;
    case K_FLUSH:
        st->verb = V_FLUSH;
        return;
    case K_DO:
        st->verb = V_DO;
        st->ro = true;
        return;
    case K_PREPARE:
    case K_EXECUTE:
        st->flags |= MX_SQLF_PREPARE;
        break;
    case K_DEALLOCATE:
        st->verb = V_DEALLOCATE;
        st->ro = true;
        st->flags |= MX_SQLF_PREPARE;
        return;
    case K_GET:
        /* GET DIAGNOSTICS reads the previous statement's outcome. */
        st->verb = V_GET;
        st->flags |= MX_SQLF_DIAGNOSTICS;
        return;
    case K_HANDLER:
        st->verb = V_HANDLER;
        st->flags |= MX_SQLF_HANDLER;
        return;
    case K_CALL:
        st->verb = V_CALL;
        st->flags |= MX_SQLF_CALL;
        return;
    case K_LOAD:
        st->verb = V_LOAD;
        return;
    case K_SHUTDOWN:
        st->verb = V_SHUTDOWN;
        st->flags |= MX_SQLF_SHUTDOWN;
        return;
    case K_IF:
    case K_CASE:
    case K_WHILE:
    case K_FOR:
    case K_LOOP:
    case K_REPEAT:
        /* MariaDB runs these outside stored programs too, as one statement
         * up to their END. */
        st->verb = V_COMPOUND;
        st->compound = true;
        blk_push(st, true);
        st->stmt_pos = t->kw == K_LOOP || t->kw == K_REPEAT;
        return;
    default:
        if (t->type == MX_TOK_PUNCT && t->ch == '(') {
            st->verb = V_PAREN;
            return;
        }
        break;
    }
    st->verb = V_OTHER;
}

/* ---- SET -------------------------------------------------------------------- */

/* SET: a literal autocommit value counts once its assignment ends. */
static void commit_autocommit(stmt_t *st)
{
    if (st->ac_val == 0)
        st->flags |= MX_SQLF_AUTOCOMMIT_0;
    else if (st->ac_val == 1)
        st->flags |= MX_SQLF_AUTOCOMMIT_1;
    st->ac_val = -1;
}

/* SET: the end of one assignment. */
static void end_assignment(scan_t *sc, stmt_t *st)
{
    commit_autocommit(st);
    if (st->target == TG_USERVAR && sc->out->n_stmts == 0) {
        char name[MX_SQL_USE_DB_MAX + 1];
        mx_tok_t m = {.type = st->uv_name.type, .flags = st->uv_name.flags, .s = st->uv_name.s,
                      .e = st->uv_name.e};
        if (st->lit != LIT_DONE || sc->n_uv >= MAX_UV ||
            mx_lex_unquote(sc->q, &m, name, sizeof(name)) <= 0) {
            sc->uv_ok = false;
        } else {
            uv_rec_t *r = &sc->uv[sc->n_uv++];
            r->name = st->uv_name;
            r->s = st->lit_s;
            r->e = st->lit_e;
        }
    }
    st->lhs = true;
    st->scope = SCOPE_NONE;
    st->target = TG_NONE;
    st->ac_var = false;
}

/* SET: a variable name on the left, with its scope. */
static void set_variable(scan_t *sc, stmt_t *st, const uint8_t *name, size_t len, uint8_t scope)
{
    if (scope == SCOPE_GLOBAL) {
        st->write = true;
        st->flags |= MX_SQLF_GLOBAL;
        veto(st);
    } else if (!ro_sysvar(name, len)) {
        veto(st);
    }
    if (word_is(name, len, "sql_mode")) {
        mx_lex_mode_changes(&sc->lx, MX_LEX_NEXT_SQL_MODE);
        if (scope != SCOPE_GLOBAL && !st->set_stmt)
            st->flags |= MX_SQLF_SET_SQL_MODE;
    } else if (word_is(name, len, "character_set_client")) {
        mx_lex_mode_changes(&sc->lx, MX_LEX_NEXT_CHARSET);
        if (scope != SCOPE_GLOBAL && !st->set_stmt)
            st->flags |= MX_SQLF_SET_NAMES;
    }
    st->ac_var = !st->set_stmt && scope != SCOPE_GLOBAL && word_is(name, len, "autocommit");
    if (st->ac_var)
        st->flags |= MX_SQLF_SET_AUTOCOMMIT;
    st->target = TG_SYSVAR;
}

/* SET: the first token of an assignment (after any scope word). */
static void set_lhs(scan_t *sc, stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    switch (kw) {
    case K_GLOBAL:
    case K_PERSIST:
    case K_PERSIST_ONLY:
        st->scope = SCOPE_GLOBAL;
        st->write = true;
        st->flags |= MX_SQLF_GLOBAL;
        veto(st);
        return;
    case K_SESSION:
    case K_LOCAL:
        if (st->scope == SCOPE_NONE)
            st->scope = SCOPE_SESSION;
        return;
    case K_STATEMENT:
        if (st->steps == 1 && !st->set_stmt) {
            st->set_stmt = true;
            return;
        }
        break;
    default:
        break;
    }
    st->lhs = false;
    if (st->set_stmt && t->type != MX_TOK_SYSVAR && (t->type != MX_TOK_WORD || kw == K_NAMES ||
                                                      kw == K_CHARSET || kw == K_CHARACTER ||
                                                      kw == K_TRANSACTION)) {
        /* SET STATEMENT takes system variables only. */
        st->target = TG_OTHER;
        veto(st);
        return;
    }
    switch (kw) {
    case K_NAMES:
    case K_CHARSET:
    case K_CHARACTER:
        st->flags |= MX_SQLF_SET_NAMES;
        mx_lex_mode_changes(&sc->lx, MX_LEX_NEXT_CHARSET);
        st->target = TG_NAMES;
        return;
    case K_TRANSACTION:
        if (st->scope == SCOPE_NONE)
            st->flags |= MX_SQLF_SET_TRANSACTION;
        st->target = TG_TRANSACTION;
        return;
    case K_PASSWORD:
    case K_DEFAULT:
    case K_ROLE:
        if (st->steps == 1) {
            /* SET PASSWORD and SET DEFAULT ROLE change grant tables; SET
             * ROLE changes what this session may do. */
            if (kw != K_ROLE)
                st->write = true;
            st->target = TG_OTHER;
            veto(st);
            return;
        }
        break;
    default:
        break;
    }
    if (t->type == MX_TOK_USERVAR) {
        st->flags |= MX_SQLF_USERVAR_SET;
        st->target = TG_USERVAR;
        st->uv_name = *t;
        st->lit = LIT_START;
        return;
    }
    if (t->type == MX_TOK_SYSVAR) {
        const uint8_t *name;
        size_t len;
        uint8_t scope;
        sysvar_name(sc, t, &name, &len, &scope);
        if (scope == SCOPE_NONE) {
            scope = st->scope;
            if (scope != SCOPE_GLOBAL && !st->set_stmt)
                st->flags |= MX_SQLF_SYSVAR_BARE;
        }
        set_variable(sc, st, name, len, scope);
        return;
    }
    if (t->type == MX_TOK_WORD) {
        /* A structured variable (SET keycache.key_buffer_size) is global. */
        size_t e = t->e;
        if (e < sc->lx.n && sc->q[e] == '.') {
            st->target = TG_OTHER;
            veto(st);
            return;
        }
        set_variable(sc, st, sc->q + t->s, t->e - t->s, st->scope);
        return;
    }
    st->target = TG_OTHER;
    veto(st);
}

/* SET: a token of a user variable's value; is it one literal? */
static void set_literal(scan_t *sc, stmt_t *st, const tok_t *t)
{
    switch (st->lit) {
    case LIT_START:
        if (t->type == MX_TOK_PUNCT && (t->ch == '-' || t->ch == '+')) {
            st->lit_s = t->s;
            st->lit = LIT_SIGN;
        } else if (t->type == MX_TOK_NUMBER) {
            st->lit_s = t->s;
            st->lit_e = t->e;
            st->lit = LIT_DONE;
        } else if (t->type == MX_TOK_STRING) {
            st->lit_s = t->s;
            st->lit_e = t->e;
            st->lit = LIT_DONE;
        } else if (t->type == MX_TOK_WORD && (t->kw == K_NULL || t->kw == K_TRUE || t->kw == K_FALSE)) {
            st->lit_s = t->s;
            st->lit_e = t->e;
            st->lit = LIT_DONE;
        } else if (t->type == MX_TOK_WORD && sc->q[t->s] == '_' && t->kw == K_NONE) {
            st->lit_s = t->s;
            st->lit = LIT_INTRODUCER;
        } else {
            st->lit = LIT_NO;
        }
        break;
    case LIT_SIGN:
        st->lit = t->type == MX_TOK_NUMBER ? LIT_DONE : LIT_NO;
        st->lit_e = t->e;
        break;
    case LIT_INTRODUCER:
        st->lit = t->type == MX_TOK_STRING ? LIT_DONE : LIT_NO;
        st->lit_e = t->e;
        break;
    default:
        st->lit = LIT_NO;
        break;
    }
    if (st->lit == LIT_DONE && t->type == MX_TOK_STRING) {
        /* Only a string that reads the same under every sql_mode and
         * charset may be replayed verbatim elsewhere. */
        const uint8_t *p = sc->q + t->s;
        size_t len = t->e - t->s;
        if ((t->flags & MX_TOKF_OPEN) || memchr(p, '"', 1) || (len > 1 && p[0] != '\'' && p[1] == '"') ||
            memchr(p, '\\', len))
            st->lit = LIT_NO;
    }
}

/* SET: one token of an assignment list. */
static void feed_set(scan_t *sc, stmt_t *st, const tok_t *t)
{
    /* A comma ends an assignment, but separates the characteristics of
     * SET TRANSACTION. */
    if (st->depth == 0 && t->type == MX_TOK_PUNCT && t->ch == ',' && st->target != TG_TRANSACTION) {
        end_assignment(sc, st);
        return;
    }
    if (st->lhs) {
        set_lhs(sc, st, t);
        return;
    }
    bool first_rhs = st->depth == 0 &&
                     (st->prev_type == MX_TOK_ASSIGN || (st->prev_type == MX_TOK_PUNCT && st->prev_ch == '='));
    switch (st->target) {
    case TG_USERVAR:
        if (t->type == MX_TOK_ASSIGN || (t->type == MX_TOK_PUNCT && t->ch == '=' && st->depth == 0 &&
                                         st->prev_type == MX_TOK_USERVAR))
            break;
        set_literal(sc, st, t);
        break;
    case TG_SYSVAR:
        if (st->ac_var && first_rhs)
            st->ac_val = autocommit_value(sc, t);
        else if (st->ac_var && !(t->type == MX_TOK_PUNCT && t->ch == '=') && t->type != MX_TOK_ASSIGN)
            st->ac_val = -1;
        break;
    case TG_TRANSACTION:
        if (t->kw == K_WRITE && st->prev_kw == K_READ)
            veto(st); /* READ WRITE */
        break;
    default:
        break;
    }
}

/* ---- leading keywords after the verb -------------------------------------- */

static void feed_explain(stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->depth > 0 || st->sub == 1)
        return;
    switch (st->sub) {
    case 0:
        if (kw == K_EXTENDED || kw == K_PARTITIONS || kw == K_ANALYZE) {
        } else if (kw == K_FORMAT) {
            st->sub = 5;
        } else if (kw == K_SELECT || kw == K_TABLE || kw == K_VALUES ||
                   (t->type == MX_TOK_PUNCT && t->ch == '(')) {
            st->sub = 1;
            st->query = st->ro = true;
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
            veto(st);
        } else if (is_name(t)) {
            st->sub = 2; /* DESC table [column] */
            st->ro = true;
        } else {
            st->sub = 1;
            veto(st);
        }
        break;
    case 5: /* FORMAT = */
        st->sub = t->type == MX_TOK_PUNCT && t->ch == '=' ? 6 : 1;
        if (st->sub == 1)
            veto(st);
        break;
    case 6: /* FORMAT = JSON */
        st->sub = t->type == MX_TOK_WORD ? 0 : 1;
        if (st->sub == 1)
            veto(st);
        break;
    case 2: /* after the table name */
        if (t->type == MX_TOK_PUNCT && t->ch == '.')
            st->sub = 3;
        else if (is_name(t) || t->type == MX_TOK_STRING)
            st->sub = 4;
        else
            veto(st);
        break;
    case 3: /* db. */
        if (is_name(t))
            st->sub = 7;
        else
            veto(st);
        break;
    case 7: /* db.table */
        if (is_name(t) || t->type == MX_TOK_STRING)
            st->sub = 4;
        else
            veto(st);
        break;
    default: /* after the column */
        veto(st);
        break;
    }
}

/* The readonly grammar of the statements whose verb alone is not enough:
 * every token must be one the allowed form has there. */
static void feed_ro(stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    switch (st->verb) {
    case V_BEGIN: /* BEGIN [WORK] */
        if (st->steps != 1 || kw != K_WORK)
            veto(st);
        break;
    case V_START: /* START TRANSACTION [READ ONLY | WITH CONSISTENT SNAPSHOT [, ...]] */
        if (st->steps == 1) {
            st->ro = kw == K_TRANSACTION;
            break;
        }
        switch (st->gpos) {
        case 0: /* a characteristic starts */
            st->gpos = kw == K_READ ? 1 : kw == K_WITH ? 2 : 9;
            break;
        case 1:
            st->gpos = kw == K_ONLY ? 4 : 9; /* READ WRITE is not for readonly users */
            break;
        case 2:
            st->gpos = kw == K_CONSISTENT ? 3 : 9;
            break;
        case 3:
            st->gpos = kw == K_SNAPSHOT ? 4 : 9;
            break;
        case 4:
            st->gpos = t->type == MX_TOK_PUNCT && t->ch == ',' ? 0 : 9;
            break;
        default:
            break;
        }
        if (st->gpos == 9)
            veto(st);
        break;
    case V_COMMIT: /* COMMIT [WORK] [AND [NO] CHAIN] [[NO] RELEASE] */
        if (kw != K_WORK && kw != K_AND && kw != K_NO && kw != K_CHAIN && kw != K_RELEASE)
            veto(st);
        break;
    case V_ROLLBACK: /* ... or ROLLBACK [WORK] TO [SAVEPOINT] name */
        if (st->gpos == 0) {
            if (kw == K_TO)
                st->gpos = 1;
            else if (kw != K_WORK && kw != K_AND && kw != K_NO && kw != K_CHAIN && kw != K_RELEASE)
                veto(st);
        } else if (st->gpos == 1 && kw == K_SAVEPOINT) {
            st->gpos = 2;
        } else if (st->gpos <= 2 && is_name(t)) {
            st->gpos = 3;
        } else {
            veto(st);
        }
        break;
    case V_SAVEPOINT: /* SAVEPOINT name */
        if (st->steps != 1 || !is_name(t))
            veto(st);
        break;
    case V_RELEASE: /* RELEASE SAVEPOINT name */
        if (!(st->steps == 1 && kw == K_SAVEPOINT) && !(st->steps == 2 && is_name(t)))
            veto(st);
        break;
    case V_UNLOCK: /* UNLOCK TABLES */
        if (st->steps != 1 || (kw != K_TABLES && kw != K_TABLE))
            veto(st);
        break;
    case V_DEALLOCATE: /* DEALLOCATE PREPARE name */
    case V_DROP:       /* DROP PREPARE name */
        if (st->steps == 1 && kw == K_PREPARE)
            st->ro = true;
        else if (st->steps != 2 || !is_name(t))
            veto(st);
        break;
    case V_GET: /* GET [CURRENT | STACKED] DIAGNOSTICS ... */
        if ((st->steps == 1 || (st->steps == 2 && (st->prev_kw == K_CURRENT || st->prev_kw == K_STACKED))) &&
            kw == K_DIAGNOSTICS)
            st->ro = true;
        break;
    case V_HANDLER: /* HANDLER [db.]t OPEN | READ | CLOSE ... */
        if (st->gpos == 0) {
            st->gpos = is_name(t) ? 1 : 9;
        } else if (st->gpos == 1 || st->gpos == 3) {
            if (kw == K_OPEN || kw == K_READ || kw == K_CLOSE) {
                st->ro = true;
                st->gpos = 4;
            } else if (st->gpos == 1 && t->type == MX_TOK_PUNCT && t->ch == '.') {
                st->gpos = 2;
            } else {
                st->gpos = 9;
            }
        } else if (st->gpos == 2) {
            st->gpos = is_name(t) ? 3 : 9;
        }
        if (st->gpos == 9)
            veto(st);
        break;
    default:
        break;
    }
}

/* The statements manx answers itself, token by token. */
static void feed_local(stmt_t *st, const tok_t *t)
{
    if (st->loc_pos == 0xff)
        return;
    uint8_t p = st->loc_pos++;
    bool ok = false;
    switch (st->loc) {
    case MX_LOCAL_USE:
        /* USE name | `name` | 'name' | "name" | a-logical-name (Mycat's
         * schema names may hold '-', which manx maps itself). */
        if (p == 0) {
            if (t->type == MX_TOK_QIDENT || t->type == MX_TOK_STRING) {
                st->loc_tok = *t;
                st->loc_has_tok = ok = true;
                st->loc_pos = 0xfe; /* nothing may follow */
                return;
            }
            ok = t->type == MX_TOK_WORD || t->type == MX_TOK_NUMBER;
            st->loc_s = t->s;
            st->loc_e = t->e;
        } else if (p < 0xfe) {
            ok = t->s == st->loc_e && (t->type == MX_TOK_WORD || t->type == MX_TOK_NUMBER ||
                                       (t->type == MX_TOK_PUNCT && t->ch == '-'));
            st->loc_e = t->e;
        }
        break;
    case MX_LOCAL_SELECT_DATABASE:
    case MX_LOCAL_SELECT_CONNECTION_ID:
        /* SELECT DATABASE() | SCHEMA() | CONNECTION_ID() [[AS] alias] */
        switch (p) {
        case 0:
            ok = t->kw == K_DATABASE || t->kw == K_SCHEMA || t->kw == K_CONNECTION_ID;
            st->loc = t->kw == K_CONNECTION_ID ? MX_LOCAL_SELECT_CONNECTION_ID : MX_LOCAL_SELECT_DATABASE;
            st->loc_s = t->s;
            break;
        case 1:
            ok = t->type == MX_TOK_PUNCT && t->ch == '(';
            break;
        case 2:
            ok = t->type == MX_TOK_PUNCT && t->ch == ')';
            st->loc_e = t->e;
            break;
        case 3:
            if (t->kw == K_AS) {
                ok = true;
                break;
            }
            /* fall through */
        case 4:
            ok = !st->loc_has_tok && (t->type == MX_TOK_QIDENT || t->type == MX_TOK_STRING ||
                                      (t->type == MX_TOK_WORD && t->kw == K_NONE));
            st->loc_tok = *t;
            st->loc_has_tok = true;
            st->loc_pos = 5;
            break;
        default:
            break;
        }
        break;
    case MX_LOCAL_SHOW_DATABASES:
        /* SHOW DATABASES | SCHEMAS [LIKE 'pattern'] */
        if (p == 0)
            ok = t->kw == K_DATABASES || t->kw == K_SCHEMAS;
        else if (p == 1)
            ok = t->kw == K_LIKE;
        else if (p == 2 && t->type == MX_TOK_STRING) {
            ok = true;
            st->loc_tok = *t;
            st->loc_has_tok = true;
        }
        break;
    default:
        break;
    }
    if (!ok)
        st->loc_pos = 0xff;
}

/* A leading '(' or WITH: which statement is it? */
static void feed_query_lead(stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->verb == V_PAREN) {
        if (st->sub == 0 && t->type != MX_TOK_PUNCT) {
            st->sub = 1;
            if (kw == K_SELECT || kw == K_TABLE || kw == K_VALUES) {
                st->read = st->query = st->ro = true;
            } else if (kw == K_WITH) {
                st->verb = V_WITH;
                st->sub = 0;
                st->query = true;
                st->wdepth = st->depth;
            }
        }
        return;
    }
    /* The CTE list holds only names and AS at WITH's depth; the first
     * statement keyword there, or a parenthesised body right after a
     * CTE's closing parenthesis, is the statement. */
    if (st->sub == 0 && st->depth == st->wdepth) {
        if (kw == K_SELECT || kw == K_TABLE || kw == K_VALUES ||
            (t->type == MX_TOK_PUNCT && t->ch == '(' && st->prev_type == MX_TOK_PUNCT && st->prev_ch == ')')) {
            st->sub = 1;
            st->read = st->ro = true;
            st->is_select = kw == K_SELECT && st->wdepth == 0 && !st->explained;
        } else if (kw == K_UPDATE || kw == K_DELETE || kw == K_INSERT || kw == K_REPLACE) {
            st->sub = 1;
            st->write = true;
            veto(st);
        }
    }
}

static void feed_show(scan_t *sc, stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->steps == 1) {
        if (kw == K_DATABASES || kw == K_SCHEMAS)
            st->flags |= MX_SQLF_SHOW_DATABASES;
        else if (kw == K_WARNINGS || kw == K_ERRORS)
            st->flags |= MX_SQLF_DIAGNOSTICS;
        else if (kw == K_COUNT)
            st->sub = 1;
        else if (kw == K_CREATE)
            st->sub = 2;
    } else if (st->steps == 5 && st->sub == 1 && (kw == K_WARNINGS || kw == K_ERRORS)) {
        st->flags |= MX_SQLF_DIAGNOSTICS; /* SHOW COUNT(*) WARNINGS */
    } else if (st->steps == 2 && st->sub == 2 && (kw == K_DATABASE || kw == K_SCHEMA)) {
        st->db_pending = true; /* SHOW CREATE DATABASE x */
        st->db_step = st->steps;
    }
    /* SHOW TABLES FROM db, SHOW INDEX FROM t IN db, ... */
    if (st->depth == 0 && st->steps > 1 && (st->prev_kw == K_FROM || st->prev_kw == K_IN) && maybe_ident(t))
        report_db(sc, MX_SQL_DB_SHOW, t->s, t->e, t);
}

static void feed_use(scan_t *sc, stmt_t *st, const tok_t *t)
{
    if (st->steps != 1)
        return;
    copy_use(sc, t, sc->out->use_db);
    if (t->type == MX_TOK_WORD || t->type == MX_TOK_NUMBER) {
        /* A logical name may run on with '-' (manx maps Mycat's
         * aiurt-platform itself): report it whole. */
        size_t e = t->e;
        while (e < sc->lx.n && (mx_lex_is_ident_byte(sc->q[e]) || sc->q[e] == '-'))
            e++;
        report_db(sc, MX_SQL_DB_USE, t->s, e, e == t->e ? t : NULL);
    } else if (maybe_ident(t) || t->type == MX_TOK_STRING) {
        report_db(sc, MX_SQL_DB_USE, t->s, t->e, t);
    }
}

/* Transactions and table locks. */
static void feed_txn(stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    switch (st->verb) {
    case V_BEGIN:
        if (st->steps == 1 && kw == K_NOT) {
            /* BEGIN NOT ATOMIC: a MariaDB compound statement. */
            st->flags &= ~MX_SQLF_BEGIN;
            st->compound = true;
            blk_push(st, true);
            st->stmt_pos = true;
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
    case V_UNLOCK:
        if (st->steps == 1 && (kw == K_TABLES || kw == K_TABLE))
            st->flags |= MX_SQLF_UNLOCK_TABLES;
        break;
    case V_FLUSH:
        if ((kw == K_LOCK && st->prev_kw == K_READ && st->prev2_kw == K_WITH) ||
            (kw == K_EXPORT && st->prev_kw == K_FOR))
            st->flags |= MX_SQLF_LOCK_TABLES;
        break;
    default:
        break;
    }
}

/* CREATE, DROP, ALTER: stored programs, and the database a DDL names. */
static void feed_ddl(stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->verb == V_CREATE) {
        /* CREATE [OR REPLACE] [DEFINER = u@h] ... TEMPORARY TABLE, a
         * database, or a stored program, whose body holds semicolons. */
        if (st->sub == 0 && st->steps < 12) {
            if (kw == K_PROCEDURE || kw == K_FUNCTION || kw == K_TRIGGER || kw == K_EVENT || kw == K_PACKAGE) {
                st->compound = true;
                st->sub = 1;
            } else if (kw == K_TABLE || kw == K_TEMPORARY) {
                st->sub = 1;
            } else if ((kw == K_DATABASE || kw == K_SCHEMA) &&
                       (st->steps == 1 || (st->steps == 3 && st->prev_kw == K_REPLACE))) {
                st->sub = 1;
                st->db_pending = true;
                st->db_step = st->steps;
            }
        }
    } else if (st->steps == 1 && kw == K_PREPARE && st->verb == V_DROP) {
        st->flags |= MX_SQLF_PREPARE;
    } else if (st->steps == 1 && (kw == K_DATABASE || kw == K_SCHEMA)) {
        st->db_pending = true;
        st->db_step = st->steps;
    }
}

/* The database name after CREATE|DROP|ALTER DATABASE [IF [NOT] EXISTS] and
 * SHOW CREATE DATABASE. */
static void feed_db_name(scan_t *sc, stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->steps <= st->db_step || st->depth > 0 || kw == K_IF || kw == K_NOT || kw == K_EXISTS)
        return;
    st->db_pending = false;
    bool option = st->verb == V_ALTER && (kw == K_DEFAULT || kw == K_CHARACTER || kw == K_CHARSET ||
                                          kw == K_COLLATE || kw == K_COMMENT || kw == K_UPGRADE);
    if (maybe_ident(t) && !option)
        report_db(sc, st->verb == V_SHOW ? MX_SQL_DB_SHOW : MX_SQL_DB_DDL, t->s, t->e, t);
}

/* KILL [HARD|SOFT] [CONNECTION|QUERY [ID]] target: manx answers it itself
 * when the target is a literal connection id. */
static void feed_kill(scan_t *sc, stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->sub == 0) {
        if (kw == K_QUERY) {
            st->flags |= MX_SQLF_KILL_QUERY;
        } else if (kw == K_ID && st->prev_kw == K_QUERY) {
            st->flags |= MX_SQLF_KILL_USER; /* a query id, not a connection */
        } else if (kw == K_HARD || kw == K_SOFT || kw == K_CONNECTION) {
        } else {
            st->sub = 1;
            uint64_t id = t->type == MX_TOK_NUMBER ? parse_id(sc->q + t->s, t->e - t->s) : 0;
            if (id == 0 || kw == K_USER) {
                st->flags |= MX_SQLF_KILL_USER;
            } else if (!(st->flags & MX_SQLF_KILL_USER) && sc->out->kill_id == 0) {
                sc->out->kill_id = id;
                st->sub = 2;
            }
        }
    } else if (st->sub <= 2) {
        /* KILL 5 + 1: an expression, not the literal it starts with. */
        if (st->sub == 2)
            sc->out->kill_id = 0;
        st->sub = 3;
        st->flags |= MX_SQLF_KILL_USER;
    }
}

/* Leading keywords after the verb. */
static void feed_lead(scan_t *sc, stmt_t *st, const tok_t *t)
{
    switch (st->verb) {
    case V_PAREN:
    case V_WITH:
        feed_query_lead(st, t);
        break;
    case V_EXPLAIN:
        feed_explain(st, t);
        break;
    case V_SHOW:
        feed_show(sc, st, t);
        break;
    case V_USE:
        feed_use(sc, st, t);
        break;
    case V_SET:
        feed_set(sc, st, t);
        break;
    case V_BEGIN:
    case V_START:
    case V_ROLLBACK:
    case V_COMMIT:
    case V_UNLOCK:
    case V_FLUSH:
        feed_txn(st, t);
        break;
    case V_CREATE:
    case V_DROP:
    case V_ALTER:
        feed_ddl(st, t);
        break;
    case V_KILL:
        feed_kill(sc, st, t);
        break;
    default:
        break;
    }
    if (st->db_pending)
        feed_db_name(sc, st, t);
}

/* ---- rules that apply anywhere in any statement --------------------------- */

static void func_call(stmt_t *st)
{
    switch (st->prev_kw) {
    case K_LAST_INSERT_ID:
        st->flags |= MX_SQLF_LAST_INSERT_ID;
        st->lid_open = true; /* LAST_INSERT_ID(expr) sets it: told at the next token */
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
    case K_SETVAL:
        veto(st); /* they write the sequence */
        /* fall through */
    case K_LASTVAL:
        st->flags |= MX_SQLF_SEQUENCE;
        break;
    case K_DATABASE:
    case K_SCHEMA:
        st->flags |= MX_SQLF_SELECT_DATABASE;
        st->dbf_open = true; /* reported at its ')': DATABASE() takes no argument */
        st->dbf_s = st->prev_s;
        break;
    case K_CONNECTION_ID:
        st->flags |= MX_SQLF_CONNECTION_ID;
        break;
    default:
        break;
    }
}

static void feed_any(scan_t *sc, stmt_t *st, const tok_t *t)
{
    uint8_t kw = t->kw;
    if (st->lid_open) {
        st->lid_open = false;
        if (!(t->type == MX_TOK_PUNCT && t->ch == ')'))
            st->flags |= MX_SQLF_LAST_INSERT_ID_SET;
    }
    if (st->dbf_open) {
        st->dbf_open = false;
        if (t->type == MX_TOK_PUNCT && t->ch == ')')
            report_db(sc, MX_SQL_DB_FUNC, st->dbf_s, t->e, NULL);
    }
    if (st->uv_pending) {
        /* The user variable before this token: assigned by := , else read
         * (the left side of a SET assignment never gets here). */
        st->uv_pending = false;
        if (t->type != MX_TOK_ASSIGN)
            st->flags |= MX_SQLF_USERVAR_READ;
    }
    if (t->type == MX_TOK_PUNCT) {
        if (t->ch == '(') {
            /* `TABLE found_rows (` and `INTO found_rows (` name tables. */
            if (st->prev_type == MX_TOK_WORD && st->prev2_kw != K_TABLE && st->prev2_kw != K_INTO)
                func_call(st);
            st->depth++;
        } else if (t->ch == ')') {
            if (st->depth > 0)
                st->depth--;
        }
        return;
    }
    if (t->type == MX_TOK_USERVAR) {
        /* 'user'@'host' and user@host: the host part of an account name. */
        if ((st->prev_type == MX_TOK_WORD || st->prev_type == MX_TOK_QIDENT ||
             st->prev_type == MX_TOK_STRING) &&
            st->prev_e == t->s && st->steps > 0)
            return;
        bool set_target = st->verb == V_SET && st->target == TG_USERVAR && st->uv_name.s == t->s;
        if (st->into || st->verb == V_GET)
            st->flags |= MX_SQLF_USERVAR_ASSIGN;
        else if (st->verb == V_LOAD)
            st->flags |= MX_SQLF_USERVAR_ASSIGN | MX_SQLF_USERVAR_READ;
        else if (!set_target)
            st->uv_pending = true;
        return;
    }
    if (t->type == MX_TOK_ASSIGN) {
        /* In SET, `@x := 1` is a session assignment like `@x = 1`. */
        if (st->prev_type == MX_TOK_USERVAR && !(st->verb == V_SET && st->depth == 0))
            st->flags |= MX_SQLF_USERVAR_ASSIGN;
        return;
    }
    if (t->type == MX_TOK_SYSVAR) {
        const uint8_t *name;
        size_t len;
        uint8_t scope;
        sysvar_name(sc, t, &name, &len, &scope);
        if (word_is(name, len, "identity") || word_is(name, len, "last_insert_id"))
            st->flags |= MX_SQLF_LAST_INSERT_ID;
        else if (word_is(name, len, "warning_count") || word_is(name, len, "error_count"))
            st->flags |= MX_SQLF_DIAGNOSTICS;
        return;
    }
    if (t->type != MX_TOK_WORD)
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
        if (st->prev_kw == K_VALUE && (st->prev2_kw == K_NEXT || st->prev2_kw == K_PREVIOUS)) {
            st->flags |= MX_SQLF_SEQUENCE;
            if (st->prev2_kw == K_NEXT)
                veto(st);
        }
        break;
    case K_INTO:
        if (st->query) {
            st->flags |= MX_SQLF_SELECT_INTO;
            st->into = true;
        }
        break;
    case K_OUTFILE:
    case K_DUMPFILE:
        if (st->prev_kw == K_INTO)
            veto(st); /* writes a file on the server */
        break;
    case K_SQL_CALC_FOUND_ROWS:
        st->flags |= MX_SQLF_SQL_CALC_FOUND_ROWS;
        break;
    case K_TEMPORARY:
        st->flags |= MX_SQLF_TEMP_TABLE;
        break;
    case K_TABLE:
    case K_TABLES:
        if (st->prev_kw == K_LOCK)
            st->flags |= MX_SQLF_LOCK_TABLES;
        break;
    case K_KILL:
        /* Reserved: a KILL anywhere but at the start of the statement is
         * one inside a compound statement, beyond manx's own KILL. */
        if (st->steps > 0)
            st->flags |= MX_SQLF_KILL | MX_SQLF_KILL_USER;
        break;
    case K_CALL:
        st->flags |= MX_SQLF_CALL; /* reserved: a CALL statement wherever it is */
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

static void feed(scan_t *sc, stmt_t *st, const tok_t *t)
{
    if (st->verb == V_NONE) {
        start_verb(sc, st, t);
    } else {
        if (st->steps < UINT32_MAX)
            st->steps++;
        if (st->compound)
            feed_compound(sc, st, t);
        feed_lead(sc, st, t);
        feed_ro(st, t);
        if (st->loc != MX_LOCAL_NONE)
            feed_local(st, t);
    }
    feed_any(sc, st, t);
    st->prev2_kw = st->prev_kw;
    st->prev_kw = t->kw;
    st->prev_type = t->type;
    st->prev_ch = t->ch;
    st->prev_s = t->s;
    st->prev_e = t->e;
    if (st->set_stmt && t->kw == K_FOR && st->depth == 0) {
        /* SET STATEMENT var=value FOR stmt: the options last one statement,
         * which alone decides the class. */
        end_assignment(sc, st);
        uint64_t flags = st->flags;
        bool vetoed = st->veto;
        stmt_init(st);
        st->flags = flags;
        st->veto = vetoed;
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

/* The column name or database of the one statement manx answers itself. */
static void set_local(scan_t *sc, const stmt_t *st)
{
    mx_sql_info_t *out = sc->out;
    int len = -1;
    bool done = st->loc_pos != 0xff;
    switch (st->loc) {
    case MX_LOCAL_USE:
        done = done && st->loc_pos > 0;
        break;
    case MX_LOCAL_SELECT_DATABASE:
    case MX_LOCAL_SELECT_CONNECTION_ID:
        done = done && st->loc_pos >= 3 && st->loc_pos != 4;
        break;
    case MX_LOCAL_SHOW_DATABASES:
        done = done && (st->loc_pos == 1 || st->loc_pos == 3);
        break;
    default:
        done = false;
        break;
    }
    if (!done)
        return;
    if (st->loc_has_tok) {
        mx_tok_t m = {.type = st->loc_tok.type, .flags = st->loc_tok.flags, .s = st->loc_tok.s,
                      .e = st->loc_tok.e};
        len = mx_lex_unquote(sc->q, &m, out->local_name, sizeof(out->local_name));
    } else if (st->loc != MX_LOCAL_SHOW_DATABASES && st->loc_e - st->loc_s < sizeof(out->local_name)) {
        len = (int)(st->loc_e - st->loc_s);
        memcpy(out->local_name, sc->q + st->loc_s, (size_t)len);
        out->local_name[len] = 0;
    } else if (st->loc == MX_LOCAL_SHOW_DATABASES) {
        len = 0;
        out->local_name[0] = 0;
    }
    if (len < 0 || (len == 0 && st->loc != MX_LOCAL_SHOW_DATABASES)) {
        out->local_name[0] = 0;
        return;
    }
    out->local = st->loc;
    out->local_like = st->loc == MX_LOCAL_SHOW_DATABASES && st->loc_has_tok;
}

static bool stmt_ro(const stmt_t *st)
{
    if (st->veto || !st->ro || st->compound)
        return false;
    switch (st->verb) {
    case V_PAREN:
        return st->read;
    case V_WITH:
        return st->read && !st->write;
    case V_START:
        return st->gpos == 0 || st->gpos == 4;
    case V_SAVEPOINT:
    case V_UNLOCK:
        return st->steps == 1;
    case V_RELEASE:
    case V_DEALLOCATE:
    case V_DROP:
        return st->steps == 2;
    case V_ROLLBACK:
        return st->gpos == 0 || st->gpos == 3;
    case V_HANDLER:
        return st->gpos == 4;
    default:
        return true;
    }
}

static void finish(scan_t *sc, stmt_t *st)
{
    mx_sql_info_t *out = sc->out;
    if (st->verb == V_NONE)
        return;
    if (st->uv_pending)
        st->flags |= MX_SQLF_USERVAR_READ;
    if (st->verb == V_SET)
        end_assignment(sc, st);
    uint8_t cls = stmt_class(st);
    if (out->n_stmts == 0 || cls > out->cls)
        out->cls = cls;
    if (!stmt_ro(st))
        sc->ro_all = false;
    if (st->verb == V_KILL)
        sc->kill = true;
    if (out->n_stmts == 0) {
        sc->first_set = st->verb == V_SET;
        if (st->loc != MX_LOCAL_NONE)
            set_local(sc, st);
    }
    out->n_stmts++;
    if (out->n_stmts == 1 && st->is_select && st->from && !st->limit && !st->set_union &&
        !(st->flags & (MX_SQLF_FOR_UPDATE | MX_SQLF_SELECT_INTO))) {
        st->flags |= MX_SQLF_SELECT_NO_LIMIT;
        out->limit_pos = sc->lx.last_end;
    }
    out->flags |= st->flags;
}

/* Qualifiers: a name followed by the '.' token and not itself after one. */
static void note_qualifier(scan_t *sc, const tok_t *t)
{
    bool dot = t->type == MX_TOK_PUNCT && t->ch == '.';
    if (dot && maybe_ident(&sc->prev) && !sc->prev_after_dot)
        report_db(sc, MX_SQL_DB_QUALIFIER, sc->prev.s, sc->prev.e, &sc->prev);
    sc->prev_after_dot = sc->prev_is_dot;
    sc->prev_is_dot = dot;
    sc->prev = *t;
    if (t->type == MX_TOK_STRING && !(t->flags & MX_TOKF_DQUOTE) && sc->cb && sc->cb->literal) {
        char val[MX_SQL_USE_DB_MAX + 1];
        int len = sc->q[t->s] != '\'' && sc->q[t->s] != '"' ? -1 : mx_lex_unquote(sc->q, &(mx_tok_t){.type = t->type, .flags = t->flags, .s = t->s, .e = t->e},
                                 val, sizeof(val));
        if (len < 0) {
            val[0] = 0;
            len = 0;
        }
        sc->cb->literal(sc->cb->arg, t->s, t->e - t->s, val, (size_t)len);
    }
}

/* Fires the uservar callbacks of a single SET once it is known to qualify. */
static void report_uservars(scan_t *sc)
{
    if (!sc->cb || !sc->cb->uservar)
        return;
    for (uint32_t i = 0; i < sc->n_uv; i++) {
        const uv_rec_t *r = &sc->uv[i];
        char name[MX_SQL_USE_DB_MAX + 1];
        mx_tok_t m = {.type = r->name.type, .flags = r->name.flags, .s = r->name.s, .e = r->name.e};
        int len = mx_lex_unquote(sc->q, &m, name, sizeof(name));
        if (len > 0)
            sc->cb->uservar(sc->cb->arg, (const uint8_t *)name, (size_t)len, sc->q + r->s, r->e - r->s);
    }
}

static void to_tok(const scan_t *sc, const mx_tok_t *m, tok_t *t)
{
    uint8_t kw = K_NONE;
    /* A word directly followed by '.' and a name is a qualifier, never a
     * keyword (scan_ident_middle()). */
    if (m->type == MX_TOK_WORD && !(m->flags & MX_TOKF_QUALIFIED) &&
        !(m->e + 1 < sc->lx.n && sc->q[m->e] == '.' && mx_lex_is_ident_byte(sc->q[m->e + 1])))
        kw = keyword(sc->q + m->s, m->e - m->s);
    /* One store of the whole token: later reads of several small fields at
     * once would stall on byte-wise stores. */
    *t = (tok_t){.type = m->type, .kw = kw, .ch = m->ch, .flags = m->flags, .s = m->s, .e = m->e};
}

void mx_sql_scan(const uint8_t *q, size_t n, const mx_lexmode_t *mode, const mx_sql_cb_t *cb,
                 mx_sql_info_t *out)
{
    memset(out, 0, sizeof(*out));
    /* Field by field: the uservar records stay unwritten until used. */
    scan_t sc;
    mx_lex_init(&sc.lx, q, n, mode);
    sc.q = q;
    sc.cb = cb;
    sc.out = out;
    sc.ro_all = sc.uv_ok = true;
    sc.first_set = sc.kill = sc.prev_is_dot = sc.prev_after_dot = false;
    sc.n_uv = 0;
    memset(&sc.prev, 0, sizeof(sc.prev));
    sc.prev.type = MX_TOK_END;
    stmt_t st;
    stmt_init(&st);
    for (;;) {
        mx_tok_t m;
        tok_t t;
        mx_lex_next(&sc.lx, &m);
        to_tok(&sc, &m, &t);
        if (t.type != MX_TOK_END)
            note_qualifier(&sc, &t);
        /* A ';' inside a compound statement's blocks is part of it. */
        if (t.type == MX_TOK_SEMI && st.compound && (st.nblk > 0 || st.blk_overflow)) {
            feed(&sc, &st, &t);
            continue;
        }
        if (t.type == MX_TOK_END || t.type == MX_TOK_SEMI) {
            finish(&sc, &st);
            if (t.type == MX_TOK_END)
                break;
            mx_lex_stmt_end(&sc.lx);
            stmt_init(&st);
            continue;
        }
        feed(&sc, &st, &t);
    }
    out->hint = sc.lx.hint;
    out->hint_end = sc.lx.hint_end;
    out->ambiguous = sc.lx.ambiguous;
    bool bad = sc.lx.malformed || sc.lx.ambiguous;
    /* Text a server cannot parse, or that manx cannot read for sure, goes
     * where its error is reported for sure, and is never rewritten. */
    if (out->n_stmts == 0 || bad) {
        out->cls = MX_SQL_WRITE;
        out->flags &= ~MX_SQLF_SELECT_NO_LIMIT;
        out->limit_pos = 0;
    }
    if (out->n_stmts > 1) {
        out->flags |= MX_SQLF_MULTI;
        out->flags &= ~MX_SQLF_SELECT_NO_LIMIT;
        out->limit_pos = 0;
    }
    /* manx answers a KILL itself only when it is the whole text; one among
     * other statements would reach a backend and kill its threads. */
    out->ro_ok = out->n_stmts > 0 && sc.ro_all && !bad && !(sc.kill && out->n_stmts > 1);
    if (out->n_stmts != 1 || bad) {
        out->local = MX_LOCAL_NONE;
        out->local_like = false;
        out->local_name[0] = 0;
    }
    if (out->n_stmts == 1 && sc.first_set && sc.uv_ok && !bad && (out->flags & MX_SQLF_USERVAR_SET) &&
        !(out->flags & MX_SQLF_USERVAR_ASSIGN)) {
        out->flags |= MX_SQLF_USERVAR_LITERAL;
        report_uservars(&sc);
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

static const char *const flag_names[MX_SQLF_NBITS] = {
    "FOR_UPDATE", "LAST_INSERT_ID", "LOCK_FUNC", "FOUND_ROWS", "SEQUENCE",
    "USERVAR_ASSIGN", "SELECT_INTO", "TEMP_TABLE", "LOCK_TABLES", "UNLOCK_TABLES",
    "BEGIN", "START_READ_ONLY", "COMMIT", "ROLLBACK", "XA",
    "SET_AUTOCOMMIT", "AUTOCOMMIT_0", "AUTOCOMMIT_1", "SET_NAMES", "SET_TRANSACTION",
    "USE", "KILL", "KILL_QUERY", "SQL_CALC_FOUND_ROWS", "SELECT_NO_LIMIT",
    "SHOW_DATABASES", "SELECT_DATABASE", "CONNECTION_ID", "MULTI", "PREPARE",
    "DIAGNOSTICS", "USERVAR_SET", "USERVAR_LITERAL", "USERVAR_READ", "HANDLER",
    "CALL", "GLOBAL", "SET_SQL_MODE", "SHUTDOWN", "KILL_USER", "SYSVAR_BARE", "LAST_INSERT_ID_SET",
};

const char *mx_sql_flag_name(uint64_t bit)
{
    for (unsigned i = 0; i < MX_SQLF_NBITS; i++)
        if (bit == UINT64_C(1) << i)
            return flag_names[i];
    return NULL;
}
