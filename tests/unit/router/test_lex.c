/* Tests for router/lex.c: token boundaries under every sql_mode and client
 * charset kind, the cases that must come out ambiguous, versioned
 * comments, hint comments, mode changes between statements, and the
 * charset/version helpers.  Each expectation was checked against a
 * MariaDB 10.11.19 server (see the commit that added this file). */
#include <stdlib.h>

#include "router/lex.h"
#include "test.h"

static const mx_lexmode_t base = {.sql_mode = 0, .charset = MX_CS_UTF8, .server_version = 101106,
                                  .mariadb = true};

/* Renders the tokens of s as "TYPE:text TYPE:text ..." (text as in s, with
 * bytes < 0x20 or >= 0x7f as \xNN), plus " AMB" / " BAD" at the end when
 * the text is ambiguous or malformed. */
static void render(const char *s, size_t n, const mx_lexmode_t *mode, char *out, size_t cap)
{
    uint8_t *q = malloc(n ? n : 1); /* exact size: ASan sees overreads */
    if (!q)
        abort();
    memcpy(q, s, n);
    mx_lex_t lx;
    mx_lex_init(&lx, q, n, mode);
    size_t len = 0;
    out[0] = 0;
    for (;;) {
        mx_tok_t t;
        mx_lex_next(&lx, &t);
        if (t.type == MX_TOK_END)
            break;
        len += (size_t)snprintf(out + len, cap - len, "%s%s:", len ? " " : "", mx_lex_tok_name(t.type));
        for (size_t i = t.s; i < t.e && len + 5 < cap; i++) {
            if (q[i] < 0x20 || q[i] >= 0x7f)
                len += (size_t)snprintf(out + len, cap - len, "\\x%02x", q[i]);
            else
                out[len++] = (char)q[i];
        }
        out[len] = 0;
        if (t.type == MX_TOK_SEMI)
            mx_lex_stmt_end(&lx);
    }
    if (lx.ambiguous)
        len += (size_t)snprintf(out + len, cap - len, " AMB");
    if (lx.malformed)
        snprintf(out + len, cap - len, " BAD");
    free(q);
}

#define TOKS(mode, s, want)                                              \
    do {                                                                 \
        char _got[2048];                                                 \
        render((s), sizeof(s) - 1, (mode), _got, sizeof(_got));          \
        ASSERT_STR_EQ(_got, (want));                                     \
    } while (0)

static mx_lexmode_t with(uint8_t sql_mode, uint8_t cs)
{
    mx_lexmode_t m = base;
    m.sql_mode = sql_mode;
    m.charset = cs;
    return m;
}

static void test_basic(void)
{
    TOKS(&base, "SELECT a, `b``c`, 'd''e', \"f\" FROM t;",
         "WORD:SELECT WORD:a PUNCT:, QIDENT:`b``c` PUNCT:, STRING:'d''e' PUNCT:, STRING:\"f\" WORD:FROM "
         "WORD:t SEMI:;");
    TOKS(&base, "1.5 .5 1e-3 1.e2 0x1F 0b101 x'1f' B'01' 12abc 0x1g 1..2",
         "NUMBER:1.5 NUMBER:.5 NUMBER:1e-3 NUMBER:1.e2 NUMBER:0x1F NUMBER:0b101 NUMBER:x'1f' NUMBER:B'01' "
         "WORD:12abc WORD:0x1g NUMBER:1 PUNCT:. NUMBER:.2");
    TOKS(&base, "t.5col db . t `d`.5", "WORD:t PUNCT:. WORD:5col WORD:db PUNCT:. WORD:t QIDENT:`d` NUMBER:.5");
    TOKS(&base, "@a.b @'x y' @\"z\" @`w` @@session.sql_mode @@`v` a:=1 'u'@'h'",
         "USERVAR:@a.b USERVAR:@'x y' USERVAR:@\"z\" USERVAR:@`w` SYSVAR:@@session.sql_mode SYSVAR:@@`v` "
         "WORD:a ASSIGN::= NUMBER:1 STRING:'u' USERVAR:@'h'");
    TOKS(&base, "N'a\\'b' _utf8mb4'c' n'd'", "STRING:N'a\\'b' WORD:_utf8mb4 STRING:'c' STRING:n'd'");
    TOKS(&base, "SELECT 'open", "WORD:SELECT STRING:'open BAD");
    TOKS(&base, "x'1' x'g'", "NUMBER:x'1' NUMBER:x' WORD:g STRING:' BAD");
    TOKS(&base, "SELECT 中文, café FROM données", "WORD:SELECT WORD:\\xe4\\xb8\\xad\\xe6\\x96\\x87 PUNCT:, "
         "WORD:caf\\xc3\\xa9 WORD:FROM WORD:donn\\xc3\\xa9es");
}

static void test_comments(void)
{
    TOKS(&base, "a -- x\nb #y\nc /* z */ d --", "WORD:a WORD:b WORD:c WORD:d");
    TOKS(&base, "a --x b", "WORD:a PUNCT:- PUNCT:- WORD:x WORD:b");
    TOKS(&base, "a--\x01 b\nc", "WORD:a WORD:c");
    TOKS(&base, "a--\x7f b\nc", "WORD:a WORD:c");
    TOKS(&base, "a--\x80 b", "WORD:a PUNCT:- PUNCT:- WORD:\\x80 WORD:b");
    TOKS(&base, "a /* x /* y */ b */", "WORD:a WORD:b PUNCT:* PUNCT:/");
    TOKS(&base, "a /*/ b */ c", "WORD:a WORD:c");
    TOKS(&base, "a /* open", "WORD:a");
    /* Executable comments: the content is SQL when the version applies. */
    TOKS(&base, "a /*!40101 b */ c", "WORD:a WORD:b WORD:c");
    TOKS(&base, "a /*!99999 b */ c", "WORD:a WORD:c");
    TOKS(&base, "a /*M!99999 b */ c", "WORD:a WORD:b WORD:c");
    TOKS(&base, "a /*!50700 b */ /*M!50700 c */ /*!50699 d */", "WORD:a WORD:c WORD:d");
    TOKS(&base, "a /*!100000 b */ /*!101106 c */ /*!101107 d */ /*M!999999 e */", "WORD:a WORD:b WORD:c");
    TOKS(&base, "a /*!1011060 b */", "WORD:a NUMBER:0 WORD:b");
    TOKS(&base, "a /*! b */ /*M! c */ /*!1234 d */", "WORD:a WORD:b WORD:c NUMBER:1234 WORD:d");
    TOKS(&base, "a /*!99999 b /* c */ d */ e", "WORD:a WORD:e");
    TOKS(&base, "a /*!99999 b /* c /* d */ e */ f", "WORD:a WORD:f");
    TOKS(&base, "a /*!40000 b /* c */ d */ e", "WORD:a WORD:b WORD:d WORD:e");
    TOKS(&base, "a /*!40000 b /*!40000 c */ d */", "WORD:a WORD:b WORD:c WORD:d PUNCT:* PUNCT:/");
    TOKS(&base, "a /*!40000 b -- */ c\n d */", "WORD:a WORD:b WORD:d");
    TOKS(&base, "a /*!40000 'x */' */ b", "WORD:a STRING:'x */' WORD:b");
    TOKS(&base, "a */ b", "WORD:a PUNCT:* PUNCT:/ WORD:b");
    /* The server starts a new parse after ';': an open executable comment
     * does not go on into the next statement. */
    TOKS(&base, "/*!40000 a; */ b", "WORD:a SEMI:; PUNCT:* PUNCT:/ WORD:b");
    mx_lexmode_t m = base;
    m.server_version = 0;
    TOKS(&m, "a /*!40000 b */", "WORD:a WORD:b AMB");
    TOKS(&m, "a /*M!100000 b */", "WORD:a WORD:b AMB");
    TOKS(&m, "a /*!mycat: b */ /*!123 c */", "WORD:a WORD:mycat PUNCT:: WORD:b NUMBER:123 WORD:c");
    m = base;
    m.mariadb = false;
    m.server_version = 80036;
    TOKS(&m, "a /*M!100000 b */ /*!50700 c */ /*!80037 d */", "WORD:a WORD:c");
    TOKS(&m, "a /*!100000 b */", "WORD:a AMB");
}

static void test_sql_modes(void)
{
    mx_lexmode_t nbe = with(MX_LEX_NO_BACKSLASH_ESCAPES, MX_CS_UTF8);
    mx_lexmode_t ansi = with(MX_LEX_ANSI_QUOTES, MX_CS_UTF8);
    mx_lexmode_t unk = with(MX_LEX_SQL_MODE_UNKNOWN, MX_CS_UTF8);
    TOKS(&base, "'a\\'; b; -- '", "STRING:'a\\'; b; -- '");
    TOKS(&nbe, "'a\\'; b; -- '", "STRING:'a\\' SEMI:; WORD:b SEMI:;");
    TOKS(&unk, "'a\\'; b; -- '", "STRING:'a\\'; b; -- ' AMB");
    TOKS(&unk, "'a''b' \"c\"", "STRING:'a''b' STRING:\"c\"");
    TOKS(&base, "\"a\\\"; b", "STRING:\"a\\\"; b BAD");
    TOKS(&ansi, "\"a\\\"; b", "QIDENT:\"a\\\" SEMI:; WORD:b");
    TOKS(&ansi, "\"a\"\"b\" 'c\\'d'", "QIDENT:\"a\"\"b\" STRING:'c\\'d'");
    TOKS(&unk, "\"a\\\"; b", "STRING:\"a\\\"; b AMB BAD");
    TOKS(&ansi, "@\"a\\\"; b", "USERVAR:@\"a\\\" SEMI:; WORD:b");
    TOKS(&base, "`a\\`; b", "QIDENT:`a\\` SEMI:; WORD:b");
    /* A backslash outside quotes is a character of its own in every mode. */
    TOKS(&unk, "a \\N b", "WORD:a PUNCT:\\ WORD:N WORD:b");
}

static void test_charsets(void)
{
    mx_lexmode_t gbk = with(0, MX_CS_GBK), big5 = with(0, MX_CS_BIG5), sjis = with(0, MX_CS_SJIS);
    mx_lexmode_t single = with(0, MX_CS_SINGLE), unk = with(0, MX_CS_UNKNOWN);
    mx_lexmode_t other = with(0, MX_CS_OTHER_MB);
    /* 0xBF 0x5C is one gbk character: the backslash escapes nothing. */
    TOKS(&gbk, "'\xbf\\'; b; -- '", "STRING:'\\xbf\\' SEMI:; WORD:b SEMI:;");
    TOKS(&base, "'\xbf\\'; b; -- '", "STRING:'\\xbf\\'; b; -- '");
    TOKS(&single, "'\xbf\\'; b; -- '", "STRING:'\\xbf\\'; b; -- '");
    TOKS(&big5, "'\xa4\\'; b; -- '", "STRING:'\\xa4\\' SEMI:; WORD:b SEMI:;");
    TOKS(&big5, "'\x81\\'; b; -- '", "STRING:'\\x81\\'; b; -- '");
    TOKS(&sjis, "'\x95\\'; b; -- '", "STRING:'\\x95\\' SEMI:; WORD:b SEMI:;");
    TOKS(&sjis, "'\xa0\\'; b; -- '", "STRING:'\\xa0\\'; b; -- '");
    TOKS(&unk, "'\xbf\\'; b; -- '", "STRING:'\\xbf\\'; b; -- ' AMB");
    TOKS(&other, "'\xbf\\'; b; -- '", "STRING:'\\xbf\\'; b; -- ' AMB");
    /* In `identifiers` the server only swallows an assigned character. */
    TOKS(&gbk, "`\x81`; b; -- `", "QIDENT:`\\x81`; b; -- `");
    TOKS(&gbk, "`\xa1`; b", "QIDENT:`\\xa1` SEMI:; WORD:b");
    TOKS(&big5, "`\xa4`; b; -- `", "QIDENT:`\\xa4`; b; -- `");
    TOKS(&big5, "`\xc8`; b", "QIDENT:`\\xc8` SEMI:; WORD:b");
    TOKS(&sjis, "`\x81`; b; -- `", "QIDENT:`\\x81`; b; -- `");
    TOKS(&sjis, "`\x85`; b", "QIDENT:`\\x85` SEMI:; WORD:b");
    TOKS(&sjis, "`\x87`; b", "QIDENT:`\\x87` SEMI:; WORD:b AMB"); /* sjis and cp932 differ */
    TOKS(&unk, "`\x81`; b", "QIDENT:`\\x81` SEMI:; WORD:b AMB");
    /* Bare identifiers take multi-byte characters whole. */
    TOKS(&gbk, "a\x81`; b; -- `", "WORD:a\\x81` SEMI:; WORD:b SEMI:;");
    TOKS(&base, "a\x81`; b; -- `", "WORD:a\\x81 QIDENT:`; b; -- `");
    /* User variable names are read byte by byte (MY_LEX_HOSTNAME). */
    TOKS(&gbk, "@a\xbf`x`", "USERVAR:@a\\xbf QIDENT:`x`");
    TOKS(&gbk, "@a\x81`x`", "USERVAR:@a WORD:\\x81`x QIDENT:` BAD");
    TOKS(&sjis, "@a\x95`x", "USERVAR:@a WORD:\\x95`x");
    TOKS(&big5, "@a\xa4`x`", "USERVAR:@a\\xa4 QIDENT:`x`");
    /* @@name: the first part byte by byte, parts after '.' as identifiers. */
    TOKS(&gbk, "@@a\xbf`x` @@s.b\xbf`x", "SYSVAR:@@a\\xbf QIDENT:`x` SYSVAR:@@s.b\\xbf`x");
    /* Unknown charsets: a high byte before \ ` @ is ambiguous anywhere. */
    TOKS(&unk, "a\xbf@b", "WORD:a\\xbf USERVAR:@b AMB");
    TOKS(&unk, "'\xc3\xa9' \xc3\xa9", "STRING:'\\xc3\\xa9' WORD:\\xc3\\xa9");
    /* swe7 is unknown: its letters include ` \ @ and run on in @names. */
    TOKS(&unk, "@a`b`", "USERVAR:@a QIDENT:`b` AMB");
    /* 0xA0 and 0xFF are spaces in some single-byte charsets. */
    TOKS(&single, "INTO\xa0OUTFILE", "WORD:INTO\\xa0OUTFILE AMB");
    TOKS(&single, "a\xff b '\xa0\xff'", "WORD:a\\xff WORD:b STRING:'\\xa0\\xff' AMB");
    TOKS(&single, "caf\xe9 '\xa0'", "WORD:caf\\xe9 STRING:'\\xa0'");
    TOKS(&base, "INTO\xa0OUTFILE", "WORD:INTO\\xa0OUTFILE");
    /* -- and a byte >= 0x7f: known per charset, unknown otherwise. */
    TOKS(&gbk, "a --\x7f b", "WORD:a");
    TOKS(&gbk, "a --\x80 b", "WORD:a PUNCT:- PUNCT:- WORD:\\x80 WORD:b");
    TOKS(&single, "a --\x7f b", "WORD:a PUNCT:- PUNCT:- PUNCT:\\x7f WORD:b AMB");
    TOKS(&single, "a --\xa0 b", "WORD:a PUNCT:- PUNCT:- WORD:\\xa0 WORD:b AMB");
    TOKS(&unk, "a --\x85 b", "WORD:a PUNCT:- PUNCT:- WORD:\\x85 WORD:b AMB");
}

static void test_nul(void)
{
    TOKS(&base, "a\0b", "WORD:a WORD:b AMB");
    TOKS(&base, "'a\0b'", "STRING:'a\\x00b'");
    TOKS(&base, "`a\0b`", "QIDENT:`a\\x00b` AMB");
    TOKS(&base, "a # \0\nb", "WORD:a WORD:b AMB");
    TOKS(&base, "a /* \0 */ b", "WORD:a WORD:b AMB");
}

static void test_hints(void)
{
    const char *s = " /* x */ /*!mycat:db_type=slave*/ SELECT /*#mycat:db_type=master*/ 1";
    mx_lex_t lx;
    mx_tok_t t;
    mx_lex_init(&lx, (const uint8_t *)s, strlen(s), &base);
    mx_lex_next(&lx, &t);
    ASSERT_EQ(lx.hint, MX_LEX_HINT_SLAVE);
    ASSERT_EQ(lx.hint_end, 33);
    ASSERT_EQ(t.s, 34);
    mx_lex_next(&lx, &t);
    ASSERT_EQ(t.type, MX_TOK_NUMBER);
    ASSERT_EQ(lx.hint, MX_LEX_HINT_SLAVE);
    /* A hint without a db_type is no hint: the ! spelling is then SQL. */
    TOKS(&base, "/*!mycat:schema=x*/ a", "WORD:mycat PUNCT:: WORD:schema PUNCT:= WORD:x WORD:a");
    TOKS(&base, "/*!manx:db_type=master*/ a", "WORD:a");
    TOKS(&base, "a /*!manx:db_type=master*/", "WORD:a WORD:manx PUNCT:: WORD:db_type PUNCT:= WORD:master");
    TOKS(&base, "/*!40000 /*#mycat:db_type=slave*/ */ a", "WORD:a");
}

/* Statements that change sql_mode or character_set_client make what
 * follows their ';' unknown. */
static void test_mode_changes(void)
{
    const char *s = "SET NAMES gbk; SELECT '\xbf\\'; x; -- '";
    mx_lex_t lx;
    mx_tok_t t;
    mx_lex_init(&lx, (const uint8_t *)s, strlen(s), &base);
    mx_lex_next(&lx, &t);
    mx_lex_mode_changes(&lx, MX_LEX_NEXT_CHARSET);
    do
        mx_lex_next(&lx, &t);
    while (t.type != MX_TOK_SEMI);
    ASSERT_EQ(lx.mode.charset, MX_CS_UNKNOWN);
    ASSERT_TRUE(lx.ambiguous);
    s = "SET sql_mode = ''; SELECT 'a\\'";
    mx_lex_init(&lx, (const uint8_t *)s, strlen(s), &base);
    mx_lex_next(&lx, &t);
    mx_lex_mode_changes(&lx, MX_LEX_NEXT_SQL_MODE);
    do
        mx_lex_next(&lx, &t);
    while (t.type != MX_TOK_SEMI);
    ASSERT_TRUE(!lx.ambiguous);
    ASSERT_EQ(lx.mode.sql_mode, MX_LEX_SQL_MODE_UNKNOWN);
    mx_lex_next(&lx, &t);
    mx_lex_next(&lx, &t);
    ASSERT_EQ(t.type, MX_TOK_STRING);
    ASSERT_TRUE(lx.ambiguous);
}

static void test_limit_end(void)
{
    const char *s = "a /*!40001 b */ -- c";
    mx_lex_t lx;
    mx_tok_t t;
    mx_lex_init(&lx, (const uint8_t *)s, strlen(s), &base);
    mx_lex_next(&lx, &t);
    mx_lex_next(&lx, &t);
    ASSERT_TRUE(t.flags & MX_TOKF_IN_EXEC);
    ASSERT_EQ(lx.last_end, 12);
    mx_lex_next(&lx, &t);
    ASSERT_EQ(t.type, MX_TOK_END);
    ASSERT_EQ(lx.last_end, 15);
}

static void test_unquote(void)
{
    static const struct {
        const char *s;
        int len;
        const char *want;
    } cases[] = {
        {"`a``b`", 3, "a`b"}, {"'a''b'", 3, "a'b"}, {"\"a\"\"b\"", 3, "a\"b"}, {"word", 4, "word"},
        {"'a\\'b'", -1, ""},  {"`a\\b`", 3, "a\\b"}, {"@`x y`", 3, "x y"},     {"@name", 4, "name"},
        {"'open", -1, ""},    {"''", 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mx_lex_t lx;
        mx_tok_t t;
        mx_lex_init(&lx, (const uint8_t *)cases[i].s, strlen(cases[i].s), &base);
        mx_lex_next(&lx, &t);
        char buf[16];
        int len = mx_lex_unquote((const uint8_t *)cases[i].s, &t, buf, sizeof(buf));
        ASSERT_EQ(len, cases[i].len);
        if (len >= 0)
            ASSERT_STR_EQ(buf, cases[i].want);
    }
    mx_lex_t lx;
    mx_tok_t t;
    const char *s = "`0123456789abcdef`";
    mx_lex_init(&lx, (const uint8_t *)s, strlen(s), &base);
    mx_lex_next(&lx, &t);
    char small[16];
    ASSERT_EQ(mx_lex_unquote((const uint8_t *)s, &t, small, sizeof(small)), -1);
}

static void test_helpers(void)
{
    ASSERT_EQ(mx_charset_kind("utf8mb4", 7), MX_CS_UTF8);
    ASSERT_EQ(mx_charset_kind("UTF8", 4), MX_CS_UTF8);
    ASSERT_EQ(mx_charset_kind("GBK", 3), MX_CS_GBK);
    ASSERT_EQ(mx_charset_kind("big5", 4), MX_CS_BIG5);
    ASSERT_EQ(mx_charset_kind("cp932", 5), MX_CS_SJIS);
    ASSERT_EQ(mx_charset_kind("sjis", 4), MX_CS_SJIS);
    ASSERT_EQ(mx_charset_kind("latin1", 6), MX_CS_SINGLE);
    ASSERT_EQ(mx_charset_kind("binary", 6), MX_CS_SINGLE);
    ASSERT_EQ(mx_charset_kind("euckr", 5), MX_CS_UTF8);
    ASSERT_EQ(mx_charset_kind("gb18030", 7), MX_CS_OTHER_MB);
    ASSERT_EQ(mx_charset_kind("swe7", 4), MX_CS_UNKNOWN);
    ASSERT_EQ(mx_charset_kind("ucs2", 4), MX_CS_UNKNOWN);
    ASSERT_EQ(mx_charset_kind("latin", 5), MX_CS_UNKNOWN);
    ASSERT_EQ(mx_charset_kind("", 0), MX_CS_UNKNOWN);
    ASSERT_EQ(mx_charset_kind_of_collation(45), MX_CS_UTF8);   /* utf8mb4_general_ci */
    ASSERT_EQ(mx_charset_kind_of_collation(33), MX_CS_UTF8);   /* utf8mb3_general_ci */
    ASSERT_EQ(mx_charset_kind_of_collation(224), MX_CS_UTF8);  /* utf8mb4_unicode_ci */
    ASSERT_EQ(mx_charset_kind_of_collation(8), MX_CS_SINGLE);  /* latin1_swedish_ci */
    ASSERT_EQ(mx_charset_kind_of_collation(63), MX_CS_SINGLE); /* binary */
    ASSERT_EQ(mx_charset_kind_of_collation(28), MX_CS_GBK);
    ASSERT_EQ(mx_charset_kind_of_collation(87), MX_CS_GBK);
    ASSERT_EQ(mx_charset_kind_of_collation(1), MX_CS_BIG5);
    ASSERT_EQ(mx_charset_kind_of_collation(13), MX_CS_SJIS);
    ASSERT_EQ(mx_charset_kind_of_collation(95), MX_CS_SJIS);   /* cp932_japanese_ci */
    ASSERT_EQ(mx_charset_kind_of_collation(10), MX_CS_UNKNOWN); /* swe7 */
    ASSERT_EQ(mx_charset_kind_of_collation(35), MX_CS_UNKNOWN); /* ucs2 */
    ASSERT_EQ(mx_charset_kind_of_collation(0), MX_CS_UNKNOWN);
    ASSERT_EQ(mx_charset_kind_of_collation(255), MX_CS_UNKNOWN);
    ASSERT_EQ(mx_charset_kind_of_collation(100000), MX_CS_UNKNOWN);

    static const struct {
        const char *s;
        bool ok;
        uint32_t id;
        bool mariadb;
    } v[] = {
        {"10.11.19-MariaDB-0+deb12u1-log", true, 101119, true},
        {"5.5.5-10.11.6-MariaDB", true, 101106, true},
        {"8.0.36", true, 80036, false},
        {"5.7.44-log", true, 50744, false},
        {"11.4.2-MariaDB", true, 110402, true},
        {"5.5.5-garbage-MariaDB", true, 50505, true},
        {"10.11", false, 0, false},
        {"x10.11.6", false, 0, false},
        {"100.1.1", false, 0, false},
        {"", false, 0, false},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint32_t id = 7;
        bool maria = false;
        bool ok = mx_lex_parse_server_version(v[i].s, strlen(v[i].s), &id, &maria);
        ASSERT_EQ(ok, v[i].ok);
        if (ok) {
            ASSERT_EQ(id, v[i].id);
            ASSERT_EQ(maria, v[i].mariadb);
        } else {
            ASSERT_EQ(id, 7);
        }
    }
    ASSERT_TRUE(mx_lex_is_ident_byte('a') && mx_lex_is_ident_byte('$') && mx_lex_is_ident_byte(0x80));
    ASSERT_TRUE(!mx_lex_is_ident_byte('-') && !mx_lex_is_ident_byte('`') && !mx_lex_is_ident_byte(0));
}

/* sql_mode values as the server reports them (tracked, or the backends'
 * default at connection setup). */
static void test_sql_mode_bits(void)
{
    static const struct {
        const char *v;
        uint8_t bits;
    } m[] = {
        {"", 0},
        {"STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION", 0},
        {"NO_BACKSLASH_ESCAPES", MX_LEX_NO_BACKSLASH_ESCAPES},
        {"ansi_quotes,no_backslash_escapes", MX_LEX_ANSI_QUOTES | MX_LEX_NO_BACKSLASH_ESCAPES},
        {"REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI", MX_LEX_ANSI_QUOTES},
        {"POSTGRESQL", MX_LEX_ANSI_QUOTES},
        {"PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE", MX_LEX_ANSI_QUOTES | MX_LEX_SQL_MODE_UNKNOWN},
        {"NO_BACKSLASH_ESCAPESX,XANSI_QUOTES", 0},
        {",,ANSI_QUOTES,", MX_LEX_ANSI_QUOTES},
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        ASSERT_EQ(mx_lex_sql_mode_bits(m[i].v, strlen(m[i].v)), m[i].bits);
}

int main(void)
{
    test_sql_mode_bits();
    test_basic();
    test_comments();
    test_sql_modes();
    test_charsets();
    test_nul();
    test_hints();
    test_mode_changes();
    test_limit_end();
    test_unquote();
    test_helpers();
    return mx_test_summary("lex");
}
