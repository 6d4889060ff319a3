/* Logical schema names in a backend's answers; see schemamap.h. */
#include "schemamap.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* information_schema columns (by their original name) whose values are
 * schema names.  SHOW statements answer from the same tables. */
static const char *const schema_cols[] = {
    "TABLE_SCHEMA", "SCHEMA_NAME", "CONSTRAINT_SCHEMA", "UNIQUE_CONSTRAINT_SCHEMA",
    "REFERENCED_TABLE_SCHEMA", "INDEX_SCHEMA", "ROUTINE_SCHEMA", "EVENT_SCHEMA",
    "TRIGGER_SCHEMA", "EVENT_OBJECT_SCHEMA", "SPECIFIC_SCHEMA", "Database", "OBJECT_SCHEMA",
};

static bool str_is_ci(const mx_str_t *s, const char *z)
{
    return s->len == strlen(z) && strncasecmp((const char *)s->p, z, s->len) == 0;
}

/* The logical name for a real one, NULL when it is none of ours. */
static const char *logical_of(const mx_smap_pair_t *m, size_t n, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(m[i].real) == len && memcmp(m[i].real, p, len) == 0)
            return m[i].logical;
    return NULL;
}

void mx_smap_rs_begin(mx_smap_rs_t *rs)
{
    rs->ncols = 0;
    rs->any = rs->too_many = false;
    memset(rs->map, 0, sizeof(rs->map));
}

/* The column name with a "Tables_in_<real>" prefix renamed and manx's
 * DATABASE() literal named back, into buf (cap bytes); its length, or 0
 * when nothing changes.  Names are at most 256 bytes: longer ones (and
 * any that would outgrow buf) are left alone. */
static size_t new_name(const mx_smap_pair_t *m, size_t n, const mx_str_t *name, uint8_t *buf, size_t cap)
{
    static const char tin[] = "Tables_in_";
    const size_t tl = sizeof(tin) - 1;
    if (!name->p || name->len > 256)
        return 0;
    if (name->len > tl && memcmp(name->p, tin, tl) == 0) {
        for (size_t i = 0; i < n; i++) {
            size_t rl = strlen(m[i].real), ll = strlen(m[i].logical);
            if (name->len >= tl + rl && memcmp(name->p + tl, m[i].real, rl) == 0 &&
                (name->len == tl + rl || name->p[tl + rl] == ' ')) {
                size_t rest = name->len - tl - rl;
                if (tl + ll + rest > cap)
                    return 0;
                memcpy(buf, tin, tl);
                memcpy(buf + tl, m[i].logical, ll);
                memcpy(buf + tl + ll, name->p + tl + rl, rest);
                return tl + ll + rest;
            }
        }
    }
    const size_t pl = sizeof(MX_SMAP_DBF_PREFIX) - 1, sl = sizeof(MX_SMAP_DBF_SUFFIX) - 1;
    const uint8_t *p = name->p, *end = p + name->len;
    size_t bl = 0;
    bool changed = false;
    while ((size_t)(end - p) >= pl) {
        const uint8_t *hit = memmem(p, (size_t)(end - p), MX_SMAP_DBF_PREFIX, pl);
        if (!hit)
            break;
        const uint8_t *h = hit + pl;
        while (h + 1 < end && isxdigit(h[0]) && isxdigit(h[1]))
            h += 2;
        bool ours = (size_t)(end - h) >= sl && memcmp(h, MX_SMAP_DBF_SUFFIX, sl) == 0;
        /* The replacement is shorter than what it replaces: buf (>= the
         * name's length) always holds the result. */
        size_t keep = (size_t)((ours ? hit : h) - p);
        memcpy(buf + bl, p, keep);
        bl += keep;
        if (ours) {
            memcpy(buf + bl, "DATABASE()", 10);
            bl += 10;
            changed = true;
            p = h + sl;
        } else {
            p = h;
        }
    }
    if (!changed)
        return 0;
    memcpy(buf + bl, p, (size_t)(end - p));
    return bl + (size_t)(end - p);
}

int mx_smap_coldef(const mx_smap_pair_t *m, size_t n, mx_smap_rs_t *rs, bool ext, const uint8_t *p,
                   size_t len, mx_pktbuf_t *out, uint8_t seq)
{
    mx_rd_t r;
    mx_str_t f[6];
    mx_rd_init(&r, p, len);
    for (int i = 0; i < 6; i++)
        if (!mx_rd_lenenc_str(&r, &f[i]))
            return -1;
    const uint8_t *rest = r.p;
    mx_str_t extmeta;
    if (ext && !mx_rd_lenenc_str(&r, &extmeta))
        return -1;
    uint64_t fixed;
    uint64_t charset, length, type;
    if (!mx_rd_lenenc(&r, &fixed, NULL) || fixed < 12 || !mx_rd_fixed(&r, 2, &charset) ||
        !mx_rd_fixed(&r, 4, &length) || !mx_rd_fixed(&r, 1, &type) || mx_rd_left(&r) < 5)
        return -1;
    uint32_t col = rs->ncols++;
    if (col >= MX_SMAP_MAX_COLS) {
        rs->too_many = true;
    } else {
        rs->type[col] = (uint8_t)type;
        if (str_is_ci(&f[1], "information_schema")) {
            for (size_t i = 0; i < sizeof(schema_cols) / sizeof(schema_cols[0]); i++) {
                if (str_is_ci(&f[5], schema_cols[i])) {
                    rs->map[col / 8] |= (uint8_t)(1u << (col % 8));
                    rs->any = true;
                    break;
                }
            }
        }
    }
    /* Rebuild only when the schema field or the name changes. */
    const char *schema = logical_of(m, n, f[1].p, f[1].len);
    uint8_t nb[256];
    size_t nl = new_name(m, n, &f[4], nb, sizeof(nb));
    if (!schema && nl == 0)
        return 0;
    mx_pkt_begin(out, seq);
    mx_put_lenenc_str(out, f[0].p, f[0].len);
    if (schema)
        mx_put_lenenc_str(out, schema, strlen(schema));
    else
        mx_put_lenenc_str(out, f[1].p, f[1].len);
    mx_put_lenenc_str(out, f[2].p, f[2].len);
    mx_put_lenenc_str(out, f[3].p, f[3].len);
    if (nl)
        mx_put_lenenc_str(out, nb, nl);
    else
        mx_put_lenenc_str(out, f[4].p, f[4].len);
    mx_put_lenenc_str(out, f[5].p, f[5].len);
    mx_put_bytes(out, rest, (size_t)(p + len - rest));
    mx_pkt_end(out);
    return 1;
}

/* Bytes a binary protocol value of `type` takes at p (n available);
 * 0 when it cannot be told. */
static size_t binary_width(uint8_t type, const uint8_t *p, size_t n)
{
    switch (type) {
    case 1: /* TINY */
        return 1;
    case 2:  /* SHORT */
    case 13: /* YEAR */
        return 2;
    case 3: /* LONG */
    case 4: /* FLOAT */
    case 9: /* INT24 */
        return 4;
    case 5: /* DOUBLE */
    case 8: /* LONGLONG */
        return 8;
    case 7:  /* TIMESTAMP */
    case 10: /* DATE */
    case 11: /* TIME */
    case 12: /* DATETIME */
    case 14: /* NEWDATE */
        return n >= 1 ? (size_t)p[0] + 1 : 0;
    case 0: case 15: case 16: case 245: case 246: case 247: case 248:
    case 249: case 250: case 251: case 252: case 253: case 254: case 255: {
        uint64_t v;
        int k = mx_lenenc_decode(p, n, &v);
        if (k <= 0 || v > n - (size_t)k)
            return 0;
        return (size_t)k + (size_t)v;
    }
    default:
        return 0;
    }
}

/* Column c's value at p[q]: its width in *w (0 for a NULL of the binary
 * protocol, which takes no bytes), and the logical name it stands for when
 * the column holds schema names and the value is a real one.  False when
 * the row is malformed. */
static bool value_at(const mx_smap_pair_t *m, size_t n, const mx_smap_rs_t *rs, bool binary, const uint8_t *p,
                     size_t len, size_t q, uint32_t c, size_t *w, const char **lg)
{
    *w = 0;
    *lg = NULL;
    if (binary) {
        size_t bit = c + 2;
        if (p[1 + bit / 8] & (1u << (bit % 8)))
            return true;
        *w = binary_width(rs->type[c], p + q, len - q);
        if (*w == 0 || *w > len - q)
            return false;
    } else {
        if (q >= len)
            return false;
        if (p[q] == 0xFB) {
            *w = 1;
            return true;
        }
        uint64_t v;
        int k = mx_lenenc_decode(p + q, len - q, &v);
        if (k <= 0 || v > len - q - (size_t)k)
            return false;
        *w = (size_t)k + (size_t)v;
    }
    if (rs->map[c / 8] & (1u << (c % 8))) {
        /* A string exactly as wide as the value: a column the backend
         * declared a schema name but sent as a number (binary protocol) is
         * no name, and its bytes must not be read as a length. */
        uint64_t v;
        int k = mx_lenenc_decode(p + q, *w, &v);
        if (k > 0 && (size_t)k + v == *w)
            *lg = logical_of(m, n, p + q + k, (size_t)v);
    }
    return true;
}

int mx_smap_row(const mx_smap_pair_t *m, size_t n, const mx_smap_rs_t *rs, bool binary, const uint8_t *p,
                size_t len, mx_pktbuf_t *out, uint8_t seq)
{
    if (!rs->any || rs->too_many || rs->ncols == 0)
        return 0;
    size_t pos = 0;
    if (binary) {
        size_t nullmap = (rs->ncols + 7 + 2) / 8;
        if (len < 1 + nullmap || p[0] != 0x00)
            return -1;
        pos = 1 + nullmap;
    }
    /* First pass: is the row whole, and does a mapped value hold a real
     * name?  Only then is it written again. */
    bool change = false;
    size_t q = pos, w;
    const char *lg;
    for (uint32_t c = 0; c < rs->ncols; c++, q += w) {
        if (!value_at(m, n, rs, binary, p, len, q, c, &w, &lg))
            return -1;
        change |= lg != NULL;
    }
    if (!change)
        return 0;
    mx_pkt_begin(out, seq);
    mx_put_bytes(out, p, pos);
    q = pos;
    for (uint32_t c = 0; c < rs->ncols; c++, q += w) {
        value_at(m, n, rs, binary, p, len, q, c, &w, &lg);
        if (lg)
            mx_put_lenenc_str(out, lg, strlen(lg));
        else
            mx_put_bytes(out, p + q, w);
    }
    mx_put_bytes(out, p + q, len - q);
    mx_pkt_end(out);
    return 1;
}

static bool quote_byte(uint8_t c)
{
    return c == '\'' || c == '`' || c == '"';
}

int mx_smap_err(const mx_smap_pair_t *m, size_t n, const uint8_t *p, size_t len, mx_pktbuf_t *out,
                uint8_t seq)
{
    /* 0xFF code(2) ['#' sqlstate(5)] message */
    if (len < 3 || p[0] != 0xFF)
        return -1;
    size_t msg = len >= 9 && p[3] == '#' ? 9 : 3;
    const uint8_t *s = p + msg, *end = p + len;
    bool change = false;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (!change)
                return 0;
            mx_pkt_begin(out, seq);
            mx_put_bytes(out, p, msg);
        }
        const uint8_t *from = s;
        for (const uint8_t *c = s; c < end; c++) {
            if (!quote_byte(*c))
                continue;
            /* A quote opens a name: 'real.t', 'real', `real`. */
            const uint8_t *nm = c + 1;
            for (size_t i = 0; i < n; i++) {
                size_t rl = strlen(m[i].real);
                if ((size_t)(end - nm) > rl && memcmp(nm, m[i].real, rl) == 0 &&
                    (nm[rl] == '.' || quote_byte(nm[rl]))) {
                    change = true;
                    if (pass == 1) {
                        mx_put_bytes(out, from, (size_t)(nm - from));
                        mx_put_bytes(out, m[i].logical, strlen(m[i].logical));
                        from = nm + rl;
                    }
                    c = nm + rl - 1;
                    break;
                }
            }
        }
        if (pass == 1)
            mx_put_bytes(out, from, (size_t)(end - from));
    }
    mx_pkt_end(out);
    return 1;
}
