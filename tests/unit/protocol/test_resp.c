/* Tests for the response boundary tracker: replays responses captured from
 * MariaDB 10.11 (classic EOF and DEPRECATE_EOF framing) packet by packet and
 * checks where each ends, then covers what a test server cannot easily be
 * made to send: 0xFFFFFF continuations and malformed streams. */
#include <stdbool.h>
#include <stdlib.h>

#include "protocol/resp.h"
#include "test.h"

/* One captured command and its complete response (headers included). */
struct capture {
    const char *name;
    uint32_t caps;        /* capabilities the capturing client negotiated */
    const char *req;      /* hex, first bytes of the request payload */
    const char *resp;     /* hex, every packet of the response */
    int packets;
    uint16_t status;
    uint16_t warnings;
    bool is_error;
    uint16_t err_code;
    bool got_ok;
    int infile_at;        /* index of the packet that asks for a file, or -1 */
};

/* Captured from mariadbd 10.11.19 with a raw-socket client; the table is
 * t.a(id INT PRIMARY KEY, name VARCHAR(20), v DOUBLE). */
static const struct capture captures[] = {
    {"eof_select", 0x000fa285,
        "0353454c454354202a2046524f4d2061",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003035000000021000003036465660174"
        "01610161046e616d65046e616d650c2d0050000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f000005000005fe000022000a0000060131036f6e6503312e35070000070132fb03322e3509000008"
        "0133057468726565fb05000009023130fbfb0500000a023131fbfb0500000bfe00002200",
        11, 0x0022, 0, false, 0, false, -1},
    {"eof_empty", 0x000fa285,
        "0353454c45435420312046524f4d2061",
        "010000010117000002036465660000000131000c3f000100000003810000000005000003fe0000020005000004fe0000"
        "0200",
        4, 0x0002, 0, false, 0, false, -1},
    {"eof_multi", 0x000fa285,
        "0353454c45435420313b2053454c4543",
        "010000010117000002036465660000000131000c3f000100000003810000000005000003fe00000a0002000004013105"
        "000005fe00000a00010000060119000007036465660000000374776f000c3f000100000003810000000005000008fe00"
        "000a000200000901320500000afe00000a000700000b00000002000000",
        11, 0x0002, 0, false, 0, true, -1},
    {"eof_errmid", 0x000fa285,
        "0353454c45435420612e69642c202853",
        "01000001021d000002036465660174016101610269640269640c3f000b00000003035000000041000003036465660000"
        "002b2853454c45435420622e69642046524f4d20742e61206220574845524520622e6964203c3d20612e696429000c3f"
        "000b00000003800000000005000004fe00002200040000050131013129000006ffda0423323130303053756271756572"
        "792072657475726e73206d6f7265207468616e203120726f77",
        6, 0x0022, 0, true, 1242, false, -1},
    {"eof_err", 0x000fa285,
        "0353454c454354202a2046524f4d206e",
        "29000001ff7a042334325330325461626c652027742e6e6f6e65786973742720646f65736e2774206578697374",
        1, 0x0000, 0, true, 1146, false, -1},
    {"eof_insert", 0x000fa285,
        "03494e5345525420494e544f20612056",
        "0700000100010002000000",
        1, 0x0002, 0, false, 0, true, -1},
    {"eof_infile", 0x000fa285,
        "034c4f41442044415441204c4f43414c",
        "1a000001fb2f746d702f70726f746f66757a7a2f696e66696c652e74787437000004000200020000002f5265636f7264"
        "733a2032202044656c657465643a20302020536b69707065643a203020205761726e696e67733a2030",
        2, 0x0002, 0, false, 0, true, 0},
    {"eof_fieldlist", 0x000fa285,
        "046100",
        "1f000001036465660174016101610269640269640c3f000b000000030350000000013022000002036465660174016101"
        "61046e616d65046e616d650c2d0050000000fd0000000000fb1c00000303646566017401610161017601760c3f001600"
        "00000500001f0000fb05000004fe00000200",
        4, 0x0002, 0, false, 0, false, -1},
    {"eof_statistics", 0x000fa285,
        "09",
        "71000001557074696d653a2033362020546872656164733a203120205175657374696f6e733a2033312020536c6f7720"
        "717565726965733a203020204f70656e733a20323220204f70656e207461626c65733a20313520205175657269657320"
        "706572207365636f6e64206176673a20302e383631",
        1, 0x0000, 0, false, 0, false, -1},
    {"eof_ping", 0x000fa285,
        "0e",
        "0700000100000002000000",
        1, 0x0002, 0, false, 0, true, -1},
    {"eof_initdb_err", 0x000fa285,
        "026e6f6e6578697374",
        "24000001ff1904233432303030556e6b6e6f776e20646174616261736520276e6f6e657869737427",
        1, 0x0000, 0, true, 1049, false, -1},
    {"eof_setoption", 0x000fa285,
        "1b0000",
        "05000001fe00000200",
        1, 0x0002, 0, false, 0, false, -1},
    {"eof_reset", 0x000fa285,
        "1f",
        "0700000100000002000000",
        1, 0x0002, 0, false, 0, true, -1},
    {"eof_prepare", 0x000fa285,
        "1653454c4543542069642c206e616d65",
        "0c0000010001000000020002000000001700000203646566000000013f000c3f00000000000680000000001700000303"
        "646566000000013f000c3f000000000006800000000005000004fe000000001d00000503646566017401610161026964"
        "0269640c3f000b0000000303500000002100000603646566017401610161046e616d65046e616d650c080014000000fd"
        "000000000005000007fe00000000",
        7, 0x0000, 0, false, 0, false, -1},
    {"eof_prepare_params", 0x000fa285,
        "16494e5345525420494e544f20612056",
        "0c0000010005000000000003000000001700000203646566000000013f000c3f00000000000680000000001700000303"
        "646566000000013f000c3f00000000000680000000001700000403646566000000013f000c3f00000000000680000000"
        "0005000005fe00000100",
        5, 0x0001, 0, false, 0, false, -1},
    {"eof_prepare_noresult", 0x000fa285,
        "16444f2031",
        "0c000001000300000000000000000000",
        1, 0x0000, 0, false, 0, false, -1},
    {"eof_prepare_err", 0x000fa285,
        "1653454c45432031",
        "a4000001ff2804233432303030596f75206861766520616e206572726f7220696e20796f75722053514c2073796e7461"
        "783b20636865636b20746865206d616e75616c207468617420636f72726573706f6e647320746f20796f7572204d6172"
        "69614442207365727665722076657273696f6e20666f72207468652072696768742073796e74617820746f2075736520"
        "6e656172202753454c4543203127206174206c696e652031",
        1, 0x0000, 0, true, 1064, false, -1},
    /* COM_STMT_BULK_EXECUTE of a two-row INSERT (types sent): one OK for
     * all rows; and INSERT ... RETURNING answered with a binary result set
     * (rows of eof_execute's table), as an EXECUTE is. */
    {"bulk_insert", 0x000fa285,
        "fa0100000080000300030000000100000000020000",
        "0700000100020102000000",
        1, 0x0002, 0, false, 0, true, -1},
    {"bulk_returning", 0x000fa285,
        "fa0200000080000300",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003035000000021000003036465660174"
        "01610161046e616d65046e616d650c080014000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f000005000005fe0000014012000006000001000000036f6e65000000000000f83f0e000007000802"
        "00000000000000000004400c00000800100300000005746872656505000009fe00000140",
        9, 0x4001, 0, false, 0, false, -1},
    {"eof_execute", 0x000fa285,
        "17020000000001000000000108000000",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003035000000021000003036465660174"
        "01610161046e616d65046e616d650c080014000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f000005000005fe0000014012000006000001000000036f6e65000000000000f83f0e000007000802"
        "00000000000000000004400c00000800100300000005746872656505000009fe00000140",
        9, 0x4001, 0, false, 0, false, -1},
    {"eof_execute_cursor", 0x000fa285,
        "17020000000101000000000108000000",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003011000000021000003036465660174"
        "01610161046e616d65046e616d650c080014000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f000005000005fe00004140",
        5, 0x4041, 0, false, 0, false, -1},
    {"eof_fetch", 0x000fa285,
        "1c0200000002000000",
        "12000001000001000000036f6e65000000000000f83f0e000002000802000000000000000000044005000003fe000041"
        "40",
        3, 0x4041, 0, false, 0, false, -1},
    {"eof_fetch_last", 0x000fa285,
        "1c0200000002000000",
        "0c00000100100300000005746872656505000002fe00008140",
        2, 0x4081, 0, false, 0, false, -1},
    {"eof_stmt_reset", 0x000fa285,
        "1a02000000",
        "0700000100000001000000",
        1, 0x0001, 0, false, 0, true, -1},
    {"deof_select", 0x010fa285,
        "0353454c454354202a2046524f4d2061",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003035000000021000003036465660174"
        "01610161046e616d65046e616d650c2d0050000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f00000a0000050131036f6e6503312e35070000060132fb03322e35090000070133057468726565fb"
        "07000008fe000022000000",
        8, 0x0022, 0, false, 0, true, -1},
    {"deof_empty", 0x010fa285,
        "0353454c45435420312046524f4d2061",
        "010000010117000002036465660000000131000c3f000100000003810000000007000003fe000002000000",
        3, 0x0002, 0, false, 0, true, -1},
    {"deof_multi", 0x010fa285,
        "0353454c45435420313b2053454c4543",
        "010000010117000002036465660000000131000c3f000100000003810000000002000003013107000004fe00000a0000"
        "00010000050119000006036465660000000374776f000c3f000100000003810000000002000007013207000008fe0000"
        "0a0000000700000900000002000000",
        9, 0x0002, 0, false, 0, true, -1},
    {"deof_errmid", 0x010fa285,
        "0353454c45435420612e69642c202853",
        "01000001021d000002036465660174016101610269640269640c3f000b00000003035000000041000003036465660000"
        "002b2853454c45435420622e69642046524f4d20742e61206220574845524520622e6964203c3d20612e696429000c3f"
        "000b000000038000000000040000040131013129000005ffda0423323130303053756271756572792072657475726e73"
        "206d6f7265207468616e203120726f77",
        5, 0x0000, 0, true, 1242, false, -1},
    {"deof_infile", 0x010fa285,
        "034c4f41442044415441204c4f43414c",
        "1a000001fb2f746d702f70726f746f66757a7a2f696e66696c652e74787437000004000200020000002f5265636f7264"
        "733a2032202044656c657465643a20302020536b69707065643a203020205761726e696e67733a2030",
        2, 0x0002, 0, false, 0, true, 0},
    {"deof_fieldlist", 0x010fa285,
        "046100",
        "1f000001036465660174016101610269640269640c3f000b000000030350000000013022000002036465660174016101"
        "61046e616d65046e616d650c2d0050000000fd0000000000fb1c00000303646566017401610161017601760c3f001600"
        "00000500001f0000fb07000004fe000002000000",
        4, 0x0002, 0, false, 0, true, -1},
    {"deof_setoption", 0x010fa285,
        "1b0000",
        "07000001fe000002000000",
        1, 0x0002, 0, false, 0, true, -1},
    {"deof_prepare", 0x010fa285,
        "1653454c4543542069642c206e616d65",
        "0c0000010001000000020002000000001700000203646566000000013f000c3f00000000000680000000001700000303"
        "646566000000013f000c3f00000000000680000000001d000004036465660174016101610269640269640c3f000b0000"
        "000303500000002100000503646566017401610161046e616d65046e616d650c080014000000fd0000000000",
        5, 0x0000, 0, false, 0, false, -1},
    {"deof_prepare_params", 0x010fa285,
        "16494e5345525420494e544f20612056",
        "0c0000010005000000000003000000001700000203646566000000013f000c3f00000000000680000000001700000303"
        "646566000000013f000c3f00000000000680000000001700000403646566000000013f000c3f00000000000680000000"
        "00",
        4, 0x0000, 0, false, 0, false, -1},
    {"deof_execute", 0x010fa285,
        "17020000000001000000000108000000",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003035000000021000003036465660174"
        "01610161046e616d65046e616d650c080014000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f000012000005000001000000036f6e65000000000000f83f0e000006000802000000000000000000"
        "04400c00000700100300000005746872656507000008fe000001000000",
        8, 0x0001, 0, false, 0, true, -1},
    {"deof_execute_cursor", 0x010fa285,
        "17020000000101000000000108000000",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003011000000021000003036465660174"
        "01610161046e616d65046e616d650c080014000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f000007000005fe000041000000",
        5, 0x0041, 0, false, 0, true, -1},
    {"deof_fetch", 0x010fa285,
        "1c0200000002000000",
        "12000001000001000000036f6e65000000000000f83f0e000002000802000000000000000000044007000003fe000041"
        "000000",
        3, 0x0041, 0, false, 0, true, -1},
    {"deof_fetch_last", 0x010fa285,
        "1c0200000002000000",
        "0c00000100100300000005746872656507000002fe000081000000",
        2, 0x0081, 0, false, 0, true, -1},
    {"stdeof_select", 0x018fa285,
        "0353454c454354202a2046524f4d2061",
        "01000001031d000002036465660174016101610269640269640c3f000b00000003035000000021000003036465660174"
        "01610161046e616d65046e616d650c2d0050000000fd00000000001b00000403646566017401610161017601760c3f00"
        "160000000500001f00000a0000050131036f6e6503312e35070000060132fb03322e35090000070133057468726565fb"
        "07000008fe000022000000",
        8, 0x0022, 0, false, 0, true, -1},
};

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

static const struct capture *find_capture(const char *name)
{
    for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++)
        if (strcmp(captures[i].name, name) == 0)
            return &captures[i];
    abort();
}

/* Feeds a whole captured response and checks that only its last packet
 * ends it (and that the file request comes where expected). */
static void replay(const struct capture *c, mx_resp_t *r)
{
    uint8_t req[64], resp[4096];
    size_t req_len = unhex(c->req, req, sizeof(req));
    size_t len = unhex(c->resp, resp, sizeof(resp));
    size_t off = 0;
    int i = 0, last_rc = MX_RESP_BAD, bad = 0;

    mx_resp_begin(r, c->caps, req, req_len);
    while (off + MX_PKT_HDR <= len) {
        uint32_t plen = mx_pkt_len(resp + off);
        int rc = mx_resp_feed(r, resp + off + MX_PKT_HDR, plen, plen);
        off += MX_PKT_HDR + plen;
        bool last = off >= len;
        int want = i == c->infile_at ? MX_RESP_INFILE : last ? MX_RESP_DONE : MX_RESP_MORE;
        if (rc != want) {
            fprintf(stderr, "%s: packet %d: rc %d, want %d\n", c->name, i, rc, want);
            bad++;
        }
        if (rc == MX_RESP_INFILE)
            mx_resp_infile_sent(r);
        last_rc = rc;
        i++;
    }
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(off, len);
    ASSERT_EQ(last_rc, MX_RESP_DONE);
    ASSERT_EQ(r->phase, MX_RP_DONE);
    ASSERT_EQ(r->packets, c->packets);
    ASSERT_EQ(r->status, c->status);
    ASSERT_EQ(r->warnings, c->warnings);
    ASSERT_EQ(r->is_error, c->is_error);
    ASSERT_EQ(r->err_code, c->err_code);
    ASSERT_EQ(r->got_ok, c->got_ok);
}

static void test_captures(void)
{
    mx_resp_t r;
    for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
        int before = mx_test_failures;
        replay(&captures[i], &r);
        if (mx_test_failures != before)
            fprintf(stderr, "  ... in capture %s\n", captures[i].name);
    }
}

static void test_prepare_results(void)
{
    mx_resp_t r;

    replay(find_capture("eof_prepare"), &r);
    ASSERT_EQ(r.prepare.stmt_id, 1);
    ASSERT_EQ(r.prepare.num_params, 2);
    ASSERT_EQ(r.prepare.num_columns, 2);
    replay(find_capture("deof_prepare"), &r);
    ASSERT_EQ(r.prepare.stmt_id, 1);
    ASSERT_EQ(r.prepare.num_params, 2);
    ASSERT_EQ(r.prepare.num_columns, 2);
    replay(find_capture("eof_prepare_params"), &r);
    ASSERT_EQ(r.prepare.stmt_id, 5);
    ASSERT_EQ(r.prepare.num_params, 3);
    ASSERT_EQ(r.prepare.num_columns, 0);
    replay(find_capture("eof_prepare_noresult"), &r);
    ASSERT_EQ(r.prepare.stmt_id, 3);
    ASSERT_EQ(r.prepare.num_params, 0);
    ASSERT_EQ(r.prepare.num_columns, 0);
    ASSERT_TRUE(!r.is_error);
    replay(find_capture("eof_prepare_err"), &r);
    ASSERT_TRUE(r.is_error);
}

static void test_cursor(void)
{
    mx_resp_t r;

    /* The request's flags byte asked for a read-only cursor. */
    replay(find_capture("eof_execute_cursor"), &r);
    ASSERT_TRUE(r.cursor);
    ASSERT_TRUE(r.status & MX_STATUS_CURSOR_EXISTS);
    replay(find_capture("eof_execute"), &r);
    ASSERT_TRUE(!r.cursor);
    replay(find_capture("eof_fetch_last"), &r);
    ASSERT_TRUE(r.status & MX_STATUS_LAST_ROW_SENT);
}

/* last_ok / last_eof describe only the packet just fed. */
static void test_last_flags(void)
{
    const struct capture *c = find_capture("eof_multi");
    uint8_t req[64], resp[4096];
    size_t req_len = unhex(c->req, req, sizeof(req));
    size_t len = unhex(c->resp, resp, sizeof(resp));
    char seen[16] = "";
    mx_resp_t r;

    mx_resp_begin(&r, c->caps, req, req_len);
    for (size_t off = 0, i = 0; off < len && i < sizeof(seen) - 1; i++) {
        uint32_t plen = mx_pkt_len(resp + off);
        mx_resp_feed(&r, resp + off + MX_PKT_HDR, plen, plen);
        seen[i] = r.last_ok ? 'O' : r.last_eof ? 'E' : '.';
        off += MX_PKT_HDR + plen;
    }
    /* count, def, EOF, row, EOF (more results), count, def, EOF, row, EOF,
     * final OK of DO 1 */
    ASSERT_STR_EQ(seen, "..E.E..E.EO");

    c = find_capture("deof_select");
    len = unhex(c->resp, resp, sizeof(resp));
    req_len = unhex(c->req, req, sizeof(req));
    memset(seen, 0, sizeof(seen));
    mx_resp_begin(&r, c->caps, req, req_len);
    for (size_t off = 0, i = 0; off < len && i < sizeof(seen) - 1; i++) {
        uint32_t plen = mx_pkt_len(resp + off);
        mx_resp_feed(&r, resp + off + MX_PKT_HDR, plen, plen);
        seen[i] = r.last_ok ? 'O' : r.last_eof ? 'E' : '.';
        off += MX_PKT_HDR + plen;
    }
    ASSERT_STR_EQ(seen, ".......O");
}

/* Synthetic packets: payload bytes plus the header length they claim. */
static int feed(mx_resp_t *r, const char *hex, uint32_t pkt_len)
{
    uint8_t buf[MX_RESP_PEEK];
    size_t n = unhex(hex, buf, sizeof(buf));
    if (pkt_len == 0)
        pkt_len = (uint32_t)n;
    /* Honour the contract: min(pkt_len, MX_RESP_PEEK) bytes at hand. */
    size_t avail = pkt_len < MX_RESP_PEEK ? pkt_len : MX_RESP_PEEK;
    if (avail > n)
        memset(buf + n, 'x', avail - n);
    uint8_t *exact = malloc(avail ? avail : 1);
    memcpy(exact, buf, avail);
    int rc = mx_resp_feed(r, exact, avail, pkt_len);
    free(exact);
    return rc;
}

static const char coldef[] = "0364656600000001310000";

static void begin_query(mx_resp_t *r, uint32_t caps)
{
    static const uint8_t q[] = {MX_COM_QUERY, 'S', 'E', 'L', 'E', 'C', 'T'};
    mx_resp_begin(r, caps | MX_CLIENT_PROTOCOL_41, q, sizeof(q));
}

/* A row of exactly 0xFFFFFF bytes continues in the next packet, whose first
 * byte (0xFE here) must not be read as an EOF. */
static void test_split_rows(void)
{
    mx_resp_t r;

    for (int deof = 0; deof <= 1; deof++) {
        begin_query(&r, deof ? MX_CLIENT_DEPRECATE_EOF : 0);
        ASSERT_EQ(feed(&r, "01", 0), MX_RESP_MORE);
        ASSERT_EQ(feed(&r, coldef, 0), MX_RESP_MORE);
        if (!deof)
            ASSERT_EQ(feed(&r, "fe00000200", 0), MX_RESP_MORE);
        /* lenenc 0xFE: one value of 16 MB + 10 bytes */
        ASSERT_EQ(feed(&r, "fe0a00000101000000", MX_PKT_MAX), MX_RESP_MORE);
        ASSERT_TRUE(r.continuing);
        ASSERT_EQ(feed(&r, "fe00000200", 0), MX_RESP_MORE);
        ASSERT_TRUE(!r.continuing);
        ASSERT_TRUE(!r.last_eof && !r.last_ok);
        /* 0x1000000 + 9 bytes: two full packets and an empty one. */
        ASSERT_EQ(feed(&r, "fe0900000101000000", MX_PKT_MAX), MX_RESP_MORE);
        ASSERT_EQ(feed(&r, "fefefe", MX_PKT_MAX), MX_RESP_MORE);
        ASSERT_EQ(feed(&r, "", 0), MX_RESP_MORE);
        ASSERT_TRUE(!r.continuing);
        ASSERT_EQ(feed(&r, "0131", 0), MX_RESP_MORE);
        ASSERT_EQ(feed(&r, deof ? "fe000002000000" : "fe00000200", 0), MX_RESP_DONE);
        /* count, def, [eof], row, row, row, eof */
        ASSERT_EQ(r.packets, deof ? 6 : 7);
        /* Continuations are parts of a row, not rows. */
        ASSERT_EQ(r.rows, 3);
        ASSERT_EQ(r.status, MX_STATUS_AUTOCOMMIT);
    }
}

/* A response-ending packet that is itself split ends the response only with
 * its last part. */
static void test_split_final(void)
{
    mx_resp_t r;
    static const uint8_t stat[] = {MX_COM_STATISTICS};

    mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, stat, 1);
    ASSERT_EQ(feed(&r, "55707469", MX_PKT_MAX), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, "6d65", 0), MX_RESP_DONE);
    ASSERT_EQ(r.packets, 1);
    ASSERT_EQ(feed(&r, "00000002000000", 0), MX_RESP_BAD);

    begin_query(&r, MX_CLIENT_SESSION_TRACK);
    ASSERT_EQ(feed(&r, "0000000240000000fdfcffff", MX_PKT_MAX), MX_RESP_MORE);
    ASSERT_EQ(r.status, MX_STATUS_AUTOCOMMIT | MX_STATUS_SESSION_STATE);
    ASSERT_EQ(feed(&r, "", 0), MX_RESP_DONE);
    ASSERT_EQ(r.packets, 1);
}

static void test_infile_multi(void)
{
    mx_resp_t r;

    /* LOAD DATA LOCAL as the second of two statements. */
    begin_query(&r, MX_CLIENT_MULTI_STATEMENTS);
    ASSERT_EQ(feed(&r, "00000008000000", 0), MX_RESP_MORE);
    ASSERT_TRUE(r.last_ok);
    ASSERT_EQ(feed(&r, "fb2f746d702f78", 0), MX_RESP_INFILE);
    ASSERT_EQ(r.phase, MX_RP_INFILE_WAIT);
    /* Nothing may come from the server before the file is sent. */
    mx_resp_t copy = r;
    ASSERT_EQ(feed(&copy, "00000002000000", 0), MX_RESP_BAD);
    mx_resp_infile_sent(&r);
    ASSERT_EQ(feed(&r, "ff1604233232303033", 0), MX_RESP_DONE);
    ASSERT_TRUE(r.is_error);
    ASSERT_EQ(r.err_code, MX_ER_NO_DB);
}

static void test_progress_report(void)
{
    mx_resp_t r;

    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "ffffff0102020000000f456e64", 0), MX_RESP_MORE);
    ASSERT_TRUE(!r.is_error);
    ASSERT_EQ(feed(&r, "00010002000000", 0), MX_RESP_DONE);
    ASSERT_EQ(r.got_ok, true);
}

static void test_malformed(void)
{
    mx_resp_t r;

    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "00", 0), MX_RESP_BAD); /* OK cut before its status */
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "", 0), MX_RESP_BAD);
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "00", 1), MX_RESP_BAD);
    /* A column count of 0, impossible ones, and a 0xFE count. */
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "fc0000", 0), MX_RESP_BAD);
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "fd010010", 0), MX_RESP_BAD);
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "fe0000000000000001", 0), MX_RESP_BAD);
    ASSERT_EQ(feed(&r, "00000002000000", 0), MX_RESP_BAD);
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "fd000010", 0), MX_RESP_MORE);
    ASSERT_EQ(r.left, 1 << 20);
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "fc0010", 0), MX_RESP_MORE);
    ASSERT_EQ(r.left, 4096);
    /* EOF where a column definition should be. */
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "02", 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, coldef, 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, "fe00000200", 0), MX_RESP_BAD);
    /* A row where the column EOF should be. */
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "01", 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, coldef, 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, "0131", 0), MX_RESP_BAD);
    /* Empty row packet. */
    begin_query(&r, MX_CLIENT_DEPRECATE_EOF);
    ASSERT_EQ(feed(&r, "01", 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, coldef, 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, "", 0), MX_RESP_BAD);
    /* ERR too short for its code. */
    begin_query(&r, 0);
    ASSERT_EQ(feed(&r, "ff10", 0), MX_RESP_BAD);
    /* Unexpected first byte for a simple command, prepare-OK too short. */
    static const uint8_t ping[] = {MX_COM_PING};
    mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, ping, 1);
    ASSERT_EQ(feed(&r, "0a", 0), MX_RESP_BAD);
    static const uint8_t prep[] = {MX_COM_STMT_PREPARE, 'D', 'O'};
    mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, prep, sizeof(prep));
    ASSERT_EQ(feed(&r, "0001000000010001", 0), MX_RESP_BAD);
    /* Anything after DONE. */
    mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, ping, 1);
    ASSERT_EQ(feed(&r, "00000002000000", 0), MX_RESP_DONE);
    ASSERT_EQ(feed(&r, "00000002000000", 0), MX_RESP_BAD);
}

static void test_simple_commands(void)
{
    static const uint8_t cmds[] = {MX_COM_PING, MX_COM_INIT_DB, MX_COM_STMT_RESET,
        MX_COM_SET_OPTION, MX_COM_RESET_CONNECTION, MX_COM_PROCESS_KILL, MX_COM_REFRESH,
        MX_COM_DEBUG, MX_COM_CREATE_DB, MX_COM_DROP_DB};
    mx_resp_t r;

    for (size_t i = 0; i < sizeof(cmds); i++) {
        mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, &cmds[i], 1);
        ASSERT_EQ(r.cmd, cmds[i]);
        ASSERT_EQ(feed(&r, "00000003000100", 0), MX_RESP_DONE);
        ASSERT_EQ(r.status, 3);
        ASSERT_EQ(r.warnings, 1);
        ASSERT_TRUE(r.last_ok && r.got_ok);
        mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, &cmds[i], 1);
        ASSERT_EQ(feed(&r, "fe01000200", 0), MX_RESP_DONE);
        ASSERT_TRUE(r.last_eof && !r.got_ok);
        ASSERT_EQ(r.warnings, 1);
        ASSERT_EQ(r.status, 2);
        mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41 | MX_CLIENT_DEPRECATE_EOF, &cmds[i], 1);
        ASSERT_EQ(feed(&r, "fe000002000100", 0), MX_RESP_DONE);
        ASSERT_TRUE(r.last_ok);
        ASSERT_EQ(r.warnings, 1);
        mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, &cmds[i], 1);
        ASSERT_EQ(feed(&r, "ff1504233238303030", 0), MX_RESP_DONE);
        ASSERT_TRUE(r.is_error);
        ASSERT_EQ(r.err_code, 0x0415);
    }
    ASSERT_TRUE(!mx_resp_expected(MX_COM_STMT_CLOSE));
    ASSERT_TRUE(!mx_resp_expected(MX_COM_STMT_SEND_LONG_DATA));
    ASSERT_TRUE(!mx_resp_expected(MX_COM_QUIT));
    ASSERT_TRUE(mx_resp_expected(MX_COM_QUERY));
    ASSERT_TRUE(mx_resp_expected(MX_COM_PING));
    ASSERT_TRUE(mx_resp_expected(MX_COM_STMT_FETCH));
}

/* The peek contract: of a long first packet only MX_RESP_PEEK bytes are at
 * hand; an OK's status still sits in them. */
static void test_long_packets(void)
{
    mx_resp_t r;

    begin_query(&r, MX_CLIENT_SESSION_TRACK);
    ASSERT_EQ(feed(&r, "0000000240000000fd000001", 0x10000 + 8), MX_RESP_DONE);
    ASSERT_EQ(r.status, MX_STATUS_AUTOCOMMIT | MX_STATUS_SESSION_STATE);
    /* Long rows in a binary result. */
    static const uint8_t exec[] = {MX_COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0};
    mx_resp_begin(&r, MX_CLIENT_PROTOCOL_41, exec, sizeof(exec));
    ASSERT_TRUE(!r.cursor);
    ASSERT_EQ(feed(&r, "01", 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, coldef, 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, "fe00000200", 0), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, "0000fd000001", 0x10000 + 6), MX_RESP_MORE);
    ASSERT_EQ(feed(&r, "fe00002200", 0), MX_RESP_DONE);
    ASSERT_EQ(r.status, 0x22);
}

int main(void)
{
    test_captures();
    test_prepare_results();
    test_cursor();
    test_last_flags();
    test_split_rows();
    test_split_final();
    test_infile_multi();
    test_progress_report();
    test_malformed();
    test_simple_commands();
    test_long_packets();
    return mx_test_summary("resp");
}
