/* Tests for logical schema names in responses (protocol/schemamap.c):
 * column definitions, text and binary rows of information_schema columns,
 * ERR messages; what must stay untouched stays untouched. */
#include <stdbool.h>
#include <stdlib.h>

#include "protocol/schemamap.h"
#include "test.h"

static const mx_smap_pair_t pairs[] = {{"app_db", "app-db"}, {"x", "logical_x"}};
#define NP 2

/* A column definition payload (classic layout) into b; returns its length. */
static size_t coldef(uint8_t *b, const char *schema, const char *table, const char *name, const char *org_name,
                     uint8_t type)
{
    mx_pktbuf_t pb;
    mx_pktbuf_init_fixed(&pb, b, 512);
    mx_pkt_begin(&pb, 2);
    const char *f[6] = {"def", schema, table, table, name, org_name};
    for (int i = 0; i < 6; i++)
        mx_put_lenenc_str(&pb, f[i], strlen(f[i]));
    mx_put_u8(&pb, 0x0c);
    mx_put_u16(&pb, 33);
    mx_put_u32(&pb, 192);
    mx_put_u8(&pb, type);
    mx_put_u16(&pb, 0);
    mx_put_u8(&pb, 0);
    mx_put_u16(&pb, 0);
    mx_pkt_end(&pb);
    memmove(b, b + 4, pb.len - 4);
    return pb.len - 4;
}

/* Field i (0-based lenenc string) of a payload, as a C string. */
static const char *field(const uint8_t *p, size_t len, int i, char *buf)
{
    mx_rd_t r;
    mx_str_t s = {0};
    mx_rd_init(&r, p, len);
    for (int k = 0; k <= i; k++)
        if (!mx_rd_lenenc_str(&r, &s))
            return "<bad>";
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    return buf;
}

static void test_coldef(void)
{
    uint8_t in[512];
    char buf[512];
    mx_smap_rs_t rs;
    mx_pktbuf_t out;
    mx_pktbuf_init(&out);
    mx_smap_rs_begin(&rs);

    /* An ordinary table of a mapped database: the schema field is mapped. */
    size_t n = coldef(in, "app_db", "t", "id", "id", 3);
    ASSERT_EQ(mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 2), 1);
    ASSERT_EQ(out.data[3], 2);
    ASSERT_STR_EQ(field(out.data + 4, out.len - 4, 1, buf), "app-db");
    ASSERT_STR_EQ(field(out.data + 4, out.len - 4, 4, buf), "id");
    ASSERT_EQ(out.len - 4, n + 0); /* same length: "app_db" -> "app-db" */
    ASSERT_TRUE(!rs.any);

    /* Another database: untouched. */
    mx_pktbuf_reset(&out);
    n = coldef(in, "other", "t", "id", "id", 3);
    ASSERT_EQ(mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 2), 0);
    ASSERT_EQ(out.len, 0);

    /* information_schema's schema columns are marked for their values. */
    n = coldef(in, "information_schema", "TABLES", "TABLE_CAT", "TABLE_SCHEMA", 253);
    ASSERT_EQ(mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 3), 0);
    ASSERT_TRUE(rs.any);
    ASSERT_EQ(rs.ncols, 3);
    ASSERT_TRUE(rs.map[0] & 4);
    ASSERT_EQ(rs.type[2], 253);

    /* SHOW TABLES' column and manx's DATABASE() literal are renamed. */
    mx_pktbuf_reset(&out);
    n = coldef(in, "information_schema", "TABLE_NAMES", "Tables_in_app_db (t%)", "TABLE_NAME", 253);
    ASSERT_EQ(mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 4), 1);
    ASSERT_STR_EQ(field(out.data + 4, out.len - 4, 4, buf), "Tables_in_app-db (t%)");
    mx_pktbuf_reset(&out);
    n = coldef(in, "information_schema", "TABLE_NAMES", "Tables_in_app_dbx", "TABLE_NAME", 253);
    ASSERT_EQ(mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 4), 0);
    mx_pktbuf_reset(&out);
    n = coldef(in, "", "", "CONCAT('db=', " MX_SMAP_DBF_PREFIX "6170702d6462" MX_SMAP_DBF_SUFFIX ")", "", 253);
    ASSERT_EQ(mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 5), 1);
    ASSERT_STR_EQ(field(out.data + 4, out.len - 4, 4, buf), "CONCAT('db=', DATABASE())");
    /* A prefix cut short (a long name the server truncated) stays. */
    mx_pktbuf_reset(&out);
    n = coldef(in, "", "", "x" MX_SMAP_DBF_PREFIX "61", "", 253);
    ASSERT_EQ(mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 5), 0);

    /* Truncated definitions are malformed, never read past the end. */
    n = coldef(in, "app_db", "t", "id", "id", 3);
    for (size_t k = 0; k < n - 1; k++) {
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, in, k);
        mx_smap_rs_t r2;
        mx_smap_rs_begin(&r2);
        mx_pktbuf_reset(&out);
        ASSERT_EQ(mx_smap_coldef(pairs, NP, &r2, false, cut, k, &out, 2), -1);
        free(cut);
    }
    mx_pktbuf_free(&out);
}

static void test_rows(void)
{
    uint8_t in[512];
    mx_smap_rs_t rs;
    mx_pktbuf_t out;
    mx_pktbuf_init(&out);
    mx_smap_rs_begin(&rs);
    size_t n = coldef(in, "information_schema", "TABLES", "TABLE_SCHEMA", "TABLE_SCHEMA", 253);
    mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 2);
    n = coldef(in, "information_schema", "TABLES", "TABLE_NAME", "TABLE_NAME", 253);
    mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 3);
    n = coldef(in, "information_schema", "TABLES", "TABLE_ROWS", "TABLE_ROWS", 8);
    mx_smap_coldef(pairs, NP, &rs, false, in, n, &out, 4);

    /* Text row: app_db | app_db | NULL -> only the schema column changes. */
    static const uint8_t row[] = {6, 'a', 'p', 'p', '_', 'd', 'b', 6, 'a', 'p', 'p', '_', 'd', 'b', 0xFB};
    mx_pktbuf_reset(&out);
    ASSERT_EQ(mx_smap_row(pairs, NP, &rs, false, row, sizeof(row), &out, 7), 1);
    static const uint8_t want[] = {6, 'a', 'p', 'p', '-', 'd', 'b', 6, 'a', 'p', 'p', '_', 'd', 'b', 0xFB};
    ASSERT_EQ(out.len - 4, sizeof(want));
    ASSERT_MEM_EQ(out.data + 4, want, sizeof(want));
    ASSERT_EQ(out.data[3], 7);
    /* Short name "x" grows to "logical_x". */
    static const uint8_t row2[] = {1, 'x', 1, 't', 1, '5'};
    mx_pktbuf_reset(&out);
    ASSERT_EQ(mx_smap_row(pairs, NP, &rs, false, row2, sizeof(row2), &out, 7), 1);
    ASSERT_EQ(out.len - 4, sizeof(row2) + 8);
    ASSERT_EQ(out.data[4], 9);
    /* Not a mapped name: untouched. */
    static const uint8_t row3[] = {5, 'o', 't', 'h', 'e', 'r', 1, 't', 0xFB};
    mx_pktbuf_reset(&out);
    ASSERT_EQ(mx_smap_row(pairs, NP, &rs, false, row3, sizeof(row3), &out, 7), 0);
    /* Binary row: header, null bitmap (3 cols: 1 byte; TABLE_ROWS NULL =
     * bit 4), two lenenc strings. */
    static const uint8_t brow[] = {0x00, 0x10, 6, 'a', 'p', 'p', '_', 'd', 'b', 1, 't'};
    mx_pktbuf_reset(&out);
    ASSERT_EQ(mx_smap_row(pairs, NP, &rs, true, brow, sizeof(brow), &out, 7), 1);
    ASSERT_EQ(out.data[4 + 0], 0);
    ASSERT_EQ(out.data[4 + 1], 0x10);
    ASSERT_MEM_EQ(out.data + 4 + 3, "app-db", 6);
    /* Every truncation is malformed or unchanged, never a read past the end. */
    for (size_t k = 0; k < sizeof(row); k++) {
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, row, k);
        mx_pktbuf_reset(&out);
        ASSERT_TRUE(mx_smap_row(pairs, NP, &rs, false, cut, k, &out, 7) == -1);
        free(cut);
    }
    mx_pktbuf_free(&out);
}

static void test_err(void)
{
    mx_pktbuf_t out;
    mx_pktbuf_init(&out);
    static const char msg[] = "\xff\x7a\x04#42S02Table 'app_db.t' doesn't exist in `app_db` not app_dbx or app_db";
    ASSERT_EQ(mx_smap_err(pairs, NP, (const uint8_t *)msg, sizeof(msg) - 1, &out, 1), 1);
    const char *want = "\xff\x7a\x04#42S02Table 'app-db.t' doesn't exist in `app-db` not app_dbx or app_db";
    ASSERT_EQ(out.len - 4, strlen(want));
    ASSERT_MEM_EQ(out.data + 4, want, strlen(want));
    static const char other[] = "\xff\x7a\x04#42S02Table 'app_dbx.t' doesn't exist";
    mx_pktbuf_reset(&out);
    ASSERT_EQ(mx_smap_err(pairs, NP, (const uint8_t *)other, sizeof(other) - 1, &out, 1), 0);
    /* A name at the very end, unterminated: untouched. */
    static const char end[] = "\xff\x7a\x04#42S02x 'app_db";
    mx_pktbuf_reset(&out);
    ASSERT_EQ(mx_smap_err(pairs, NP, (const uint8_t *)end, sizeof(end) - 1, &out, 1), 0);
    mx_pktbuf_free(&out);
}

int main(void)
{
    test_coldef();
    test_rows();
    test_err();
    return mx_test_summary("schemamap");
}
