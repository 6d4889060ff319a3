/* SQL text inspection: comment- and quote-aware scanning for the few
 * markers the proxy needs before routing arrives, and `USE db`. */
#include "sql.h"

#include "protocol/packet.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool is_ident(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c >= 0x80;
}

/* Skip a comment or quoted string starting at q[i]; returns the index after
 * it, or i when q[i] starts neither. */
static size_t skip_noise(const uint8_t *q, size_t n, size_t i)
{
    uint8_t c = q[i];
    if (c == '\'' || c == '"' || c == '`') {
        for (size_t j = i + 1; j < n; j++) {
            if (q[j] == '\\' && c != '`') {
                j++;
                continue;
            }
            if (q[j] == c) {
                if (j + 1 < n && q[j + 1] == c) {
                    j++;
                    continue;
                }
                return j + 1;
            }
        }
        return n;
    }
    if (c == '#' || (c == '-' && i + 2 < n && q[i + 1] == '-' && (q[i + 2] == ' ' || q[i + 2] == '\t'))) {
        while (i < n && q[i] != '\n')
            i++;
        return i;
    }
    if (c == '/' && i + 1 < n && q[i + 1] == '*') {
        /* Executable comments (slash-star-bang) hold SQL: scan into them. */
        if (i + 2 < n && q[i + 2] == '!')
            return i + 3;
        for (size_t j = i + 2; j + 1 < n; j++)
            if (q[j] == '*' && q[j + 1] == '/')
                return j + 2;
        return n;
    }
    return i;
}

static bool word_is(const uint8_t *w, size_t len, const char *kw)
{
    return strlen(kw) == len && strncasecmp((const char *)w, kw, len) == 0;
}

uint32_t mx_sql_marks(const uint8_t *q, size_t n)
{
    uint32_t m = 0;
    size_t i = 0;
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    while (i < n) {
        size_t j = skip_noise(q, n, i);
        if (j != i) {
            i = j;
            continue;
        }
        uint8_t c = q[i];
        if (c == '@') {
            if (i + 1 < n && q[i + 1] == '@') {
                i += 2;
                size_t w = i;
                while (i < n && (is_ident(q[i]) || q[i] == '.')) {
                    if (q[i] == '.')
                        w = i + 1; /* @@session.identity */
                    i++;
                }
                if (word_is(q + w, i - w, "identity") || word_is(q + w, i - w, "last_insert_id"))
                    m |= MX_MARK_LAST_INSERT_ID;
                continue;
            }
            m |= MX_MARK_USERVAR;
            i++;
            continue;
        }
        if (is_ident(c)) {
            size_t s = i;
            while (i < n && is_ident(q[i]))
                i++;
            const uint8_t *w = q + s;
            size_t len = i - s;
            if (word_is(w, len, "TEMPORARY"))
                m |= MX_MARK_TEMP;
            else if (word_is(w, len, "GET_LOCK"))
                m |= MX_MARK_LOCK;
            else if ((word_is(w, len, "TABLES") || word_is(w, len, "TABLE")) && prev &&
                     word_is(prev, prev_len, "LOCK"))
                m |= MX_MARK_LOCK;
            else if (word_is(w, len, "PREPARE"))
                m |= MX_MARK_PREPARE;
            else if (word_is(w, len, "SQL_CALC_FOUND_ROWS"))
                m |= MX_MARK_FOUND_ROWS;
            else if (word_is(w, len, "LAST_INSERT_ID"))
                m |= MX_MARK_LAST_INSERT_ID;
            prev = w;
            prev_len = len;
            continue;
        }
        i++;
    }
    return m;
}

static size_t skip_space(const uint8_t *q, size_t n, size_t i)
{
    for (;;) {
        while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r'))
            i++;
        if (i < n && q[i] != '\'' && q[i] != '"' && q[i] != '`') {
            size_t j = skip_noise(q, n, i);
            if (j != i && !(q[i] == '/' && i + 2 < n && q[i + 2] == '!')) {
                i = j;
                continue;
            }
        }
        return i;
    }
}

int mx_sql_use(const uint8_t *q, size_t n, char *name, size_t cap)
{
    size_t i = skip_space(q, n, 0);
    if (n - i < 4 || strncasecmp((const char *)q + i, "use", 3) != 0 || is_ident(q[i + 3]))
        return 0;
    i = skip_space(q, n, i + 3);
    size_t len = 0;
    if (i < n && (q[i] == '`' || q[i] == '"' || q[i] == '\'')) {
        uint8_t quote = q[i++];
        while (i < n) {
            if (q[i] == quote) {
                if (i + 1 < n && q[i + 1] == quote) {
                    i++;
                } else {
                    break;
                }
            }
            if (len + 1 >= cap)
                return -1;
            name[len++] = (char)q[i++];
        }
        if (i >= n)
            return -1;
        i++;
    } else {
        while (i < n && (is_ident(q[i]) || q[i] == '-')) {
            if (len + 1 >= cap)
                return -1;
            name[len++] = (char)q[i++];
        }
    }
    if (len == 0)
        return -1;
    name[len] = 0;
    i = skip_space(q, n, i);
    while (i < n && q[i] == ';')
        i = skip_space(q, n, i + 1);
    return i == n ? 1 : -1;
}

/* Skip spaces and comments; a word of letters/digits/_ is compared
 * case-insensitively. */
static bool take_word(const uint8_t *q, size_t n, size_t *i, const char *w)
{
    size_t j = skip_space(q, n, *i), l = strlen(w);
    if (n - j < l || strncasecmp((const char *)q + j, w, l) != 0 || (j + l < n && is_ident(q[j + l])))
        return false;
    *i = j + l;
    return true;
}

static bool at_end(const uint8_t *q, size_t n, size_t i)
{
    i = skip_space(q, n, i);
    if (i < n && q[i] == ';')
        i = skip_space(q, n, i + 1);
    return i == n;
}

static int select_call(const uint8_t *q, size_t n, const char *f1, const char *f2, char *name, size_t cap)
{
    size_t i = 0;
    if (!take_word(q, n, &i, "select"))
        return 0;
    size_t s = skip_space(q, n, i);
    if (!take_word(q, n, &i, f1) && (!f2 || !take_word(q, n, &i, f2)))
        return 0;
    size_t j = skip_space(q, n, i);
    if (j + 1 >= n || q[j] != '(')
        return 0;
    j = skip_space(q, n, j + 1);
    if (j >= n || q[j] != ')')
        return 0;
    i = j + 1;
    size_t e = i;
    /* Column name: the alias, else the expression as typed. */
    size_t a = i;
    bool as = take_word(q, n, &a, "as");
    size_t k = skip_space(q, n, as ? a : i);
    if (k < n && q[k] != ';') {
        size_t len = 0;
        if (q[k] == '`' || q[k] == '\'' || q[k] == '"') {
            uint8_t quote = q[k++];
            while (k < n && q[k] != quote && len + 1 < cap)
                name[len++] = (char)q[k++];
            if (k >= n || q[k] != quote)
                return 0;
            k++;
        } else {
            while (k < n && is_ident(q[k]) && len + 1 < cap)
                name[len++] = (char)q[k++];
        }
        if (len == 0)
            return 0;
        name[len] = 0;
        return at_end(q, n, k) ? 1 : 0;
    }
    if (e - s + 1 > cap)
        return 0;
    memcpy(name, q + s, e - s);
    name[e - s] = 0;
    return at_end(q, n, e) ? 1 : 0;
}

int mx_sql_select_database(const uint8_t *q, size_t n, char *name, size_t cap)
{
    return select_call(q, n, "database", "schema", name, cap);
}

int mx_sql_select_connection_id(const uint8_t *q, size_t n, char *name, size_t cap)
{
    return select_call(q, n, "connection_id", NULL, name, cap);
}

int mx_sql_show_databases(const uint8_t *q, size_t n, char *like, size_t cap)
{
    size_t i = 0;
    if (!take_word(q, n, &i, "show") || (!take_word(q, n, &i, "databases") && !take_word(q, n, &i, "schemas")))
        return 0;
    like[0] = 0;
    if (take_word(q, n, &i, "like")) {
        size_t k = skip_space(q, n, i), len = 0;
        if (k >= n || (q[k] != '\'' && q[k] != '"'))
            return 0;
        uint8_t quote = q[k++];
        while (k < n && q[k] != quote) {
            if (len + 1 >= cap)
                return 0;
            like[len++] = (char)q[k++];
        }
        if (k >= n)
            return 0;
        like[len] = 0;
        i = k + 1;
    }
    return at_end(q, n, i) ? 1 : 0;
}

bool mx_sql_like(const char *p, const char *s)
{
    for (; *p; p++, s++) {
        if (*p == '%') {
            while (p[1] == '%')
                p++;
            if (!p[1])
                return true;
            for (; *s; s++)
                if (mx_sql_like(p + 1, s))
                    return true;
            return false;
        }
        if (!*s)
            return false;
        char a = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        char b = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (*p != '_' && a != b)
            return false;
    }
    return *s == 0;
}

size_t mx_sql_map_schemas(const uint8_t *q, size_t n, mx_sql_schema_map_fn map, void *arg,
                          struct mx_pktbuf_s *out)
{
    size_t done = 0, last = 0, i = 0;
    while (i < n) {
        uint8_t c = q[i];
        if (c != '`') {
            size_t j = skip_noise(q, n, i);
            if (j != i) {
                i = j;
                continue;
            }
        }
        size_t s = i, e, ns, ne;
        if (c == '`') {
            e = i + 1;
            while (e < n && q[e] != '`')
                e++;
            if (e >= n)
                break;
            ns = s + 1;
            ne = e;
            e++;
        } else if (is_ident(c) && !(c >= '0' && c <= '9')) {
            e = i;
            while (e < n && (is_ident(q[e]) || q[e] == '-'))
                e++;
            /* A bare name cannot hold '-': only a backticked one can. */
            size_t k = s;
            while (k < e && q[k] != '-')
                k++;
            e = k;
            ns = s;
            ne = e;
        } else {
            i++;
            continue;
        }
        /* Qualifier: the identifier is followed by '.', and not preceded
         * by '.' (that would be table.column). */
        size_t dot = e;
        while (dot < n && (q[dot] == ' ' || q[dot] == '\t' || q[dot] == '\n' || q[dot] == '\r'))
            dot++;
        bool qualifier = dot < n && q[dot] == '.' && !(s > 0 && q[s - 1] == '.');
        const char *real = qualifier ? map(arg, (const char *)q + ns, ne - ns) : NULL;
        if (real) {
            mx_put_bytes(out, q + last, s - last);
            mx_put_u8(out, '`');
            mx_put_bytes(out, real, strlen(real));
            mx_put_u8(out, '`');
            last = e;
            done++;
        }
        i = e > i ? e : i + 1;
    }
    if (done)
        mx_put_bytes(out, q + last, n - last);
    return done;
}

/* End of a literal at q[i] (number, string with optional introducer, hex,
 * NULL/TRUE/FALSE), or i when there is none. */
static size_t literal_end(const uint8_t *q, size_t n, size_t i)
{
    size_t j = i;
    if (j < n && (q[j] == '-' || q[j] == '+'))
        j++;
    if (j < n && q[j] >= '0' && q[j] <= '9') {
        if (j + 1 < n && q[j] == '0' && (q[j + 1] == 'x' || q[j + 1] == 'X')) {
            j += 2;
            while (j < n && ((q[j] >= '0' && q[j] <= '9') || ((q[j] | 0x20) >= 'a' && (q[j] | 0x20) <= 'f')))
                j++;
            return j;
        }
        while (j < n && ((q[j] >= '0' && q[j] <= '9') || q[j] == '.' || q[j] == 'e' || q[j] == 'E' ||
                         ((q[j] == '-' || q[j] == '+') && (q[j - 1] == 'e' || q[j - 1] == 'E'))))
            j++;
        return j;
    }
    if (j != i)
        return i;
    if (j < n && q[j] == '_') { /* _utf8mb4'...' */
        while (j < n && is_ident(q[j]))
            j++;
    } else if (j + 1 < n && (q[j] | 0x20) == 'x' && q[j + 1] == '\'') {
        j++;
    } else if (j + 1 < n && (q[j] | 0x20) == 'n' && q[j + 1] == '\'') {
        j++;
    }
    if (j < n && (q[j] == '\'' || q[j] == '"')) {
        size_t e = skip_noise(q, n, j);
        if (e > n || e == j || q[e - 1] != q[j])
            return i;
        return e;
    }
    if (j != i)
        return i;
    static const char *const words[] = { "null", "true", "false" };
    for (size_t k = 0; k < 3; k++) {
        size_t l = strlen(words[k]);
        if (n - i >= l && strncasecmp((const char *)q + i, words[k], l) == 0 && (i + l == n || !is_ident(q[i + l])))
            return i + l;
    }
    return i;
}

int mx_sql_set_uservars(const uint8_t *q, size_t n, mx_sql_uservar_fn cb, void *arg)
{
    size_t i = 0;
    if (!take_word(q, n, &i, "set"))
        return 0;
    /* First pass checks, second reports: a statement is replayed whole or
     * not at all. */
    for (int pass = 0; pass < 2; pass++) {
        size_t k = i;
        for (;;) {
            k = skip_space(q, n, k);
            if (k >= n)
                return 0;
            if (q[k] == '@' && k + 1 < n && q[k + 1] != '@') {
                size_t ns = k + 1, ne = ns;
                if (ne < n && (q[ne] == '`' || q[ne] == '\'' || q[ne] == '"')) {
                    return 0; /* quoted user variable names: keep it simple */
                }
                while (ne < n && (is_ident(q[ne]) || q[ne] == '.'))
                    ne++;
                if (ne == ns)
                    return 0;
                size_t e = skip_space(q, n, ne);
                if (e + 1 < n && q[e] == ':' && q[e + 1] == '=')
                    e += 2;
                else if (e < n && q[e] == '=')
                    e++;
                else
                    return 0;
                size_t vs = skip_space(q, n, e);
                size_t ve = literal_end(q, n, vs);
                if (ve == vs)
                    return 0;
                if (pass == 1)
                    cb(arg, q + ns, ne - ns, q + vs, ve - vs);
                k = skip_space(q, n, ve);
            } else {
                /* A system variable, NAMES or CHARACTER SET: session tracking
                 * reports its effect; skip to the next top-level comma. */
                int depth = 0;
                while (k < n) {
                    size_t j = skip_noise(q, n, k);
                    if (j != k) {
                        k = j;
                        continue;
                    }
                    if (q[k] == '(')
                        depth++;
                    else if (q[k] == ')')
                        depth--;
                    else if ((q[k] == ',' || q[k] == ';') && depth == 0)
                        break;
                    else if (q[k] == '@' && k + 1 < n && q[k + 1] != '@' && (k == 0 || q[k - 1] != '@'))
                        return 0; /* a user variable inside an expression */
                    k++;
                }
            }
            if (k < n && q[k] == ',') {
                k++;
                continue;
            }
            if (!at_end(q, n, k))
                return 0;
            break;
        }
    }
    return 1;
}
