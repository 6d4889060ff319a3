/* The one SQL tokenizer: reads text the way MariaDB 10.11's lexer
 * (sql/sql_lex.cc, lex_one_token() and its helpers) does for a given
 * sql_mode and client charset, and reports the text as ambiguous wherever
 * that reading depends on something the mode leaves unknown.  Every rule
 * below was checked against a MariaDB 10.11.19 server; the comments name
 * the server function each one follows. */
#include "lex.h"

#include <string.h>
#include <strings.h>

enum {
    CC_SPACE = 0x01, /* my_isspace() in every client charset: \t \n \v \f \r and space */
    CC_IDENT = 0x02, /* ident_map[]: [A-Za-z0-9_$] and, conservatively, bytes >= 0x80 */
    CC_DIGIT = 0x04,
    CC_HEX = 0x08,
    CC_VAR = 0x10 /* ASCII bytes of a user variable name (MY_LEX_HOSTNAME): alnum . _ $ */
};

#define S CC_SPACE
#define I CC_IDENT
#define D (CC_IDENT | CC_DIGIT | CC_HEX | CC_VAR)
#define H (CC_IDENT | CC_HEX | CC_VAR)
#define L (CC_IDENT | CC_VAR)
#define V CC_VAR
static const uint8_t cclass[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, S, S, S, S, S, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    S, 0, 0, 0, L, 0, 0, 0, 0, 0, 0, 0, 0, 0, V, 0, /* space ! " # $ % & ' ( ) * + , - . / */
    D, D, D, D, D, D, D, D, D, D, 0, 0, 0, 0, 0, 0, /* 0-9 : ; < = > ? */
    0, H, H, H, H, H, H, L, L, L, L, L, L, L, L, L, /* @ A-O */
    L, L, L, L, L, L, L, L, L, L, L, 0, 0, 0, 0, L, /* P-Z [ \ ] ^ _ */
    0, H, H, H, H, H, H, L, L, L, L, L, L, L, L, L, /* ` a-o */
    L, L, L, L, L, L, L, L, L, L, L, 0, 0, 0, 0, 0, /* p-z { | } ~ DEL */
    I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I,
    I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I,
    I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I,
    I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I,
};
#undef S
#undef I
#undef D
#undef H
#undef L
#undef V

static inline bool is_space(uint8_t c)
{
    return cclass[c] & CC_SPACE;
}

static inline bool is_ident(uint8_t c)
{
    return cclass[c] & CC_IDENT;
}

static inline bool is_digit(uint8_t c)
{
    return cclass[c] & CC_DIGIT;
}

static inline bool is_hex(uint8_t c)
{
    return cclass[c] & CC_HEX;
}

bool mx_lex_is_ident_byte(uint8_t c)
{
    return is_ident(c);
}

static inline uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* ---- character sets ---------------------------------------------------- */

/* A multi-byte character at q[i] inside a '...' or "..." string: MariaDB's
 * get_text() asks my_ismbchar(), which for these charsets looks only at
 * the lead and trail ranges.  Returns its length, 0 for a single byte. */
static size_t mb_string(const mx_lex_t *lx, size_t i)
{
    if (i + 1 >= lx->n)
        return 0;
    uint8_t a = lx->q[i], b = lx->q[i + 1];
    switch (lx->mode.charset) {
    case MX_CS_GBK:
        return a >= 0x81 && a <= 0xFE && ((b >= 0x40 && b <= 0x7E) || (b >= 0x80 && b <= 0xFE)) ? 2 : 0;
    case MX_CS_BIG5:
        return a >= 0xA1 && a <= 0xF9 && ((b >= 0x40 && b <= 0x7E) || (b >= 0xA1 && b <= 0xFE)) ? 2 : 0;
    case MX_CS_SJIS:
        return ((a >= 0x81 && a <= 0x9F) || (a >= 0xE0 && a <= 0xFC)) &&
                       ((b >= 0x40 && b <= 0x7E) || (b >= 0x80 && b <= 0xFC))
                   ? 2
                   : 0;
    default:
        /* UTF-8 and the EUC family hold no ASCII byte inside a character,
         * so reading them byte by byte cuts nowhere else; single-byte sets
         * have no multi-byte characters; unknown ones are checked by
         * note_mb_hazards(). */
        return 0;
    }
}

/* Identifiers (scan_ident_middle(), scan_ident_start()) ask my_charlen(),
 * which also wants the pair to be an assigned character.  Swallowing every
 * pair of the ranges is safe there: where the server does not, the lead
 * byte becomes a one-byte token no grammar rule accepts. */
static size_t mb_ident(const mx_lex_t *lx, size_t i)
{
    return mb_string(lx, i);
}

/* Inside a `quoted identifier` (scan_ident_delimited()) the difference
 * matters when the trail byte is the backtick: the server closes the
 * identifier there unless (lead, 0x60) is an assigned character.  These are
 * the lead bytes for which it is, read off MariaDB 10.11.19. */
static bool backtick_trail_ok(const mx_lex_t *lx, uint8_t a, bool *unsure)
{
    switch (lx->mode.charset) {
    case MX_CS_GBK:
        return (a >= 0x81 && a <= 0xA0) || (a >= 0xA8 && a <= 0xFD);
    case MX_CS_BIG5:
        return (a >= 0xA1 && a <= 0xC7) || (a >= 0xC9 && a <= 0xF9);
    case MX_CS_SJIS:
        /* sjis and cp932 share a kind but not their assigned characters. */
        if (a == 0x87 || a == 0xED || a == 0xEE || (a >= 0xF0 && a <= 0xFB)) {
            *unsure = true;
            return false;
        }
        return (a >= 0x81 && a <= 0x84) || (a >= 0x89 && a <= 0x9F) || (a >= 0xE0 && a <= 0xEA);
    default:
        return false;
    }
}

/* A byte >= 0x80 inside a user variable name (MY_LEX_HOSTNAME reads
 * my_isalnum() bytes one at a time, multi-byte or not). */
static bool var_high_byte(const mx_lex_t *lx, uint8_t c)
{
    switch (lx->mode.charset) {
    case MX_CS_GBK:
        return c >= 0xA1 && c <= 0xFE;
    case MX_CS_BIG5:
        return c >= 0xA1 && c <= 0xF9;
    case MX_CS_SJIS:
        return false;
    default:
        return true;
    }
}

/* Charsets whose multi-byte characters may hold ASCII bytes manx cannot
 * place. */
static bool cs_unsure_mb(const mx_lex_t *lx)
{
    return lx->mode.charset == MX_CS_UNKNOWN || lx->mode.charset == MX_CS_OTHER_MB ||
           lx->mode.charset > MX_CS_UNKNOWN;
}

/* Charsets that may be single-byte ones, where 0xA0 (latin1, cp1250,
 * greek, ...) or 0xFF (cp852, cp866, keybcs2) is a space. */
static bool cs_unsure_space(const mx_lex_t *lx)
{
    return lx->mode.charset == MX_CS_SINGLE || cs_unsure_mb(lx);
}

/* With a charset of unknown multi-byte rules, a byte >= 0x80 followed by a
 * backslash, backtick or '@' may be one character (gbk 0xBF 0x5C) or two:
 * the text is ambiguous.  Only such charsets pay for this extra pass. */
static void note_mb_hazards(mx_lex_t *lx, size_t from)
{
    for (size_t i = from; i + 1 < lx->n; i++) {
        if (lx->q[i] >= 0x80) {
            uint8_t b = lx->q[i + 1];
            if (b == '\\' || b == '`' || b == '@') {
                lx->ambiguous = true;
                return;
            }
        }
    }
}

/* A byte >= 0x80 outside quotes and comments. */
static inline void note_high(mx_lex_t *lx, uint8_t c)
{
    if ((c == 0xA0 || c == 0xFF) && cs_unsure_space(lx))
        lx->ambiguous = true;
}

/* swe7 is missing on purpose: its ctype makes @ [ \ ] ^ ` { | } ~ letters,
 * so a user variable name runs on over a backtick or a backslash.  As an
 * unknown charset it gets the checks of scan_at(). */
typedef struct cs_name_s {
    char name[10];
    uint8_t kind;
} cs_name_t;

static const cs_name_t cs_names[] = {
    {"armscii8", MX_CS_SINGLE}, {"ascii", MX_CS_SINGLE},   {"big5", MX_CS_BIG5},
    {"binary", MX_CS_SINGLE},   {"cp1250", MX_CS_SINGLE},  {"cp1251", MX_CS_SINGLE},
    {"cp1256", MX_CS_SINGLE},   {"cp1257", MX_CS_SINGLE},  {"cp850", MX_CS_SINGLE},
    {"cp852", MX_CS_SINGLE},    {"cp866", MX_CS_SINGLE},   {"cp932", MX_CS_SJIS},
    {"dec8", MX_CS_SINGLE},     {"eucjpms", MX_CS_UTF8},   {"euckr", MX_CS_UTF8},
    {"gb18030", MX_CS_OTHER_MB}, {"gb2312", MX_CS_UTF8},   {"gbk", MX_CS_GBK},
    {"geostd8", MX_CS_SINGLE},  {"greek", MX_CS_SINGLE},   {"hebrew", MX_CS_SINGLE},
    {"hp8", MX_CS_SINGLE},      {"keybcs2", MX_CS_SINGLE}, {"koi8r", MX_CS_SINGLE},
    {"koi8u", MX_CS_SINGLE},    {"latin1", MX_CS_SINGLE},  {"latin2", MX_CS_SINGLE},
    {"latin5", MX_CS_SINGLE},   {"latin7", MX_CS_SINGLE},  {"macce", MX_CS_SINGLE},
    {"macroman", MX_CS_SINGLE}, {"sjis", MX_CS_SJIS},
    {"tis620", MX_CS_SINGLE},   {"ujis", MX_CS_UTF8},      {"utf8", MX_CS_UTF8},
    {"utf8mb3", MX_CS_UTF8},    {"utf8mb4", MX_CS_UTF8},
};

mx_charset_kind_t mx_charset_kind(const char *name, size_t len)
{
    for (size_t k = 0; k < sizeof(cs_names) / sizeof(cs_names[0]); k++) {
        const char *c = cs_names[k].name;
        if (strlen(c) != len)
            continue;
        size_t j = 0;
        while (j < len && lower((uint8_t)name[j]) == (uint8_t)c[j])
            j++;
        if (j == len)
            return (mx_charset_kind_t)cs_names[k].kind;
    }
    return MX_CS_UNKNOWN;
}

/* Collation ids of MariaDB 10.11.19 (information_schema.COLLATIONS), as
 * runs of consecutive ids of one kind, generated from that table.  ucs2,
 * utf16 and utf32 are absent (no client can use them: the server picks
 * another charset), and so is swe7 (see cs_names[]). */
static const struct {
    uint16_t lo, hi;
    uint8_t kind;
} coll_runs[] = {
    {1, 1, MX_CS_BIG5}, {2, 9, MX_CS_SINGLE}, {11, 11, MX_CS_SINGLE}, {12, 12, MX_CS_UTF8},
    {13, 13, MX_CS_SJIS}, {14, 16, MX_CS_SINGLE}, {18, 18, MX_CS_SINGLE}, {19, 19, MX_CS_UTF8},
    {20, 23, MX_CS_SINGLE}, {24, 24, MX_CS_UTF8}, {25, 27, MX_CS_SINGLE}, {28, 28, MX_CS_GBK},
    {29, 32, MX_CS_SINGLE}, {33, 33, MX_CS_UTF8}, {34, 34, MX_CS_SINGLE}, {36, 44, MX_CS_SINGLE},
    {45, 46, MX_CS_UTF8}, {47, 53, MX_CS_SINGLE}, {57, 59, MX_CS_SINGLE}, {63, 75, MX_CS_SINGLE},
    {77, 81, MX_CS_SINGLE}, {83, 83, MX_CS_UTF8}, {84, 84, MX_CS_BIG5}, {85, 86, MX_CS_UTF8},
    {87, 87, MX_CS_GBK}, {88, 88, MX_CS_SJIS}, {89, 89, MX_CS_SINGLE}, {91, 91, MX_CS_UTF8},
    {92, 94, MX_CS_SINGLE}, {95, 96, MX_CS_SJIS}, {97, 98, MX_CS_UTF8}, {99, 99, MX_CS_SINGLE},
    {192, 215, MX_CS_UTF8}, {223, 247, MX_CS_UTF8}, {576, 578, MX_CS_UTF8}, {608, 610, MX_CS_UTF8},
    {1025, 1025, MX_CS_BIG5}, {1027, 1028, MX_CS_SINGLE}, {1030, 1033, MX_CS_SINGLE},
    {1035, 1035, MX_CS_SINGLE}, {1036, 1036, MX_CS_UTF8}, {1037, 1037, MX_CS_SJIS},
    {1040, 1040, MX_CS_SINGLE}, {1042, 1042, MX_CS_SINGLE}, {1043, 1043, MX_CS_UTF8},
    {1046, 1046, MX_CS_SINGLE}, {1048, 1048, MX_CS_UTF8}, {1049, 1050, MX_CS_SINGLE},
    {1052, 1052, MX_CS_GBK}, {1054, 1054, MX_CS_SINGLE}, {1056, 1056, MX_CS_SINGLE},
    {1057, 1057, MX_CS_UTF8}, {1060, 1065, MX_CS_SINGLE}, {1067, 1067, MX_CS_SINGLE},
    {1069, 1070, MX_CS_UTF8}, {1071, 1071, MX_CS_SINGLE}, {1074, 1075, MX_CS_SINGLE},
    {1077, 1077, MX_CS_SINGLE}, {1081, 1083, MX_CS_SINGLE}, {1088, 1099, MX_CS_SINGLE},
    {1101, 1105, MX_CS_SINGLE}, {1107, 1107, MX_CS_UTF8}, {1108, 1108, MX_CS_BIG5},
    {1109, 1110, MX_CS_UTF8}, {1111, 1111, MX_CS_GBK}, {1112, 1112, MX_CS_SJIS},
    {1113, 1113, MX_CS_SINGLE}, {1115, 1115, MX_CS_UTF8}, {1116, 1117, MX_CS_SINGLE},
    {1119, 1120, MX_CS_SJIS}, {1121, 1122, MX_CS_UTF8}, {1216, 1216, MX_CS_UTF8},
    {1238, 1238, MX_CS_UTF8}, {1248, 1248, MX_CS_UTF8}, {1270, 1270, MX_CS_UTF8},
};

mx_charset_kind_t mx_charset_kind_of_collation(unsigned id)
{
    for (size_t k = 0; k < sizeof(coll_runs) / sizeof(coll_runs[0]); k++)
        if (id >= coll_runs[k].lo && id <= coll_runs[k].hi)
            return (mx_charset_kind_t)coll_runs[k].kind;
    return MX_CS_UNKNOWN;
}

/* "a.b.c" at s; returns the number of bytes read, 0 if none. */
static size_t parse_triple(const char *s, size_t n, uint32_t v[3])
{
    size_t i = 0;
    for (int k = 0; k < 3; k++) {
        if (k > 0) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
        size_t start = i;
        uint32_t x = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            x = x * 10 + (uint32_t)(s[i++] - '0');
        if (i == start || x > 99 || (i < n && s[i] >= '0' && s[i] <= '9'))
            return 0;
        v[k] = x;
    }
    return i;
}

uint8_t mx_lex_sql_mode_bits(const char *v, size_t n)
{
    static const struct {
        const char *name;
        uint8_t bits;
    } modes[] = {
        {"NO_BACKSLASH_ESCAPES", MX_LEX_NO_BACKSLASH_ESCAPES}, {"ANSI_QUOTES", MX_LEX_ANSI_QUOTES},
        {"ANSI", MX_LEX_ANSI_QUOTES}, {"DB2", MX_LEX_ANSI_QUOTES}, {"MAXDB", MX_LEX_ANSI_QUOTES},
        {"MSSQL", MX_LEX_ANSI_QUOTES}, {"POSTGRESQL", MX_LEX_ANSI_QUOTES},
        {"ORACLE", MX_LEX_SQL_MODE_UNKNOWN},
    };
    uint8_t bits = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
            if (strlen(modes[k].name) == j - i && strncasecmp(v + i, modes[k].name, j - i) == 0)
                bits |= modes[k].bits;
        i = j + 1;
    }
    return bits;
}

bool mx_lex_parse_server_version(const char *s, size_t n, uint32_t *id, bool *mariadb)
{
    uint32_t v[3];
    size_t used = parse_triple(s, n, v);
    if (used == 0)
        return false;
    bool maria = false;
    for (size_t i = 0; i + 7 <= n; i++) {
        static const char m[] = "mariadb";
        size_t k = 0;
        while (k < 7 && lower((uint8_t)s[i + k]) == (uint8_t)m[k])
            k++;
        if (k == 7) {
            maria = true;
            break;
        }
    }
    /* MariaDB announces "5.5.5-10.11.6-MariaDB" to old replication clients. */
    if (maria && v[0] == 5 && v[1] == 5 && v[2] == 5 && used < n && s[used] == '-') {
        uint32_t w[3];
        if (parse_triple(s + used + 1, n - used - 1, w) != 0)
            memcpy(v, w, sizeof(v));
    }
    *id = v[0] * 10000 + v[1] * 100 + v[2];
    *mariadb = maria;
    return true;
}

/* ---- comments ---------------------------------------------------------- */

/* Index past lit when q[j..] starts with it (any case), else 0. */
static size_t match_ci(const uint8_t *q, size_t n, size_t j, const char *lit)
{
    size_t len = strlen(lit);
    if (n - j < len || j > n)
        return 0;
    for (size_t k = 0; k < len; k++)
        if (lower(q[j + k]) != (uint8_t)lit[k])
            return 0;
    return j + len;
}

/* Index of the star of the first star-slash at or after j, or n. */
static size_t comment_close(const uint8_t *q, size_t n, size_t j)
{
    for (; j + 1 < n; j++)
        if (q[j] == '*' && q[j + 1] == '/')
            return j;
    return n;
}

/* q[i] starts a slash-star comment.  When it is a Mycat or manx hint
 * (slash-star then `!`, `#` or nothing, then mycat: or manx:) with a
 * db_type, returns the index past it and its MX_LEX_HINT_*; otherwise 0. */
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
    while (k < close && is_space(q[k]))
        k++;
    if ((k = match_ci(q, close, k, "db_type")) == 0)
        return 0;
    while (k < close && is_space(q[k]))
        k++;
    if (k >= close || q[k] != '=')
        return 0;
    k++;
    while (k < close && is_space(q[k]))
        k++;
    size_t v;
    uint8_t h;
    if ((v = match_ci(q, close, k, "master")) != 0)
        h = MX_LEX_HINT_MASTER;
    else if ((v = match_ci(q, close, k, "slave")) != 0)
        h = MX_LEX_HINT_SLAVE;
    else
        return 0;
    if (v < close && is_ident(q[v]))
        return 0;
    *hint = h;
    return close < n ? close + 2 : n;
}

/* consume_comment(): from j (just past the opening slash-star, or inside a
 * skipped versioned comment when nest is 1, where one level of plain
 * comment may open and close) to just past the closing star-slash; n and
 * *open when the text ends first. */
static size_t consume_comment(mx_lex_t *lx, size_t j, int nest)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n;
    while (j < n) {
        uint8_t c = q[j++];
        if (c == 0)
            lx->ambiguous = true;
        if (nest && c == '/' && j < n && q[j] == '*') {
            j = consume_comment(lx, j + 1, 0);
            if (lx->open_comment)
                return n;
            continue;
        }
        if (c == '*' && j < n && q[j] == '/')
            return j + 1;
    }
    lx->open_comment = true;
    return n;
}

/* A line comment from j to the newline (MY_LEX_COMMENT also stops at a NUL,
 * which no grammar rule accepts next: ambiguous, and the server rejects). */
static size_t line_comment(mx_lex_t *lx, size_t j)
{
    while (j < lx->n && lx->q[j] != '\n') {
        if (lx->q[j] == 0)
            lx->ambiguous = true;
        j++;
    }
    return j;
}

/* MY_LEX_MINUS_OR_COMMENT: "--" starts a comment when the next byte is a
 * space or a control character of the client charset (or the text ends:
 * the server's terminating NUL).  0x7F and bytes >= 0x80 differ between
 * charsets; the answers for the known kinds are MariaDB 10.11.19's. */
static bool dash_comment(mx_lex_t *lx, size_t k)
{
    if (k >= lx->n)
        return true;
    uint8_t c = lx->q[k];
    if (c <= 0x20)
        return true;
    if (c < 0x7F)
        return false;
    switch (lx->mode.charset) {
    case MX_CS_UTF8:
    case MX_CS_GBK:
    case MX_CS_BIG5:
    case MX_CS_SJIS:
        return c == 0x7F;
    default:
        /* cp1251 or latin2 read "--" + 0x7F as no comment, latin1 does;
         * hp8 and cp1250 take some bytes >= 0x80 as control characters. */
        lx->ambiguous = true;
        return false;
    }
}

/* MY_LEX_LONG_COMMENT at q[i] == '/', q[i+1] == '*'.  Returns the index to
 * go on from, having set in_exec when the content is SQL. */
static size_t block_comment(mx_lex_t *lx, size_t i)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n;
    if (!lx->started && !lx->in_exec && lx->hint == MX_LEX_HINT_NONE) {
        uint8_t h;
        size_t end = hint_comment(q, n, i, &h);
        if (end) {
            /* The leading hint is stripped by manx before the server sees
             * the text, whatever its spelling: it is no SQL. */
            lx->hint = h;
            lx->hint_end = end;
            if (end == n && (n < 2 || q[n - 1] != '/' || q[n - 2] != '*'))
                lx->open_comment = true;
            return end;
        }
    }
    size_t k = i + 2;
    bool bang = k < n && q[k] == '!';
    bool maria = lx->mode.mariadb && k + 1 < n && q[k] == 'M' && q[k + 1] == '!';
    /* MySQL reads slash-star-M-bang as a plain comment. */
    if (!bang && !maria)
        return consume_comment(lx, i + 2, 0);
    size_t p = k + (maria ? 2 : 1);
    size_t digits = 0;
    while (p + digits < n && digits < 6 && is_digit(q[p + digits]))
        digits++;
    if (digits < 5) {
        /* No version: the content is SQL on every server. */
        lx->in_exec = true;
        return p;
    }
    if (lx->mode.server_version == 0) {
        /* Whether the server runs or skips it depends on its version. */
        lx->ambiguous = true;
        lx->in_exec = true;
        return p + digits;
    }
    if (digits == 6 && !lx->mode.mariadb) {
        /* MySQL reads five digits; whether it reads a sixth is not
         * something manx has checked against a MySQL server. */
        lx->ambiguous = true;
    }
    uint32_t version = 0;
    for (size_t d = 0; d < digits; d++)
        version = version * 10 + (uint32_t)(q[p + d] - '0');
    bool runs = version <= lx->mode.server_version;
    /* MariaDB ignores MySQL 5.7+ versions (50700-99999) unless they are
     * written slash-star-M-bang. */
    if (lx->mode.mariadb && !maria && version >= 50700 && version <= 99999)
        runs = false;
    if (runs) {
        lx->in_exec = true;
        return p + digits;
    }
    return consume_comment(lx, k, 1);
}

/* Skips spaces and comments, and the star-slash closing an executable
 * comment.  Returns false at the end of the text. */
static bool skip_noise(mx_lex_t *lx)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n, i = lx->i;
    while (i < n) {
        uint8_t c = q[i];
        if (is_space(c)) {
            i++;
        } else if (c == 0) {
            /* A NUL outside quotes: the server's lexer takes it for the end
             * of a comment or a stray character.  Never guess. */
            lx->ambiguous = true;
            i++;
        } else if (c == '#') {
            i = line_comment(lx, i + 1);
        } else if (c == '-' && i + 1 < n && q[i + 1] == '-' && dash_comment(lx, i + 2)) {
            i = line_comment(lx, i + 2);
        } else if (c == '/' && i + 1 < n && q[i + 1] == '*') {
            i = block_comment(lx, i);
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

/* ---- tokens ------------------------------------------------------------ */

/* get_text(): q[i] is the opening quote of a string.  Returns the index
 * past the closing quote, or n with MX_TOKF_OPEN. */
static size_t scan_string(mx_lex_t *lx, size_t i, uint8_t *flags)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n;
    uint8_t quote = q[i];
    bool unknown = lx->mode.sql_mode & MX_LEX_SQL_MODE_UNKNOWN;
    bool escapes = unknown || !(lx->mode.sql_mode & MX_LEX_NO_BACKSLASH_ESCAPES);
    for (size_t j = i + 1; j < n; j++) {
        uint8_t c = q[j];
        if (c >= 0x80) {
            size_t l = mb_string(lx, j);
            if (l) {
                j += l - 1;
                continue;
            }
        }
        if (c == '\\') {
            *flags |= MX_TOKF_ESCAPED;
            if (unknown)
                lx->ambiguous = true; /* 'x\' ends here under NO_BACKSLASH_ESCAPES */
            if (escapes)
                j++;
        } else if (c == quote) {
            if (j + 1 < n && q[j + 1] == quote) {
                *flags |= MX_TOKF_ESCAPED;
                j++;
                continue;
            }
            return j + 1;
        }
    }
    *flags |= MX_TOKF_OPEN;
    lx->malformed = true;
    return n;
}

/* scan_ident_delimited(): q[i] is the opening ` (or " under ANSI_QUOTES).
 * Only doubled quotes escape; a NUL makes the server reject the text. */
static size_t scan_qident(mx_lex_t *lx, size_t i, uint8_t *flags)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n;
    uint8_t quote = q[i];
    for (size_t j = i + 1; j < n; j++) {
        uint8_t c = q[j];
        if (c == 0)
            lx->ambiguous = true;
        if (c >= 0x80 && j + 1 < n) {
            if (q[j + 1] == quote && quote == '`') {
                bool unsure = false;
                if (mb_string(lx, j) && backtick_trail_ok(lx, c, &unsure)) {
                    j++;
                    continue;
                }
                if (unsure)
                    lx->ambiguous = true;
            } else if (mb_ident(lx, j)) {
                j++;
                continue;
            }
        }
        if (c == quote) {
            if (j + 1 < n && q[j + 1] == quote) {
                *flags |= MX_TOKF_ESCAPED;
                j++;
                continue;
            }
            return j + 1;
        }
    }
    *flags |= MX_TOKF_OPEN;
    lx->malformed = true;
    return n;
}

/* A quoted token starting with " : a string, or an identifier under
 * ANSI_QUOTES.  While the sql_mode is unknown both read to the same end
 * unless a backslash intervenes, which scan_string() reports. */
static size_t scan_dquote(mx_lex_t *lx, size_t i, mx_tok_t *t)
{
    if (lx->mode.sql_mode & MX_LEX_SQL_MODE_UNKNOWN) {
        t->type = MX_TOK_STRING;
        t->flags |= MX_TOKF_DQUOTE;
        return scan_string(lx, i, &t->flags);
    }
    if (lx->mode.sql_mode & MX_LEX_ANSI_QUOTES) {
        t->type = MX_TOK_QIDENT;
        return scan_qident(lx, i, &t->flags);
    }
    t->type = MX_TOK_STRING;
    return scan_string(lx, i, &t->flags);
}

/* Identifier bytes from j on, multi-byte characters whole. */
static size_t scan_word(mx_lex_t *lx, size_t j)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n;
    while (j < n) {
        uint8_t c = q[j];
        if (c < 0x80) {
            if (!is_ident(c))
                break;
            j++;
            continue;
        }
        note_high(lx, c);
        size_t l = mb_ident(lx, j);
        j += l ? l : 1;
    }
    return j;
}

/* Identifier bytes one at a time (get_7bit_or_8bit_ident(), for the first
 * part of a system variable's name). */
static size_t scan_bytes(mx_lex_t *lx, size_t j)
{
    while (j < lx->n && is_ident(lx->q[j])) {
        if (lx->q[j] >= 0x80)
            note_high(lx, lx->q[j]);
        j++;
    }
    return j;
}

/* MY_LEX_NUMBER_IDENT and MY_LEX_INT_OR_REAL: a token starting with a
 * digit.  Sets t->type (NUMBER, or WORD for 12abc) and returns its end. */
static size_t scan_number(mx_lex_t *lx, size_t i, mx_tok_t *t)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n, j = i;
    t->type = MX_TOK_NUMBER;
    if (q[i] == '0' && i + 1 < n && (q[i + 1] == 'x' || q[i + 1] == 'b')) {
        bool hex = q[i + 1] == 'x';
        j = i + 2;
        while (j < n && (hex ? is_hex(q[j]) : (q[j] == '0' || q[j] == '1')))
            j++;
        if (j > i + 2 && (j >= n || !is_ident(q[j])))
            return j;
        t->type = MX_TOK_WORD; /* 0xg1, 0b12: an identifier */
        return scan_word(lx, i);
    }
    while (j < n && is_digit(q[j]))
        j++;
    if (j < n && is_ident(q[j])) {
        if (q[j] == 'e' || q[j] == 'E') {
            size_t k = j + 1;
            if (k < n && (q[k] == '+' || q[k] == '-'))
                k++;
            if (k < n && is_digit(q[k])) {
                while (k < n && is_digit(q[k]))
                    k++;
                return k;
            }
        }
        t->type = MX_TOK_WORD;
        return scan_word(lx, i);
    }
    if (j + 1 < n && q[j] == '.' && q[j + 1] != '.') {
        j++;
        while (j < n && is_digit(q[j]))
            j++;
        if (j < n && (q[j] == 'e' || q[j] == 'E')) {
            size_t k = j + 1;
            if (k < n && (q[k] == '+' || q[k] == '-'))
                k++;
            if (k < n && is_digit(q[k])) {
                while (k < n && is_digit(q[k]))
                    k++;
                return k;
            }
        }
    } else if (j + 1 == n && q[j] == '.') {
        j++;
    }
    return j;
}

/* x'..' and b'..' (MY_LEX_HEX_NUMBER, MY_LEX_BIN_NUMBER): q[i+1] is the
 * quote.  Anything but digits before the closing quote is ABORT_SYM. */
static size_t scan_xb(mx_lex_t *lx, size_t i, mx_tok_t *t)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n, j = i + 2;
    bool hex = lower(q[i]) == 'x';
    while (j < n && (hex ? is_hex(q[j]) : (q[j] == '0' || q[j] == '1')))
        j++;
    t->type = MX_TOK_NUMBER;
    if (j >= n || q[j] != '\'') {
        lx->malformed = true;
        return j;
    }
    if (hex && (j - i - 2) % 2 != 0)
        lx->malformed = true; /* an odd number of hex digits */
    return j + 1;
}

/* '@' at i: a user variable (MY_LEX_USER_END then MY_LEX_HOSTNAME, or a
 * quoted name), or '@@' and a system variable (MY_LEX_SYSTEM_VAR). */
static size_t scan_at(mx_lex_t *lx, size_t i, mx_tok_t *t)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n, j = i + 1;
    if (j < n && q[j] == '@') {
        t->type = MX_TOK_SYSVAR;
        j++;
        if (j < n && q[j] == '`')
            return scan_qident(lx, j, &t->flags);
        size_t e = scan_bytes(lx, j);
        if (e == j) {
            lx->malformed = true; /* ABORT_SYM: names must be nonempty */
            return e;
        }
        /* @@scope.name: the parts after a '.' are read as identifiers. */
        while (e + 1 < n && q[e] == '.' && (is_ident(q[e + 1]) || q[e + 1] == '`')) {
            if (q[e + 1] == '`')
                e = scan_qident(lx, e + 1, &t->flags);
            else
                e = scan_word(lx, e + 1);
        }
        return e;
    }
    t->type = MX_TOK_USERVAR;
    if (j < n && (q[j] == '\'' || q[j] == '"' || q[j] == '`')) {
        if (q[j] == '`' || (q[j] == '"' && (lx->mode.sql_mode & (MX_LEX_ANSI_QUOTES | MX_LEX_SQL_MODE_UNKNOWN)) ==
                                               MX_LEX_ANSI_QUOTES))
            return scan_qident(lx, j, &t->flags);
        return scan_string(lx, j, &t->flags);
    }
    while (j < n) {
        uint8_t c = q[j];
        if (c < 0x80 ? !(cclass[c] & CC_VAR) : !var_high_byte(lx, c))
            break;
        if (c >= 0x80)
            note_high(lx, c);
        j++;
    }
    /* swe7 (and so any unknown charset) reads these as letters of the name. */
    if (j < n && lx->mode.charset == MX_CS_UNKNOWN && memchr("@[\\]^`{|}~", q[j], 10))
        lx->ambiguous = true;
    return j;
}

void mx_lex_init(mx_lex_t *lx, const uint8_t *q, size_t n, const mx_lexmode_t *mode)
{
    memset(lx, 0, sizeof(*lx));
    lx->q = q;
    lx->n = n;
    lx->mode = *mode;
    lx->prev_type = MX_TOK_END;
    if (cs_unsure_mb(lx))
        note_mb_hazards(lx, 0);
}

static void apply_mode_changes(mx_lex_t *lx)
{
    if (lx->next_mode & MX_LEX_NEXT_SQL_MODE)
        lx->mode.sql_mode = MX_LEX_SQL_MODE_UNKNOWN;
    if ((lx->next_mode & MX_LEX_NEXT_CHARSET) && lx->mode.charset != MX_CS_UNKNOWN) {
        lx->mode.charset = MX_CS_UNKNOWN;
        note_mb_hazards(lx, lx->i);
    }
    lx->next_mode = 0;
}

void mx_lex_mode_changes(mx_lex_t *lx, unsigned what)
{
    lx->next_mode |= (uint8_t)what;
}

void mx_lex_stmt_end(mx_lex_t *lx)
{
    apply_mode_changes(lx);
    lx->in_exec = false;
    lx->last_in_exec = false;
}

void mx_lex_next(mx_lex_t *lx, mx_tok_t *t)
{
    const uint8_t *q = lx->q;
    size_t n = lx->n;
    t->ch = 0;
    t->flags = 0;
    if (!skip_noise(lx)) {
        t->type = MX_TOK_END;
        t->s = t->e = n;
        return;
    }
    size_t i = lx->i, e;
    uint8_t c = q[i];
    t->s = i;
    bool after_dot = lx->prev_type == MX_TOK_PUNCT && lx->prev_e == i && i > 0 && q[i - 1] == '.';
    if (after_dot && is_ident(c)) {
        /* MY_LEX_IDENT_START after a '.': a name, even 5col or select. */
        t->type = MX_TOK_WORD;
        t->flags |= MX_TOKF_QUALIFIED;
        e = scan_word(lx, i);
    } else if (c == '\'') {
        t->type = MX_TOK_STRING;
        e = scan_string(lx, i, &t->flags);
    } else if (c == '"') {
        e = scan_dquote(lx, i, t);
    } else if (c == '`') {
        t->type = MX_TOK_QIDENT;
        e = scan_qident(lx, i, &t->flags);
    } else if (c == '@') {
        e = scan_at(lx, i, t);
    } else if (is_digit(c)) {
        e = scan_number(lx, i, t);
    } else if ((c == 'x' || c == 'X' || c == 'b' || c == 'B') && i + 1 < n && q[i + 1] == '\'') {
        e = scan_xb(lx, i, t);
    } else if ((c == 'n' || c == 'N') && i + 1 < n && q[i + 1] == '\'') {
        t->type = MX_TOK_STRING;
        e = scan_string(lx, i + 1, &t->flags);
    } else if (is_ident(c)) {
        t->type = MX_TOK_WORD;
        if (c >= 0x80)
            note_high(lx, c);
        e = scan_word(lx, i);
    } else if (c == '.' && i + 1 < n && is_digit(q[i + 1]) &&
               !(lx->prev_type == MX_TOK_WORD && lx->prev_e == i)) {
        /* MY_LEX_REAL_OR_POINT: .5 (but t.5col is a qualified name). */
        t->type = MX_TOK_NUMBER;
        e = i + 1;
        while (e < n && is_digit(q[e]))
            e++;
        if (e < n && (q[e] == 'e' || q[e] == 'E')) {
            size_t k = e + 1;
            if (k < n && (q[k] == '+' || q[k] == '-'))
                k++;
            if (k < n && is_digit(q[k])) {
                while (k < n && is_digit(q[k]))
                    k++;
                e = k;
            }
        }
    } else if (c == ':' && i + 1 < n && q[i + 1] == '=') {
        t->type = MX_TOK_ASSIGN;
        e = i + 2;
    } else if (c == ';') {
        t->type = MX_TOK_SEMI;
        e = i + 1;
    } else {
        t->type = MX_TOK_PUNCT;
        t->ch = c;
        e = i + 1;
    }
    t->e = e;
    lx->i = e;
    lx->started = true;
    lx->prev_type = t->type;
    lx->prev_e = e;
    if (t->type == MX_TOK_SEMI) {
        apply_mode_changes(lx);
    } else {
        if (lx->in_exec)
            t->flags |= MX_TOKF_IN_EXEC;
        lx->last_end = e;
        lx->last_in_exec = lx->in_exec;
    }
}

int mx_lex_unquote(const uint8_t *q, const mx_tok_t *t, char *dst, size_t cap)
{
    size_t s = t->s, e = t->e;
    if (t->type == MX_TOK_USERVAR && e > s)
        s++;
    if (cap == 0 || e < s)
        return -1;
    size_t len = 0;
    uint8_t quote = s < e ? q[s] : 0;
    if (t->type == MX_TOK_WORD || t->type == MX_TOK_NUMBER ||
        (t->type == MX_TOK_USERVAR && quote != '\'' && quote != '"' && quote != '`')) {
        if (e - s >= cap)
            return -1;
        memcpy(dst, q + s, e - s);
        dst[e - s] = 0;
        return (int)(e - s);
    }
    if (t->flags & MX_TOKF_OPEN || e - s < 2 || (quote != '\'' && quote != '"' && quote != '`') ||
        q[e - 1] != quote)
        return -1;
    for (size_t i = s + 1; i < e - 1; i++) {
        if (q[i] == '\\' && quote != '`' && t->type != MX_TOK_QIDENT)
            return -1;
        if (q[i] == quote)
            i++; /* the first of a doubled quote */
        if (len + 1 >= cap)
            return -1;
        dst[len++] = (char)q[i];
    }
    dst[len] = 0;
    return (int)len;
}

const char *mx_lex_tok_name(int type)
{
    static const char *const names[] = {"END",     "WORD",   "NUMBER", "STRING", "QIDENT",
                                        "USERVAR", "SYSVAR", "ASSIGN", "SEMI",   "PUNCT"};
    return type >= 0 && type < (int)(sizeof(names) / sizeof(names[0])) ? names[type] : "?";
}
