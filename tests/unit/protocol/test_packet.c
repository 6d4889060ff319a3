/* Tests for the packet codec: length-encoded values, packet framing, the
 * handshake, OK, ERR, EOF and prepare parsers on packets captured from
 * MariaDB 10.11 and its clients (libmariadb 3.3 and PyMySQL 1.0), session
 * state iteration, and the writers, checked byte for byte against the
 * server's own packets where the server sends the same thing. */
#include <stdbool.h>
#include <stdlib.h>

#include "protocol/auth.h"
#include "protocol/packet.h"
#include "test.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* Copies hex bytes into an exact-size heap block so ASan sees any read past
 * the payload. */
static uint8_t *payload(const char *hex, size_t *len)
{
    uint8_t tmp[1024];
    *len = unhex(hex, tmp, sizeof(tmp));
    uint8_t *p = malloc(*len ? *len : 1);
    memcpy(p, tmp, *len);
    return p;
}

static bool str_is(mx_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

#define ASSERT_MXSTR(s, want) do { ASSERT_TRUE(str_is((s), (want))); \
    if (!str_is((s), (want))) fprintf(stderr, "    got \"%.*s\"\n", (int)(s).len, (const char *)(s).p); \
    } while (0)

/* ---- captured packets (payloads, without the 4-byte header) ------------ */

/* Initial handshake of mariadbd 10.11.19 and the scramble in it. */
static const char hs_mariadb[] =
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100070000002c65392d7174715d00"
    "fef7080200ff81150000000000001d0000005d3a4a47633e4936725c577b006d7973716c5f6e61746976655f7061"
    "7373776f726400";
static const char hs_mariadb_scramble[] = ",e9-qtq]]:JGc>I6r\\W{";

/* `mariadb -uproto -psecret -D t` (libmariadb 3.3.20) and the handshake it
 * answered. */
static const char cli_hs[] =
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100060000007221492e485e222b00"
    "fef7080200ff81150000000000001d000000523a6d36657b592b684e2c31006d7973716c5f6e61746976655f7061"
    "7373776f726400";
static const char cli_resp[] =
    "8ca2bf000000100021000000000000000000000000000000000000001d00000070726f746f0014c05402031b747a4d"
    "4c20344d1b794ed3842fffc874006d7973716c5f6e61746976655f70617373776f7264007e035f6f73054c696e7578"
    "0c5f636c69656e745f6e616d650a6c69626d617269616462045f70696404383538380f5f636c69656e745f76657273"
    "696f6e06332e332e3230095f706c6174666f726d067838365f36340c70726f6772616d5f6e616d65056d7973716c0c"
    "5f7365727665725f686f7374093132372e302e302e31";
/* The server's OK to it: session state says the schema is now "t". */
static const char cli_ok[] = "00000002400000000401020174";

/* PyMySQL 1.0.2, user proto, password secret, database t. */
static const char py_hs[] =
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531000b0000004b5c6b29282a387d00"
    "fef7080200ff81150000000000001d0000002e69496e6f63227c6c2b2f48006d7973716c5f6e61746976655f7061"
    "7373776f726400";
static const char py_resp[] =
    "0da23a00ffffff002d000000000000000000000000000000000000000000000070726f746f0014863956124c74d62d"
    "3903b4ec38a370805b07e31c74006d7973716c5f6e61746976655f70617373776f726400360c5f636c69656e745f6e"
    "616d650770796d7973716c045f7069640531363838390f5f636c69656e745f76657273696f6e05312e302e32";

/* OKs with CLIENT_SESSION_TRACK after SET session_track_system_variables='*'
 * and session_track_transaction_info='CHARACTERISTICS'. */
static const char ok_setnames[] = /* SET NAMES latin1, autocommit=0 */
    "000000004000000070000f0a6175746f636f6d6d6974034f4646001d156368617261637465725f7365745f72657375"
    "6c7473066c6174696e31001c146368617261637465725f7365745f636c69656e74066c6174696e3100201863686172"
    "61637465725f7365745f636f6e6e656374696f6e066c6174696e31";
static const char ok_sqlmode[] = "00000002400000000c000a0873716c5f6d6f646500"; /* SET sql_mode='' */
static const char ok_initdb[] = "0000000040000000080106056d7973716c";       /* COM_INIT_DB mysql */
static const char ok_starttrx[] = /* START TRANSACTION READ ONLY */
    "00000001600000002a050908545f5f5f5f5f5f5f041d1c5354415254205452414e53414354494f4e205245414420"
    "4f4e4c593b";
static const char ok_commit[] = "00000000400000000e0509085f5f5f5f5f5f5f5f040100";
static const char ok_insert[] = "00010002000000";
/* LOAD DATA LOCAL: same bytes with and without CLIENT_SESSION_TRACK. */
static const char ok_infile[] =
    "000200020000002f5265636f7264733a2032202044656c657465643a20302020536b69707065643a20302020576172"
    "6e696e67733a2030";

static const char err_notable[] =
    "ff7a042334325330325461626c652027742e6e6f6e65786973742720646f65736e2774206578697374";
/* Column definition of t.a.name (VARCHAR(20), latin1) as sent by MariaDB. */
static const char coldef_name[] =
    "03646566017401610161046e616d65046e616d650c2d0050000000fd0000000000";
static const char row_2_null[] = "0132fb03322e35";
static const char prepare_ok[] = "000100000002000200000000";

/* ---- length-encoded integers ------------------------------------------- */

static void test_lenenc(void)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"}, {1, "01"}, {250, "fa"}, {251, "fcfb00"}, {0xffff, "fcffff"},
        {0x10000, "fd000001"}, {0xffffff, "fdffffff"}, {0x1000000, "fe0000000100000000"},
        {UINT64_MAX, "feffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t want[16], *got;
        size_t n = unhex(cases[i].hex, want, sizeof(want));
        uint64_t v = 12345;
        mx_pktbuf_t b;

        ASSERT_EQ(mx_lenenc_size(cases[i].v), n);
        mx_pktbuf_init(&b);
        mx_put_lenenc(&b, cases[i].v);
        ASSERT_EQ(b.len, n);
        ASSERT_MEM_EQ(b.data, want, n);
        mx_pktbuf_free(&b);

        ASSERT_EQ(mx_lenenc_decode(want, n, &v), (int)n);
        ASSERT_TRUE(v == cases[i].v);
        /* Every shorter prefix asks for more bytes. */
        for (size_t k = 0; k < n; k++)
            ASSERT_EQ(mx_lenenc_decode(want, k, &v), 0);

        got = malloc(n);
        memcpy(got, want, n);
        mx_rd_t r;
        bool is_null = true;
        mx_rd_init(&r, got, n);
        ASSERT_TRUE(mx_rd_lenenc(&r, &v, &is_null));
        ASSERT_TRUE(!is_null && v == cases[i].v && mx_rd_left(&r) == 0 && !r.bad);
        mx_rd_init(&r, got, n - 1);
        ASSERT_TRUE(!mx_rd_lenenc(&r, &v, NULL));
        ASSERT_TRUE(r.bad && r.p == got);
        free(got);
    }

    /* 0xFB is NULL only where the caller allows it; 0xFF never. */
    static const uint8_t null_byte[] = {0xfb}, ff[] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0};
    uint64_t v = 7;
    bool is_null = false;
    mx_rd_t r;
    ASSERT_EQ(mx_lenenc_decode(null_byte, 1, &v), -1);
    ASSERT_EQ(mx_lenenc_decode(ff, sizeof(ff), &v), -1);
    mx_rd_init(&r, null_byte, 1);
    ASSERT_TRUE(mx_rd_lenenc(&r, &v, &is_null));
    ASSERT_TRUE(is_null && v == 0 && mx_rd_left(&r) == 0);
    mx_rd_init(&r, null_byte, 1);
    ASSERT_TRUE(!mx_rd_lenenc(&r, &v, NULL) && r.bad);
    mx_rd_init(&r, ff, sizeof(ff));
    ASSERT_TRUE(!mx_rd_lenenc(&r, &v, &is_null) && r.bad && r.p == ff);

    /* Length-encoded strings whose length runs past the payload. */
    static const uint8_t s_ok[] = {3, 'a', 'b', 'c', 9}, s_short[] = {4, 'a', 'b', 'c'};
    static const uint8_t s_big[] = {0xfe, 0, 0, 0, 0, 0, 0, 0, 0x80, 'x'};
    mx_str_t s;
    mx_rd_init(&r, s_ok, sizeof(s_ok));
    ASSERT_TRUE(mx_rd_lenenc_str(&r, &s));
    ASSERT_MXSTR(s, "abc");
    ASSERT_EQ(mx_rd_left(&r), 1);
    mx_rd_init(&r, s_short, sizeof(s_short));
    ASSERT_TRUE(!mx_rd_lenenc_str(&r, &s) && r.bad && r.p == s_short);
    mx_rd_init(&r, s_big, sizeof(s_big));
    ASSERT_TRUE(!mx_rd_lenenc_str(&r, &s) && r.p == s_big);
}

static void test_reader(void)
{
    static const uint8_t d[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                'h', 'i', 0, 'x', 'y'};
    mx_rd_t r;
    uint64_t v;
    uint8_t u;
    mx_str_t s;

    mx_rd_init(&r, d, sizeof(d));
    ASSERT_TRUE(mx_rd_u8(&r, &u) && u == 1);
    ASSERT_TRUE(mx_rd_fixed(&r, 2, &v) && v == 0x0302);
    ASSERT_TRUE(mx_rd_fixed(&r, 3, &v) && v == 0x060504);
    ASSERT_TRUE(!mx_rd_fixed(&r, 9, &v) && r.bad);
    r.bad = false;
    ASSERT_TRUE(mx_rd_fixed(&r, 3, &v) && v == 0x090807);
    ASSERT_TRUE(mx_rd_nulstr(&r, &s));
    ASSERT_MXSTR(s, "hi");
    ASSERT_TRUE(!mx_rd_nulstr(&r, &s) && r.bad);
    ASSERT_EQ(mx_rd_left(&r), 2);
    ASSERT_TRUE(!mx_rd_bytes(&r, 3, &s));
    ASSERT_TRUE(mx_rd_eofstr(&r, &s));
    ASSERT_MXSTR(s, "xy");
    ASSERT_TRUE(!mx_rd_u8(&r, &u));

    mx_rd_init(&r, d, 8);
    ASSERT_TRUE(mx_rd_fixed(&r, 8, &v) && v == 0x0807060504030201ull);
}

/* ---- framing ----------------------------------------------------------- */

static void test_framing(void)
{
    mx_pktbuf_t b;
    uint8_t mem[16];

    mx_pktbuf_init(&b);
    mx_pkt_begin(&b, 7);
    mx_put_u8(&b, 0x0e);
    mx_pkt_end(&b);
    mx_pkt_begin(&b, 8);
    mx_put_u16(&b, 0x0201);
    mx_put_u24(&b, 0x050403);
    mx_put_u32(&b, 0x09080706);
    mx_put_u64(&b, 0x11100f0e0d0c0b0aull);
    mx_put_zeros(&b, 2);
    mx_put_cstr(&b, "ab");
    mx_put_lenenc_str(&b, "cd", 2);
    mx_pkt_end(&b);
    ASSERT_TRUE(!b.failed);
    static const uint8_t want[] = {1, 0, 0, 7, 0x0e, 25, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0, 0, 'a', 'b', 0, 2, 'c', 'd'};
    ASSERT_EQ(b.len, sizeof(want));
    ASSERT_MEM_EQ(b.data, want, sizeof(want));
    ASSERT_EQ(mx_pkt_len(b.data + 5), 25);
    ASSERT_EQ(mx_pkt_seq(b.data + 5), 8);
    mx_pktbuf_reset(&b);
    ASSERT_EQ(b.len, 0);
    mx_pkt_eof(&b, 3, 1, MX_STATUS_AUTOCOMMIT);
    static const uint8_t eof[] = {5, 0, 0, 3, 0xfe, 1, 0, 2, 0};
    ASSERT_EQ(b.len, sizeof(eof));
    ASSERT_MEM_EQ(b.data, eof, sizeof(eof));

    /* The largest payload one packet holds is 0xFFFFFE bytes; at 0xFFFFFF
     * the protocol needs a continuation packet, which manx never builds. */
    mx_pktbuf_reset(&b);
    mx_pkt_begin(&b, 0);
    mx_put_zeros(&b, MX_PKT_MAX - 1);
    mx_pkt_end(&b);
    ASSERT_TRUE(!b.failed);
    ASSERT_EQ(mx_pkt_len(b.data), MX_PKT_MAX - 1);
    ASSERT_EQ(b.len, MX_PKT_MAX - 1 + MX_PKT_HDR);
    mx_pkt_begin(&b, 1);
    mx_put_zeros(&b, MX_PKT_MAX - 1);
    mx_put_u8(&b, 0);
    mx_pkt_end(&b);
    ASSERT_TRUE(b.failed);
    mx_put_u8(&b, 1);             /* sticky: nothing more is written */
    ASSERT_EQ(b.len, 2 * (MX_PKT_MAX - 1 + MX_PKT_HDR));
    mx_pktbuf_free(&b);

    /* A header announcing 0xFFFFFF bytes means "continued". */
    static const uint8_t hdr[] = {0xff, 0xff, 0xff, 3};
    ASSERT_EQ(mx_pkt_len(hdr), MX_PKT_MAX);
    ASSERT_EQ(mx_pkt_seq(hdr), 3);

    /* Fixed buffers never grow. */
    mx_pktbuf_init_fixed(&b, mem, sizeof(mem));
    mx_pkt_begin(&b, 0);
    mx_put_bytes(&b, "0123456789", 10);
    mx_pkt_end(&b);
    ASSERT_TRUE(!b.failed && b.len == 14 && b.data == mem);
    mx_pkt_begin(&b, 1);
    ASSERT_TRUE(b.failed);
    ASSERT_TRUE(b.data == mem);
    mx_pktbuf_reset(&b);
    ASSERT_TRUE(!b.failed);
    mx_pktbuf_free(&b);           /* must not free caller memory */
}

/* ---- handshakes -------------------------------------------------------- */

static void test_handshake_parse(void)
{
    size_t len;
    uint8_t *p = payload(hs_mariadb, &len);
    mx_handshake_t hs;

    ASSERT_EQ(mx_parse_handshake(p, len, &hs), 0);
    ASSERT_EQ(hs.protocol, 10);
    ASSERT_MXSTR(hs.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
    ASSERT_EQ(hs.conn_id, 7);
    ASSERT_EQ(hs.scramble_len, MX_SCRAMBLE_LEN);
    ASSERT_MEM_EQ(hs.scramble, hs_mariadb_scramble, MX_SCRAMBLE_LEN);
    ASSERT_EQ(hs.scramble[MX_SCRAMBLE_LEN], 0);
    ASSERT_EQ(hs.caps, 0x81fff7fe);
    ASSERT_EQ(hs.charset, 8);
    ASSERT_EQ(hs.status, MX_STATUS_AUTOCOMMIT);
    ASSERT_MXSTR(hs.auth_plugin, "mysql_native_password");

    /* Every truncation fails cleanly or parses what is there. */
    for (size_t k = 0; k < len; k++) {
        uint8_t *q = malloc(k ? k : 1);
        memcpy(q, p, k);
        int rc = mx_parse_handshake(q, k, &hs);
        ASSERT_TRUE(rc == 0 || rc == -1);
        if (k < 1 + 33 + 4 + 8 + 1 + 2)
            ASSERT_EQ(rc, -1);
        free(q);
    }
    p[0] = 9;
    ASSERT_EQ(mx_parse_handshake(p, len, &hs), -1);
    free(p);
}

static void test_handshake_roundtrip(void)
{
    static const uint8_t scr[MX_SCRAMBLE_LEN] = "abcdefgh0123456789AB";
    static const uint32_t caps_set[] = {
        MX_CLIENT_PROTOCOL_41 | MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_PLUGIN_AUTH |
            MX_CLIENT_CONNECT_WITH_DB | MX_CLIENT_SESSION_TRACK | MX_CLIENT_DEPRECATE_EOF,
        MX_CLIENT_PROTOCOL_41 | MX_CLIENT_SECURE_CONNECTION,
        MX_CLIENT_PROTOCOL_41,
    };
    for (size_t i = 0; i < sizeof(caps_set) / sizeof(caps_set[0]); i++) {
        mx_pktbuf_t b;
        mx_handshake_t hs;
        uint32_t caps = caps_set[i];

        mx_pktbuf_init(&b);
        mx_pkt_handshake(&b, "5.7.99-manx", 0x01020304, scr, caps, 0, 45, MX_STATUS_AUTOCOMMIT,
                         "caching_sha2_password");
        ASSERT_TRUE(!b.failed);
        ASSERT_EQ(mx_pkt_seq(b.data), 0);
        ASSERT_EQ(mx_pkt_len(b.data), b.len - MX_PKT_HDR);
        ASSERT_EQ(mx_parse_handshake(b.data + 4, b.len - 4, &hs), 0);
        ASSERT_MXSTR(hs.server_version, "5.7.99-manx");
        ASSERT_EQ(hs.conn_id, 0x01020304);
        ASSERT_EQ(hs.caps, caps);
        ASSERT_EQ(hs.charset, 45);
        ASSERT_EQ(hs.status, MX_STATUS_AUTOCOMMIT);
        if (caps & MX_CLIENT_SECURE_CONNECTION) {
            ASSERT_EQ(hs.scramble_len, MX_SCRAMBLE_LEN);
            ASSERT_MEM_EQ(hs.scramble, scr, MX_SCRAMBLE_LEN);
        } else {
            ASSERT_EQ(hs.scramble_len, 8);
        }
        if (caps & MX_CLIENT_PLUGIN_AUTH)
            ASSERT_MXSTR(hs.auth_plugin, "caching_sha2_password");
        else
            ASSERT_EQ(hs.auth_plugin.len, 0);
        /* The 10 reserved bytes stay zero: no MariaDB extended caps. */
        size_t reserved = 4 + 1 + strlen("5.7.99-manx") + 1 + 4 + 9 + 2 + 1 + 2 + 2 + 1;
        static const uint8_t zeros[10];
        ASSERT_MEM_EQ(b.data + reserved, zeros, 10);
        if (i == 0) {
            /* auth-plugin-data length 21, then part 2 with its NUL */
            ASSERT_EQ(b.data[reserved - 1], 21);
            ASSERT_EQ(b.data[reserved + 10 + 12], 0);
        }
        mx_pktbuf_free(&b);
    }
}

static void test_hsresp_libmariadb(void)
{
    size_t len, hs_len;
    uint8_t *p = payload(cli_resp, &len);
    uint8_t *h = payload(cli_hs, &hs_len);
    mx_hsresp_t hr;
    mx_handshake_t hs;
    uint8_t stage2[MX_SHA1_LEN];

    ASSERT_EQ(mx_parse_hsresp(p, len, &hr), 0);
    ASSERT_EQ(hr.caps, 0x00bfa28c);
    ASSERT_TRUE(hr.caps & MX_CLIENT_PLUGIN_AUTH_LENENC);
    ASSERT_EQ(hr.max_packet, 0x100000);
    ASSERT_EQ(hr.charset, 0x21);
    ASSERT_TRUE(!hr.is_ssl_request);
    ASSERT_MXSTR(hr.user, "proto");
    ASSERT_EQ(hr.auth.len, 20);
    ASSERT_MXSTR(hr.db, "t");
    ASSERT_MXSTR(hr.plugin, "mysql_native_password");
    ASSERT_EQ(hr.attrs.len, 0x7e);
    ASSERT_TRUE(hr.attrs.p + hr.attrs.len == p + len);
    ASSERT_EQ(hr.attrs.p[0], 3);
    ASSERT_TRUE(memcmp(hr.attrs.p + 1, "_os", 3) == 0);

    /* The captured response really is "secret" under the captured scramble. */
    ASSERT_EQ(mx_parse_handshake(h, hs_len, &hs), 0);
    mx_native_stage2("secret", 6, stage2);
    ASSERT_TRUE(mx_native_check(hs.scramble, hr.auth.p, hr.auth.len, stage2, false));
    mx_native_stage2("secreT", 6, stage2);
    ASSERT_TRUE(!mx_native_check(hs.scramble, hr.auth.p, hr.auth.len, stage2, false));

    /* Every truncation: never out of bounds, and once the user name is
     * complete, later fields may be missing. */
    for (size_t k = 0; k < len; k++) {
        uint8_t *q = malloc(k ? k : 1);
        memcpy(q, p, k);
        int rc = mx_parse_hsresp(q, k, &hr);
        if (k < 32 + 6)
            ASSERT_EQ(rc, -1);
        if (k == 32 + 6)
            ASSERT_TRUE(rc == 0 && str_is(hr.user, "proto") && hr.auth.len == 0);
        free(q);
    }
    free(p);
    free(h);
}

static void test_hsresp_pymysql(void)
{
    size_t len, hs_len;
    uint8_t *p = payload(py_resp, &len);
    uint8_t *h = payload(py_hs, &hs_len);
    mx_hsresp_t hr;
    mx_handshake_t hs;
    uint8_t stage2[MX_SHA1_LEN];

    ASSERT_EQ(mx_parse_hsresp(p, len, &hr), 0);
    ASSERT_EQ(hr.caps, 0x003aa20d);
    ASSERT_EQ(hr.max_packet, 0x00ffffff);
    ASSERT_EQ(hr.charset, 45);
    ASSERT_MXSTR(hr.user, "proto");
    ASSERT_MXSTR(hr.db, "t");
    ASSERT_MXSTR(hr.plugin, "mysql_native_password");
    ASSERT_EQ(hr.attrs.len, 0x36);
    ASSERT_EQ(mx_parse_handshake(h, hs_len, &hs), 0);
    ASSERT_TRUE(mx_native_parse_hash("*14E65567ABDB5135D0CFD9A70B3032C179A49EE7", stage2));
    ASSERT_TRUE(mx_native_check(hs.scramble, hr.auth.p, hr.auth.len, stage2, false));
    free(p);
    free(h);
}

static void test_hsresp_variants(void)
{
    mx_pktbuf_t b;
    mx_hsresp_t hr;
    static const uint8_t auth[20] = "0123456789abcdefghij";
    uint32_t base = MX_CLIENT_PROTOCOL_41 | MX_CLIENT_SECURE_CONNECTION;

    /* SSLRequest: exactly 32 bytes with CLIENT_SSL. */
    mx_pktbuf_init(&b);
    mx_pkt_ssl_request(&b, 1, base, 0, 0x1000000, 45);
    ASSERT_EQ(b.len, 4 + 32);
    ASSERT_EQ(mx_pkt_seq(b.data), 1);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, 32, &hr), 0);
    ASSERT_TRUE(hr.is_ssl_request);
    ASSERT_EQ(hr.caps, base | MX_CLIENT_SSL);
    ASSERT_EQ(hr.max_packet, 0x1000000);
    ASSERT_EQ(hr.charset, 45);
    /* 32 bytes without CLIENT_SSL is a response missing its user name. */
    b.data[4 + 1] &= (uint8_t)~(MX_CLIENT_SSL >> 8);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, 32, &hr), -1);
    /* The 3.20 response is not spoken. */
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, MX_CLIENT_SECURE_CONNECTION, 0, 0, 8, "u", auth, 20, NULL, NULL);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 4, &hr), -1);

    /* What manx sends to a backend parses back, in each auth framing. */
    static const uint32_t extra[] = {
        0,
        MX_CLIENT_PLUGIN_AUTH | MX_CLIENT_CONNECT_WITH_DB,
        MX_CLIENT_PLUGIN_AUTH_LENENC | MX_CLIENT_PLUGIN_AUTH | MX_CLIENT_CONNECT_WITH_DB,
    };
    for (size_t i = 0; i < 3; i++) {
        uint32_t caps = base | extra[i];
        mx_pktbuf_reset(&b);
        mx_pkt_hsresp(&b, 1, caps, 0, 0xffffff, 8, "app", auth, 20, "shop", "mysql_native_password");
        ASSERT_TRUE(!b.failed);
        ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 4, &hr), 0);
        ASSERT_EQ(hr.caps, caps);
        ASSERT_EQ(hr.max_packet, 0xffffff);
        ASSERT_EQ(hr.charset, 8);
        ASSERT_MXSTR(hr.user, "app");
        ASSERT_EQ(hr.auth.len, 20);
        ASSERT_MEM_EQ(hr.auth.p, auth, 20);
        ASSERT_MXSTR(hr.db, (caps & MX_CLIENT_CONNECT_WITH_DB) ? "shop" : "");
        ASSERT_MXSTR(hr.plugin, (caps & MX_CLIENT_PLUGIN_AUTH) ? "mysql_native_password" : "");
        ASSERT_EQ(hr.attrs.len, 0);
    }
    /* The layout, byte for byte, with the lenenc auth. */
    static const uint8_t want_head[] = {0x08, 0x82, 0x28, 0x00, 0xff, 0xff, 0xff, 0x00, 8};
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, base | extra[2], 0, 0xffffff, 8, "app", auth, 20, "shop", "p");
    ASSERT_MEM_EQ(b.data + 4, want_head, sizeof(want_head));
    ASSERT_MEM_EQ(b.data + 4 + 32, "app\0\x14" "0123456789abcdefghij" "shop\0p\0", 4 + 1 + 20 + 5 + 2);
    ASSERT_EQ(b.len, 4 + 32 + 4 + 1 + 20 + 5 + 2);
    /* A 1-byte length cannot carry more than 255 bytes of auth data. */
    uint8_t big[300] = {0};
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, base, 0, 0, 8, "u", big, sizeof(big), NULL, NULL);
    ASSERT_TRUE(b.failed);
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, base | MX_CLIENT_PLUGIN_AUTH_LENENC, 0, 0, 8, "u", big, sizeof(big), NULL, NULL);
    ASSERT_TRUE(!b.failed);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 4, &hr), 0);
    ASSERT_EQ(hr.auth.len, 300);

    /* Old clients: NUL-terminated auth without SECURE_CONNECTION, and a
     * plugin name that runs to the end without its NUL. */
    static const uint8_t old[] = {0x08, 0x02, 0x08, 0x00, 0, 0, 0, 1, 8,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        'r', 'o', 'o', 't', 0, 'x', 'y', 0, 'd', 'b', 0, 'p', 'l'};
    uint8_t *q = malloc(sizeof(old));
    memcpy(q, old, sizeof(old));
    ASSERT_EQ(mx_parse_hsresp(q, sizeof(old), &hr), 0);
    ASSERT_MXSTR(hr.user, "root");
    ASSERT_MXSTR(hr.auth, "xy");
    ASSERT_MXSTR(hr.db, "db");
    ASSERT_MXSTR(hr.plugin, "pl");
    /* A lenenc auth claiming more than is there. */
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, base | MX_CLIENT_PLUGIN_AUTH_LENENC, 0, 0, 8, "u", auth, 20, NULL, NULL);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 5, &hr), -1);
    free(q);
    mx_pktbuf_free(&b);
}

/* mysql_change_user(m, "proto", "secret", "mysql") from libmariadb 3.3.20,
 * which negotiated capabilities 0x00bea28c. */
static const char cu_libmariadb[] =
    "1170726f746f0014b125d9f96d1bd7a42ba4beb1973697398a0f09a56d7973716c002d006d7973716c5f6e61746976"
    "655f70617373776f7264006c035f6f73054c696e75780c5f636c69656e745f6e616d650a6c69626d61726961646204"
    "5f7069640532343038350f5f636c69656e745f76657273696f6e06332e332e3230095f706c6174666f726d06783836"
    "5f36340c5f7365727665725f686f7374093132372e302e302e31";

static void test_change_user(void)
{
    {
        size_t len;
        uint8_t *p = payload(cu_libmariadb, &len);
        mx_change_user_t c;
        ASSERT_EQ(mx_parse_change_user(p, len, 0x00bea28c, &c), 0);
        ASSERT_MXSTR(c.user, "proto");
        ASSERT_EQ(c.auth.len, 20);
        ASSERT_EQ(c.auth.p[0], 0xb1);
        ASSERT_MXSTR(c.db, "mysql");
        ASSERT_EQ(c.charset, 45);
        ASSERT_MXSTR(c.plugin, "mysql_native_password");
        ASSERT_EQ(c.attrs.len, 0x6c);
        ASSERT_TRUE(c.attrs.p + c.attrs.len == p + len);
        free(p);
    }

    /* COM_CHANGE_USER as libmariadb builds it: user, 1-byte auth length,
     * db, charset, plugin, attributes. */
    static const uint8_t full[] = {0x11, 'b', 'o', 'b', 0, 3, 1, 2, 3, 'd', 'b', 0, 0x2d, 0x00,
        'm', 'y', 'p', 0, 4, 2, 'k', 1, 'v'};
    uint32_t caps = MX_CLIENT_PROTOCOL_41 | MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_PLUGIN_AUTH |
                    MX_CLIENT_CONNECT_ATTRS;
    mx_change_user_t cu;

    ASSERT_EQ(mx_parse_change_user(full, sizeof(full), caps, &cu), 0);
    ASSERT_MXSTR(cu.user, "bob");
    ASSERT_EQ(cu.auth.len, 3);
    ASSERT_EQ(cu.auth.p[2], 3);
    ASSERT_MXSTR(cu.db, "db");
    ASSERT_EQ(cu.charset, 45);
    ASSERT_MXSTR(cu.plugin, "myp");
    ASSERT_EQ(cu.attrs.len, 4);
    /* Without PLUGIN_AUTH / CONNECT_ATTRS the trailing bytes are ignored. */
    ASSERT_EQ(mx_parse_change_user(full, sizeof(full), MX_CLIENT_SECURE_CONNECTION, &cu), 0);
    ASSERT_EQ(cu.plugin.len, 0);
    ASSERT_EQ(cu.attrs.len, 0);
    /* Old layout: NUL-terminated auth. */
    static const uint8_t old[] = {0x11, 'b', 0, 'p', 'w', 0, 'd', 0};
    ASSERT_EQ(mx_parse_change_user(old, sizeof(old), 0, &cu), 0);
    ASSERT_MXSTR(cu.auth, "pw");
    ASSERT_MXSTR(cu.db, "d");
    ASSERT_EQ(cu.charset, 0);
    /* Truncations: the user name is required, the rest optional, and a cut
     * inside a length-prefixed field is malformed. */
    for (size_t k = 0; k < sizeof(full); k++) {
        uint8_t *q = malloc(k ? k : 1);
        memcpy(q, full, k);
        int rc = mx_parse_change_user(q, k, caps, &cu);
        if (k < 5 || (k >= 6 && k < 9) || k >= 19)
            ASSERT_EQ(rc, -1);
        else
            ASSERT_EQ(rc, 0);
        free(q);
    }
    static const uint8_t not_cu[] = {0x03, 'b', 0};
    ASSERT_EQ(mx_parse_change_user(not_cu, sizeof(not_cu), caps, &cu), -1);
}

/* ---- OK / EOF / ERR / prepare ------------------------------------------ */

static const uint32_t st_caps = MX_CLIENT_PROTOCOL_41 | MX_CLIENT_TRANSACTIONS |
    MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_SESSION_TRACK;

static void test_ok_parse(void)
{
    size_t len;
    uint8_t *p;
    mx_ok_t ok;

    p = payload(ok_insert, &len);
    ASSERT_EQ(mx_parse_ok(p, len, st_caps, &ok), 0);
    ASSERT_EQ(ok.affected_rows, 1);
    ASSERT_EQ(ok.last_insert_id, 0);
    ASSERT_EQ(ok.status, MX_STATUS_AUTOCOMMIT);
    ASSERT_EQ(ok.warnings, 0);
    ASSERT_EQ(ok.info.len, 0);
    ASSERT_EQ(ok.session_state.len, 0);
    ASSERT_EQ(mx_parse_ok(p, len, st_caps & ~MX_CLIENT_SESSION_TRACK, &ok), 0);
    ASSERT_EQ(ok.info.len, 0);
    /* Pre-4.1 layouts. */
    ASSERT_EQ(mx_parse_ok(p, len, MX_CLIENT_TRANSACTIONS, &ok), 0);
    ASSERT_EQ(ok.status, MX_STATUS_AUTOCOMMIT);
    ASSERT_EQ(ok.info.len, 2);
    ASSERT_EQ(mx_parse_ok(p, len, 0, &ok), 0);
    ASSERT_EQ(ok.status, 0);
    ASSERT_EQ(ok.info.len, 4);
    free(p);

    p = payload(ok_infile, &len);
    ASSERT_EQ(mx_parse_ok(p, len, st_caps, &ok), 0);
    ASSERT_EQ(ok.affected_rows, 2);
    ASSERT_MXSTR(ok.info, "Records: 2  Deleted: 0  Skipped: 0  Warnings: 0");
    ASSERT_EQ(mx_parse_ok(p, len, st_caps & ~MX_CLIENT_SESSION_TRACK, &ok), 0);
    ASSERT_MXSTR(ok.info, "Records: 2  Deleted: 0  Skipped: 0  Warnings: 0");
    free(p);
    /* The documented string<EOF> info still parses. */
    static const uint8_t eof_info[] = {0, 0, 0, 2, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    ASSERT_EQ(mx_parse_ok(eof_info, sizeof(eof_info), MX_CLIENT_PROTOCOL_41, &ok), 0);
    ASSERT_MXSTR(ok.info, "hello");

    p = payload(ok_setnames, &len);
    ASSERT_EQ(mx_parse_ok(p, len, st_caps, &ok), 0);
    ASSERT_EQ(ok.status, MX_STATUS_SESSION_STATE);
    ASSERT_EQ(ok.info.len, 0);
    ASSERT_EQ(ok.session_state.len, 0x70);
    ASSERT_TRUE(ok.session_state.p + ok.session_state.len == p + len);
    free(p);

    /* 0xFE header (end of rows under DEPRECATE_EOF) with warnings. */
    static const uint8_t fe_ok[] = {0xfe, 0, 0, 0x22, 0, 3, 0};
    ASSERT_EQ(mx_parse_ok(fe_ok, sizeof(fe_ok), st_caps | MX_CLIENT_DEPRECATE_EOF, &ok), 0);
    ASSERT_EQ(ok.status, 0x22);
    ASSERT_EQ(ok.warnings, 3);
    /* Big affected-row counts. */
    static const uint8_t big[] = {0, 0xfd, 1, 2, 3, 0xfc, 0xff, 0xff, 2, 0, 0, 0};
    ASSERT_EQ(mx_parse_ok(big, sizeof(big), st_caps, &ok), 0);
    ASSERT_EQ(ok.affected_rows, 0x030201);
    ASSERT_EQ(ok.last_insert_id, 0xffff);

    /* Malformed: wrong header, truncated status, session state too long. */
    static const uint8_t bad_hdr[] = {0x01, 0, 0, 2, 0, 0, 0};
    static const uint8_t short_st[] = {0x00, 0, 0, 2, 0, 0};
    static const uint8_t bad_state[] = {0x00, 0, 0, 0, 0x40, 0, 0, 0, 5, 1, 2};
    ASSERT_EQ(mx_parse_ok(bad_hdr, sizeof(bad_hdr), st_caps, &ok), -1);
    ASSERT_EQ(mx_parse_ok(short_st, sizeof(short_st), st_caps, &ok), -1);
    ASSERT_EQ(mx_parse_ok(bad_state, sizeof(bad_state), st_caps, &ok), -1);
    ASSERT_EQ(mx_parse_ok(bad_hdr, 0, st_caps, &ok), -1);
}

/* Runs the tracker over an OK and writes "type:name=value;" per entry. */
static int track_dump(const char *hex, char *out, size_t cap)
{
    size_t len;
    uint8_t *p = payload(hex, &len);
    mx_ok_t ok;
    mx_rd_t r;
    mx_track_t t;
    int rc, n = 0;

    out[0] = '\0';
    if (mx_parse_ok(p, len, st_caps, &ok) < 0) {
        free(p);
        return -2;
    }
    mx_rd_init(&r, ok.session_state.p, ok.session_state.len);
    while ((rc = mx_track_next(&r, &t)) > 0) {
        size_t used = strlen(out);
        if (t.type == MX_TRACK_SYSTEM_VARIABLES)
            snprintf(out + used, cap - used, "%d:%.*s=%.*s;", t.type, (int)t.name.len,
                     (const char *)t.name.p, (int)t.value.len, (const char *)t.value.p);
        else if (t.type == MX_TRACK_SCHEMA)
            snprintf(out + used, cap - used, "%d:%.*s;", t.type, (int)t.name.len,
                     (const char *)t.name.p);
        else
            snprintf(out + used, cap - used, "%d:[%.*s];", t.type, (int)t.data.len,
                     (const char *)t.data.p);
        n++;
    }
    free(p);
    return rc < 0 ? -1 : n;
}

static void test_track(void)
{
    char s[512];

    ASSERT_EQ(track_dump(ok_setnames, s, sizeof(s)), 4);
    ASSERT_STR_EQ(s, "0:autocommit=OFF;0:character_set_results=latin1;"
                     "0:character_set_client=latin1;0:character_set_connection=latin1;");
    ASSERT_EQ(track_dump(ok_sqlmode, s, sizeof(s)), 1);
    ASSERT_STR_EQ(s, "0:sql_mode=;");
    ASSERT_EQ(track_dump(ok_initdb, s, sizeof(s)), 1);
    ASSERT_STR_EQ(s, "1:mysql;");
    ASSERT_EQ(track_dump(cli_ok, s, sizeof(s)), 1);
    ASSERT_STR_EQ(s, "1:t;");
    /* Transaction entries keep their raw (length-encoded) data. */
    ASSERT_EQ(track_dump(ok_starttrx, s, sizeof(s)), 2);
    ASSERT_STR_EQ(s, "5:[\bT_______];4:[\x1cSTART TRANSACTION READ ONLY;];");
    ASSERT_EQ(track_dump(ok_commit, s, sizeof(s)), 2);
    ASSERT_STR_EQ(s, "5:[\b________];4:[];"); /* empty characteristics: "\0" */
    ASSERT_EQ(track_dump(ok_insert, s, sizeof(s)), 0);

    /* Malformed entries: data past the block, a variable without value, a
     * schema entry with a bad inner length. */
    static const uint8_t bad1[] = {0, 9, 1, 'a'};
    static const uint8_t bad2[] = {0, 2, 1, 'a'};
    static const uint8_t bad3[] = {1, 2, 5, 'a'};
    static const uint8_t bad4[] = {0};
    static const uint8_t *bads[] = {bad1, bad2, bad3, bad4};
    static const size_t bad_lens[] = {sizeof(bad1), sizeof(bad2), sizeof(bad3), sizeof(bad4)};
    for (size_t i = 0; i < 4; i++) {
        mx_rd_t r;
        mx_track_t t;
        mx_rd_init(&r, bads[i], bad_lens[i]);
        ASSERT_EQ(mx_track_next(&r, &t), -1);
        ASSERT_TRUE(r.bad);
        ASSERT_EQ(mx_track_next(&r, &t), -1);
    }
    /* Unknown types pass through untouched. */
    static const uint8_t unknown[] = {3, 2, 'x', 'y', 2, 0};
    mx_rd_t r;
    mx_track_t t;
    mx_rd_init(&r, unknown, sizeof(unknown));
    ASSERT_EQ(mx_track_next(&r, &t), 1);
    ASSERT_EQ(t.type, MX_TRACK_GTIDS);
    ASSERT_MXSTR(t.data, "xy");
    ASSERT_EQ(mx_track_next(&r, &t), 1);
    ASSERT_EQ(t.type, MX_TRACK_STATE_CHANGE);
    ASSERT_EQ(t.data.len, 0);
    ASSERT_EQ(mx_track_next(&r, &t), 0);
}

static void test_ok_reencode(void)
{
    size_t len;
    uint8_t *p;
    mx_ok_t ok;
    mx_pktbuf_t b;
    uint32_t plain = st_caps & ~MX_CLIENT_SESSION_TRACK;

    mx_pktbuf_init(&b);
    /* A tracking client gets the server's packet back unchanged. */
    p = payload(ok_setnames, &len);
    ASSERT_EQ(mx_parse_ok(p, len, st_caps, &ok), 0);
    mx_pkt_ok_reencode(&b, 1, 0x00, &ok, st_caps);
    ASSERT_TRUE(!b.failed);
    ASSERT_EQ(b.len - 4, len);
    ASSERT_MEM_EQ(b.data + 4, p, len);
    ASSERT_EQ(mx_pkt_seq(b.data), 1);
    /* Any other client: no state, no state flag. */
    mx_pktbuf_reset(&b);
    mx_pkt_ok_reencode(&b, 2, 0x00, &ok, plain);
    static const uint8_t stripped[] = {7, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ(b.len, sizeof(stripped));
    ASSERT_MEM_EQ(b.data, stripped, sizeof(stripped));
    free(p);

    /* info survives both ways, and non-tracking to non-tracking is exact. */
    p = payload(ok_infile, &len);
    ASSERT_EQ(mx_parse_ok(p, len, plain, &ok), 0);
    mx_pktbuf_reset(&b);
    mx_pkt_ok_reencode(&b, 1, 0x00, &ok, plain);
    ASSERT_EQ(b.len - 4, len);
    ASSERT_MEM_EQ(b.data + 4, p, len);
    mx_pktbuf_reset(&b);
    mx_pkt_ok_reencode(&b, 1, 0x00, &ok, st_caps);
    ASSERT_EQ(b.len - 4, len);
    ASSERT_MEM_EQ(b.data + 4, p, len);
    free(p);

    /* From a tracking backend, state and 0xFE header, to both kinds. */
    p = payload(ok_starttrx, &len);
    ASSERT_EQ(mx_parse_ok(p, len, st_caps, &ok), 0);
    ok.warnings = 2;
    ok.affected_rows = 300;
    for (int to_st = 0; to_st <= 1; to_st++) {
        mx_ok_t back;
        uint32_t caps = to_st ? st_caps : plain;
        mx_pktbuf_reset(&b);
        mx_pkt_ok_reencode(&b, 3, 0xfe, &ok, caps);
        ASSERT_EQ(b.data[4], 0xfe);
        ASSERT_EQ(mx_parse_ok(b.data + 4, b.len - 4, caps, &back), 0);
        ASSERT_EQ(back.affected_rows, 300);
        ASSERT_EQ(back.warnings, 2);
        ASSERT_EQ(back.status, to_st ? 0x6001 : 0x2001);
        ASSERT_EQ(back.session_state.len, to_st ? 0x2a : 0);
    }
    free(p);

    /* manx's own OKs, with and without an info text. */
    mx_pktbuf_reset(&b);
    mx_pkt_ok(&b, 1, plain, 0, 0, MX_STATUS_AUTOCOMMIT, 0, NULL);
    static const uint8_t want_plain[] = {7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
    ASSERT_EQ(b.len, sizeof(want_plain));
    ASSERT_MEM_EQ(b.data, want_plain, sizeof(want_plain));
    mx_pktbuf_reset(&b);
    mx_pkt_ok(&b, 1, st_caps, 5, 7, MX_STATUS_AUTOCOMMIT | MX_STATUS_SESSION_STATE, 1, "hi");
    static const uint8_t want_st[] = {10, 0, 0, 1, 0, 5, 7, 2, 0, 1, 0, 2, 'h', 'i'};
    ASSERT_EQ(b.len, sizeof(want_st));
    ASSERT_MEM_EQ(b.data, want_st, sizeof(want_st));
    mx_pktbuf_reset(&b);
    mx_pkt_ok(&b, 1, plain, 0, 0, 0, 0, "hi");
    ASSERT_EQ(mx_parse_ok(b.data + 4, b.len - 4, plain, &ok), 0);
    ASSERT_MXSTR(ok.info, "hi");
    ASSERT_EQ(b.data[11], 2);     /* length-encoded, as servers write it */
    mx_pktbuf_free(&b);
}

static void test_err(void)
{
    size_t len;
    uint8_t *p = payload(err_notable, &len);
    mx_err_t e;
    mx_pktbuf_t b;

    ASSERT_EQ(mx_parse_err(p, len, &e), 0);
    ASSERT_EQ(e.code, 1146);
    ASSERT_STR_EQ(e.sqlstate, "42S02");
    ASSERT_MXSTR(e.message, "Table 't.nonexist' doesn't exist");
    free(p);

    static const uint8_t no_state[] = {0xff, 0x10, 0x04, 'T', 'o', 'o'};
    ASSERT_EQ(mx_parse_err(no_state, sizeof(no_state), &e), 0);
    ASSERT_EQ(e.code, 1040);
    ASSERT_STR_EQ(e.sqlstate, "HY000");
    ASSERT_MXSTR(e.message, "Too");
    ASSERT_EQ(mx_parse_err(no_state, 2, &e), -1);
    ASSERT_EQ(mx_parse_err(no_state + 1, sizeof(no_state) - 1, &e), -1);

    mx_pktbuf_init(&b);
    mx_pkt_err(&b, 2, MX_ER_ACCESS_DENIED, "28000", "Access denied for user '%s'@'%s' (using password: %s)",
               "bob", "10.0.0.1", "YES");
    ASSERT_TRUE(!b.failed);
    ASSERT_EQ(mx_pkt_seq(b.data), 2);
    ASSERT_EQ(mx_pkt_len(b.data), b.len - 4);
    ASSERT_EQ(mx_parse_err(b.data + 4, b.len - 4, &e), 0);
    ASSERT_EQ(e.code, 1045);
    ASSERT_STR_EQ(e.sqlstate, "28000");
    ASSERT_MXSTR(e.message, "Access denied for user 'bob'@'10.0.0.1' (using password: YES)");
    /* Byte-identical to MariaDB's own for the same error. */
    mx_pktbuf_reset(&b);
    mx_pkt_err(&b, 1, 1146, "42S02", "Table '%s.%s' doesn't exist", "t", "nonexist");
    p = payload(err_notable, &len);
    ASSERT_EQ(b.len - 4, len);
    ASSERT_MEM_EQ(b.data + 4, p, len);
    free(p);
    /* A bad sqlstate falls back to HY000. */
    mx_pktbuf_reset(&b);
    mx_pkt_err(&b, 1, 1047, NULL, "x");
    ASSERT_EQ(mx_parse_err(b.data + 4, b.len - 4, &e), 0);
    ASSERT_STR_EQ(e.sqlstate, "HY000");
    mx_pktbuf_free(&b);
}

static void test_eof_prepare(void)
{
    uint16_t w = 99, s = 99;
    static const uint8_t eof5[] = {0xfe, 0x01, 0x00, 0x22, 0x00};
    static const uint8_t eof1[] = {0xfe};
    static const uint8_t nine[] = {0xfe, 0, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ(mx_parse_eof(eof5, sizeof(eof5), &w, &s), 0);
    ASSERT_EQ(w, 1);
    ASSERT_EQ(s, 0x22);
    ASSERT_EQ(mx_parse_eof(eof1, 1, &w, &s), 0);
    ASSERT_EQ(w, 0);
    ASSERT_EQ(s, 0);
    ASSERT_EQ(mx_parse_eof(nine, sizeof(nine), &w, &s), -1);
    ASSERT_EQ(mx_parse_eof(eof5, 3, &w, &s), -1);
    ASSERT_EQ(mx_parse_eof(eof5, 0, &w, &s), -1);
    ASSERT_EQ(mx_parse_eof(eof5 + 1, 4, &w, &s), -1);

    size_t len;
    uint8_t *p = payload(prepare_ok, &len);
    mx_prepare_ok_t pok;
    ASSERT_EQ(mx_parse_prepare_ok(p, len, &pok), 0);
    ASSERT_EQ(pok.stmt_id, 1);
    ASSERT_EQ(pok.num_columns, 2);
    ASSERT_EQ(pok.num_params, 2);
    ASSERT_EQ(pok.warnings, 0);
    ASSERT_EQ(mx_parse_prepare_ok(p, 11, &pok), -1);
    p[0] = 0xff;
    ASSERT_EQ(mx_parse_prepare_ok(p, len, &pok), -1);
    free(p);
}

/* ---- result sets and auth packets built by manx ------------------------- */

static void test_result_set(void)
{
    mx_pktbuf_t b;
    uint8_t want[128];
    size_t n;

    mx_pktbuf_init(&b);
    mx_pkt_column_count(&b, 1, 3);
    static const uint8_t cnt[] = {1, 0, 0, 1, 3};
    ASSERT_EQ(b.len, 5);
    ASSERT_MEM_EQ(b.data, cnt, 5);

    mx_pktbuf_reset(&b);
    mx_pkt_column_def(&b, 3, "t", "a", "name", MX_TYPE_VAR_STRING, 80, 45, false);
    n = unhex(coldef_name, want, sizeof(want));
    ASSERT_EQ(mx_pkt_len(b.data), n);
    ASSERT_EQ(mx_pkt_seq(b.data), 3);
    ASSERT_MEM_EQ(b.data + 4, want, n);

    mx_pktbuf_reset(&b);
    const char *vals[] = {"2", NULL, "2.5"};
    mx_pkt_text_row(&b, 7, vals, 3);
    n = unhex(row_2_null, want, sizeof(want));
    ASSERT_EQ(mx_pkt_len(b.data), n);
    ASSERT_MEM_EQ(b.data + 4, want, n);

    /* A value longer than 250 bytes takes a 3-byte length. */
    char long_val[300];
    memset(long_val, 'v', sizeof(long_val) - 1);
    long_val[sizeof(long_val) - 1] = '\0';
    const char *one[] = {long_val};
    mx_pktbuf_reset(&b);
    mx_pkt_text_row(&b, 0, one, 1);
    ASSERT_EQ(mx_pkt_len(b.data), 3 + 299);
    ASSERT_EQ(b.data[4], 0xfc);
    ASSERT_EQ(mx_rd_u16(b.data + 5), 299);
    mx_pktbuf_free(&b);
}

/* Greeting of MariaDB 10.11.19 (pair.sh), captured: CLIENT_MYSQL clear,
 * extended capabilities 0x1d (progress, bulk, extended type info, cache
 * metadata) in the last 4 reserved bytes. */
static const char greeting_10_11[] =
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275312d6c6f67001100000037766d413c473367"
    "00fef72d0200ff81150000000000001d0000002e4c74275f2d5e71402b5446006d7973716c5f6e61746976655f70617373"
    "776f726400";

static void test_ext_caps(void)
{
    static const uint8_t scr[MX_SCRAMBLE_LEN] = "abcdefgh0123456789AB";
    const uint32_t ext = MX_MARIADB_STMT_BULK_OPS | MX_MARIADB_EXTENDED_TYPE_INFO;
    const uint32_t base = MX_CLIENT_PROTOCOL_41 | MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_PLUGIN_AUTH;
    mx_handshake_t hs;
    mx_hsresp_t hr;
    mx_pktbuf_t b;
    size_t len;

    uint8_t *p = payload(greeting_10_11, &len);
    ASSERT_EQ(mx_parse_handshake(p, len, &hs), 0);
    ASSERT_EQ(hs.caps & MX_CLIENT_LONG_PASSWORD, 0);
    ASSERT_EQ(hs.ext_caps, MX_MARIADB_PROGRESS | MX_MARIADB_STMT_BULK_OPS | MX_MARIADB_EXTENDED_TYPE_INFO |
                               MX_MARIADB_CACHE_METADATA);
    ASSERT_TRUE(str_is(hs.auth_plugin, "mysql_native_password"));
    /* The same bytes from a server that claims CLIENT_MYSQL: reserved. */
    p[1 + 36 + 1 + 4 + 8 + 1] |= MX_CLIENT_LONG_PASSWORD; /* low capability byte */
    ASSERT_EQ(mx_parse_handshake(p, len, &hs), 0);
    ASSERT_EQ(hs.ext_caps, 0);
    free(p);

    /* Greeting written by manx: extended capabilities only without
     * CLIENT_MYSQL, in the last 4 of the 10 reserved bytes. */
    size_t reserved = 4 + 1 + strlen("11.4.2-manx") + 1 + 4 + 9 + 2 + 1 + 2 + 2 + 1;
    mx_pktbuf_init(&b);
    mx_pkt_handshake(&b, "11.4.2-manx", 7, scr, base, ext, 45, MX_STATUS_AUTOCOMMIT, "mysql_native_password");
    ASSERT_TRUE(!b.failed);
    ASSERT_EQ(mx_rd_u32(b.data + reserved + 6), ext);
    ASSERT_EQ(mx_parse_handshake(b.data + 4, b.len - 4, &hs), 0);
    ASSERT_EQ(hs.ext_caps, ext);
    ASSERT_EQ(hs.caps, base);
    mx_pktbuf_reset(&b);
    mx_pkt_handshake(&b, "11.4.2-manx", 7, scr, base | MX_CLIENT_LONG_PASSWORD, ext, 45, 0, "x");
    ASSERT_EQ(mx_rd_u32(b.data + reserved + 6), 0);
    ASSERT_EQ(mx_parse_handshake(b.data + 4, b.len - 4, &hs), 0);
    ASSERT_EQ(hs.ext_caps, 0);

    /* Handshake response and SSLRequest: bytes 28-31 of the payload. */
    uint8_t auth[20] = {1, 2, 3};
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, base, ext, 1u << 24, 45, "app", auth, 20, NULL, "mysql_native_password");
    ASSERT_EQ(mx_rd_u32(b.data + 4 + 28), ext);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 4, &hr), 0);
    ASSERT_EQ(hr.ext_caps, ext);
    ASSERT_TRUE(str_is(hr.user, "app"));
    ASSERT_EQ(hr.auth.len, 20);
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, base | MX_CLIENT_LONG_PASSWORD, ext, 1u << 24, 45, "app", auth, 20, NULL, "p");
    ASSERT_EQ(mx_rd_u32(b.data + 4 + 28), 0);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 4, &hr), 0);
    ASSERT_EQ(hr.ext_caps, 0);
    mx_pktbuf_reset(&b);
    mx_pkt_ssl_request(&b, 1, base, ext, 1u << 24, 45);
    ASSERT_EQ(mx_pkt_len(b.data), 32);
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 4, &hr), 0);
    ASSERT_TRUE(hr.is_ssl_request);
    ASSERT_EQ(hr.ext_caps, ext);
    /* A client that claims CLIENT_MYSQL but fills the bytes anyway: ignored. */
    mx_pktbuf_reset(&b);
    mx_pkt_hsresp(&b, 1, base, 0xffffffffu, 1u << 24, 45, "app", auth, 20, NULL, "p");
    b.data[4] |= MX_CLIENT_LONG_PASSWORD;
    ASSERT_EQ(mx_parse_hsresp(b.data + 4, b.len - 4, &hr), 0);
    ASSERT_EQ(hr.ext_caps, 0);
    mx_pktbuf_free(&b);
}

/* A JSON column as MariaDB 10.11 describes it to a client with extended type
 * info: the block holds the format (key 1) "json". */
static const char coldef_json_ext[] =
    "03646566" "0474657374" "016a" "016a" "0164" "0164"
    "06" "01046a736f6e"
    "0c" "2d00" "fcffffff" "fc" "9000" "00" "0000";

static void test_column_def_ext(void)
{
    mx_coldef_t cd;
    mx_str_t v;
    mx_pktbuf_t b;
    size_t len;

    uint8_t *p = payload(coldef_json_ext, &len);
    ASSERT_EQ(mx_parse_column_def(p, len, true, &cd), 0);
    ASSERT_TRUE(str_is(cd.schema, "test"));
    ASSERT_TRUE(str_is(cd.name, "d"));
    ASSERT_EQ(cd.ext_info.len, 6);
    ASSERT_TRUE(mx_coldef_ext_value(&cd, 1, &v));
    ASSERT_TRUE(str_is(v, "json"));
    ASSERT_TRUE(!mx_coldef_ext_value(&cd, 0, &v));
    ASSERT_EQ(cd.charset, 45);
    ASSERT_EQ(cd.type, 0xfc);
    ASSERT_EQ(cd.length, 0xfffffffc);
    /* Read without the capability, the block is where the fixed-length
     * byte should be: malformed, never misread. */
    ASSERT_EQ(mx_parse_column_def(p, len, false, &cd), -1);
    /* Every cut of it is malformed too. */
    for (size_t n = 0; n < len; n++) {
        uint8_t *q = malloc(n ? n : 1);
        memcpy(q, p, n);
        ASSERT_EQ(mx_parse_column_def(q, n, true, &cd), -1);
        free(q);
    }
    free(p);
    /* A block whose entry overruns it. */
    p = payload("03646566" "0000000000" "03000205" "0c2d00000000000f000000000000", &len);
    ASSERT_EQ(mx_parse_column_def(p, len, true, &cd), 0);
    ASSERT_TRUE(!mx_coldef_ext_value(&cd, 0, &v));
    free(p);

    /* manx's own columns: an empty block with the capability, none without. */
    mx_pktbuf_init(&b);
    mx_pkt_column_def(&b, 2, "s", "t", "name", MX_TYPE_VAR_STRING, 80, 33, true);
    ASSERT_EQ(mx_parse_column_def(b.data + 4, b.len - 4, true, &cd), 0);
    ASSERT_EQ(cd.ext_info.len, 0);
    ASSERT_TRUE(str_is(cd.org_name, "name"));
    ASSERT_EQ(cd.type, MX_TYPE_VAR_STRING);
    ASSERT_EQ(cd.length, 80);
    size_t with = b.len;
    mx_pktbuf_reset(&b);
    mx_pkt_column_def(&b, 2, "s", "t", "name", MX_TYPE_VAR_STRING, 80, 33, false);
    ASSERT_EQ(b.len, with - 1);
    ASSERT_EQ(mx_parse_column_def(b.data + 4, b.len - 4, false, &cd), 0);
    ASSERT_EQ(cd.charset, 33);
    mx_pktbuf_free(&b);
}

static void test_bulk_execute(void)
{
    mx_bulk_t bk;
    static const uint8_t pkt[] = {0xfa, 0x05, 0x00, 0x00, 0x00, 0x80, 0x00, 0x03, 0x00};
    ASSERT_EQ(mx_parse_bulk_execute(pkt, sizeof(pkt), &bk), 0);
    ASSERT_EQ(bk.stmt_id, 5);
    ASSERT_EQ(bk.flags, MX_BULK_SEND_TYPES);
    ASSERT_EQ(bk.types_at, 7);
    for (size_t n = 0; n < 7; n++)
        ASSERT_EQ(mx_parse_bulk_execute(pkt, n, &bk), -1);
    ASSERT_EQ(mx_parse_bulk_execute(pkt, 7, &bk), 0);
    static const uint8_t exec[] = {0x17, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01};
    ASSERT_EQ(mx_parse_bulk_execute(exec, sizeof(exec), &bk), -1);
}

static void test_auth_packets(void)
{
    mx_pktbuf_t b;
    static const uint8_t data[] = "12345678901234567890";

    mx_pktbuf_init(&b);
    mx_pkt_auth_switch(&b, 2, "mysql_native_password", data, 21);
    ASSERT_EQ(mx_pkt_len(b.data), 1 + 22 + 21);
    ASSERT_EQ(b.data[4], 0xfe);
    ASSERT_STR_EQ((const char *)b.data + 5, "mysql_native_password");
    ASSERT_MEM_EQ(b.data + 5 + 22, data, 21);
    mx_pktbuf_reset(&b);
    mx_pkt_auth_more(&b, 4, (const uint8_t *)"\x03", 1);
    static const uint8_t fast_ok[] = {2, 0, 0, 4, 1, 3};
    ASSERT_EQ(b.len, sizeof(fast_ok));
    ASSERT_MEM_EQ(b.data, fast_ok, sizeof(fast_ok));
    mx_pktbuf_free(&b);
}

int main(void)
{
    test_lenenc();
    test_reader();
    test_framing();
    test_handshake_parse();
    test_handshake_roundtrip();
    test_hsresp_libmariadb();
    test_hsresp_pymysql();
    test_hsresp_variants();
    test_change_user();
    test_ok_parse();
    test_track();
    test_ok_reencode();
    test_err();
    test_eof_prepare();
    test_result_set();
    test_auth_packets();
    test_ext_caps();
    test_column_def_ext();
    test_bulk_execute();
    return mx_test_summary("packet");
}
