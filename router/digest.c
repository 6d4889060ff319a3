/* Statement fingerprints (see digest.h): one pass over router/lex.c's
 * tokens writing a normalised text.  Value lists are folded by rewinding
 * the output to where the list began once its closing parenthesis shows
 * that it held only values. */
#include "digest.h"

#include <stdbool.h>
#include <string.h>

/* What the last token written was, for spacing and the folding rules. */
enum {
    K_NONE,  /* nothing written yet (or just after "; ") */
    K_WORD,  /* word, quoted identifier, variable */
    K_VALUE, /* ? */
    K_OPEN,  /* ( */
    K_CLOSE, /* ) */
    K_COMMA, /* , */
    K_DOT,   /* . */
    K_OP,    /* an operator or other punctuation */
    K_SIGN,  /* + or - where only a unary sign can stand */
};

/* Folding a parenthesised group of values. */
enum { G_NONE, G_IN, G_ROW, G_FIRST_ROW };
/* Where a VALUES clause stands. */
enum { V_NONE, V_FIRST, V_AFTER_ROW, V_NEXT };

typedef struct dg_s {
    char *out;
    size_t cap, len;
    bool cut;                /* out is full: "..." written, nothing more */
    uint8_t prev;            /* K_* of the last token written */
    char prev_ch;            /* its byte when K_OP / K_SIGN */
    size_t prev_e;           /* its end in the text */
    size_t sign_at;          /* out length before a K_SIGN just written */
    uint8_t sign_prev;       /* ... and prev before it */
    char word[8];            /* the last word when short, lower case ("in", "values") */
    uint8_t group;           /* G_*: a group that may fold is open */
    size_t group_at;         /* out length to rewind to when it folds */
    int depth;               /* parentheses open inside the group */
    bool only_values;        /* the group has held only values, commas, signs */
    uint8_t values;          /* V_* */
    size_t row_at;           /* V_NEXT: out length before the ',' of that row */
} dg_t;

static bool put(dg_t *d, const char *s, size_t n)
{
    if (d->cut)
        return false;
    if (d->len + n + 4 > d->cap) {
        memcpy(d->out + d->len, "...", 3);
        d->len += 3;
        d->cut = true;
        return false;
    }
    memcpy(d->out + d->len, s, n);
    d->len += n;
    return true;
}

static bool is_op_byte(uint8_t c)
{
    return c == '<' || c == '>' || c == '=' || c == '!' || c == '|' || c == '&';
}

/* Writes one token of kind k with a separating space where the rules
 * want one.  `joined`: an operator byte right after another in the text
 * (">=" comes from the lexer as two bytes), or a '(' right after a word
 * that is not one of the keywords below: "f(" is a call, while "f (" is
 * a name followed by a list (the server reads "count (*)" so too). */
static void emit(dg_t *d, uint8_t k, const char *s, size_t n, bool joined)
{
    bool space = d->len > 0 && !joined && d->prev != K_OPEN && d->prev != K_DOT && k != K_CLOSE &&
                 k != K_COMMA && k != K_DOT && d->prev != K_SIGN;
    if (space)
        put(d, " ", 1);
    put(d, s, n);
    d->prev = k;
}

static bool word_is(const dg_t *d, const char *w)
{
    return strcmp(d->word, w) == 0;
}

/* Keywords after which a '(' opens a list or a subquery, never a call:
 * spaced alike however the text has it. */
static bool spaced_keyword(const dg_t *d)
{
    static const char *const kw[] = { "in", "values", "value", "where", "and", "or", "not", "on", "using",
                                       "exists", "from", "join", "set", "select", "as", "by", "with", "when",
                                       "then", "else", "union", "all", "any", "some", "having", "xor" };
    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (word_is(d, kw[i]))
            return true;
    return false;
}

/* A value was written: a sign before it in unary position is folded in. */
static void value(dg_t *d)
{
    if (d->prev == K_SIGN) {
        /* The space before the sign goes too: emit puts it back. */
        d->len = d->sign_at;
        d->prev = d->sign_prev;
    }
    emit(d, K_VALUE, "?", 1, false);
}

static void open_paren(dg_t *d, bool adjacent)
{
    bool call = d->prev == K_WORD && adjacent && !spaced_keyword(d);
    if (d->group != G_NONE) {
        d->depth++;
    } else if (d->prev == K_WORD && word_is(d, "in")) {
        d->group = G_IN;
        d->group_at = d->len;
        d->depth = 1;
        d->only_values = true;
    } else if (d->values == V_NEXT) {
        d->group = G_ROW;
        d->group_at = d->row_at;
        d->depth = 1;
        d->only_values = true;
    } else if (d->values == V_FIRST) {
        /* The first row stays as written, normalised. */
        d->group = G_FIRST_ROW;
        d->depth = 1;
    }
    emit(d, K_OPEN, "(", 1, call);
}

static void close_paren(dg_t *d)
{
    emit(d, K_CLOSE, ")", 1, false);
    if (d->group == G_NONE || --d->depth > 0)
        return;
    if (d->only_values && !d->cut && d->group != G_FIRST_ROW) {
        d->len = d->group_at;
        if (d->group == G_IN) {
            d->prev = K_WORD;
            emit(d, K_OPEN, "(", 1, false);
            emit(d, K_VALUE, "?", 1, false);
            emit(d, K_CLOSE, ")", 1, false);
        } else {
            d->prev = K_CLOSE;
        }
    }
    if (d->group == G_ROW || d->group == G_FIRST_ROW)
        d->values = V_AFTER_ROW;
    d->group = G_NONE;
}

/* Any token but ',' '(' ')' and values: the group holds more than values,
 * and a VALUES clause waiting for its next row has ended. */
static void other(dg_t *d)
{
    d->only_values = false;
    if (d->group == G_NONE && (d->values == V_AFTER_ROW || d->values == V_NEXT))
        d->values = V_NONE;
}

static void lower_word(dg_t *d, const uint8_t *s, size_t n)
{
    char buf[64];
    size_t i = 0;
    bool first = true;
    while (n > 0) {
        size_t k = n < sizeof(buf) ? n : sizeof(buf);
        for (i = 0; i < k; i++)
            buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i] < 0x20 || s[i] == 0x7f ? '.' : (char)s[i];
        if (first)
            emit(d, K_WORD, buf, k, false);
        else
            put(d, buf, k);
        first = false;
        s += k;
        n -= k;
    }
}

static void punct(dg_t *d, const mx_tok_t *t, bool joined, bool adjacent)
{
    char ch = (char)t->ch;
    switch (ch) {
    case '?':
        value(d);
        return;
    case '(':
        open_paren(d, adjacent);
        return;
    case ')':
        close_paren(d);
        return;
    case ',':
        if (d->group == G_NONE && d->values == V_AFTER_ROW) {
            d->row_at = d->len;
            d->values = V_NEXT;
        }
        emit(d, K_COMMA, ",", 1, false);
        return;
    case '.':
        other(d);
        emit(d, K_DOT, ".", 1, false);
        return;
    case '-':
    case '+':
        /* After an operator, '(' or ',' (or first) a sign is unary: folded
         * into the number that follows it. */
        if (d->prev == K_NONE || d->prev == K_OP || d->prev == K_OPEN || d->prev == K_COMMA ||
            d->prev == K_SIGN) {
            if (d->prev != K_SIGN) {
                d->sign_at = d->len;
                d->sign_prev = d->prev;
            }
            emit(d, K_OP, &ch, 1, false);
            d->prev = K_SIGN;
            return;
        }
        break;
    default:
        break;
    }
    if ((uint8_t)ch < 0x20 || ch == 0x7f)
        ch = '.';
    other(d);
    emit(d, K_OP, &ch, 1, joined);
}

uint64_t mx_digest(const uint8_t *q, size_t n, const mx_lexmode_t *mode, char *out, size_t cap)
{
    dg_t d;
    memset(&d, 0, sizeof(d));
    d.out = out;
    d.cap = cap;
    mx_lex_t lx;
    mx_lex_init(&lx, q, n, mode);
    bool semi = false; /* a ';' waits for a statement after it */
    for (;;) {
        mx_tok_t t;
        mx_lex_next(&lx, &t);
        if (t.type == MX_TOK_END || d.cut)
            break;
        if (t.type == MX_TOK_SEMI) {
            mx_lex_stmt_end(&lx);
            semi = d.len > 0;
            continue;
        }
        if (semi) {
            put(&d, ";", 1);
            d.prev = K_NONE;
            d.group = G_NONE;
            d.values = V_NONE;
            semi = false;
        }
        bool joined = t.type == MX_TOK_PUNCT && d.prev == K_OP && t.s == d.prev_e && is_op_byte(t.ch) &&
                      is_op_byte((uint8_t)d.prev_ch);
        uint8_t was = d.prev;
        switch (t.type) {
        case MX_TOK_NUMBER:
        case MX_TOK_STRING:
            value(&d);
            break;
        case MX_TOK_PUNCT:
            punct(&d, &t, joined, t.s == d.prev_e);
            break;
        case MX_TOK_QIDENT: {
            char name[256];
            int len = mx_lex_unquote(q, &t, name, sizeof(name));
            other(&d);
            if (len >= 0)
                lower_word(&d, (const uint8_t *)name, (size_t)len);
            else
                lower_word(&d, q + t.s, t.e - t.s);
            break;
        }
        default: /* words, variables, := */
            other(&d);
            if (t.type == MX_TOK_ASSIGN) {
                emit(&d, K_OP, ":=", 2, false);
                break;
            }
            lower_word(&d, q + t.s, t.e - t.s);
            /* Keywords that start folding: a bare word, not a name after '.'. */
            d.word[0] = 0;
            if (t.type == MX_TOK_WORD && was != K_DOT && t.e - t.s < sizeof(d.word)) {
                size_t wl = t.e - t.s;
                for (size_t i = 0; i < wl; i++)
                    d.word[i] = q[t.s + i] >= 'A' && q[t.s + i] <= 'Z' ? (char)(q[t.s + i] + 32) : (char)q[t.s + i];
                d.word[wl] = 0;
                if (d.group == G_NONE && (word_is(&d, "values") || word_is(&d, "value")))
                    d.values = V_FIRST;
            }
            break;
        }
        if (t.type != MX_TOK_WORD)
            d.word[0] = 0;
        d.prev_ch = t.type == MX_TOK_PUNCT ? (char)t.ch : 0;
        d.prev_e = t.e;
    }
    out[d.len] = 0;
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < d.len; i++) {
        h ^= (uint8_t)out[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}
