/* libFuzzer driver for the packet parsers: hands the input, as one payload,
 * to every parser in protocol/packet.h and walks whatever they return, so
 * that any read outside the payload shows up under ASan.  Parsed OKs are
 * also re-encoded and parsed again. */
#include <stdint.h>
#include <stdlib.h>

#include "protocol/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every byte of a borrowed range so that a range reaching outside
 * the input is reported where it was produced. */
static volatile uint8_t sink;

static void touch(mx_str_t s)
{
    for (size_t i = 0; i < s.len; i++)
        sink ^= s.p[i];
}

static void fuzz_ok(const uint8_t *data, size_t size, uint32_t caps)
{
    mx_ok_t ok, back;
    mx_rd_t r;
    mx_track_t t;
    mx_pktbuf_t b;

    if (mx_parse_ok(data, size, caps, &ok) < 0)
        return;
    touch(ok.info);
    touch(ok.session_state);
    mx_rd_init(&r, ok.session_state.p, ok.session_state.len);
    for (int i = 0; i < 4096 && mx_track_next(&r, &t) > 0; i++) {
        touch(t.data);
        touch(t.name);
        touch(t.value);
    }

    /* What manx writes for a client must parse back to the same values. */
    mx_pktbuf_init(&b);
    for (int st = 0; st <= 1; st++) {
        uint32_t to = st ? caps | MX_CLIENT_SESSION_TRACK : caps & ~MX_CLIENT_SESSION_TRACK;
        mx_pktbuf_reset(&b);
        mx_pkt_ok_reencode(&b, 1, data[0], &ok, to);
        if (b.failed)
            continue;
        if (mx_parse_ok(b.data + MX_PKT_HDR, b.len - MX_PKT_HDR, to, &back) < 0 ||
            back.affected_rows != ok.affected_rows || back.last_insert_id != ok.last_insert_id)
            abort();
        if ((caps & MX_CLIENT_PROTOCOL_41) && back.warnings != ok.warnings)
            abort();
    }
    mx_pktbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mx_handshake_t hs;
    mx_hsresp_t hr;
    mx_change_user_t cu;
    mx_err_t err;
    mx_prepare_ok_t pok;
    uint16_t w, s;
    uint64_t v;
    mx_rd_t r;
    mx_track_t t;

    if (mx_parse_handshake(data, size, &hs) == 0) {
        touch(hs.server_version);
        touch(hs.auth_plugin);
        if (hs.scramble_len > MX_SCRAMBLE_LEN)
            abort();
    }
    if (mx_parse_hsresp(data, size, &hr) == 0) {
        touch(hr.user);
        touch(hr.auth);
        touch(hr.db);
        touch(hr.plugin);
        touch(hr.attrs);
    }
    static const uint32_t cu_caps[] = {
        0, MX_CLIENT_SECURE_CONNECTION,
        MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_PLUGIN_AUTH | MX_CLIENT_CONNECT_ATTRS,
    };
    for (size_t i = 0; i < sizeof(cu_caps) / sizeof(cu_caps[0]); i++) {
        if (mx_parse_change_user(data, size, cu_caps[i], &cu) == 0) {
            touch(cu.user);
            touch(cu.auth);
            touch(cu.db);
            touch(cu.plugin);
            touch(cu.attrs);
        }
    }

    static const uint32_t ok_caps[] = {
        0, MX_CLIENT_TRANSACTIONS, MX_CLIENT_PROTOCOL_41,
        MX_CLIENT_PROTOCOL_41 | MX_CLIENT_SESSION_TRACK,
        MX_CLIENT_PROTOCOL_41 | MX_CLIENT_SESSION_TRACK | MX_CLIENT_DEPRECATE_EOF,
    };
    for (size_t i = 0; i < sizeof(ok_caps) / sizeof(ok_caps[0]); i++)
        fuzz_ok(data, size, ok_caps[i]);

    mx_parse_eof(data, size, &w, &s);
    if (mx_parse_err(data, size, &err) == 0) {
        touch(err.message);
        if (err.sqlstate[5] != '\0')
            abort();
    }
    mx_parse_prepare_ok(data, size, &pok);

    /* The whole input as a session-state block. */
    mx_rd_init(&r, data, size);
    for (int i = 0; i < 4096 && mx_track_next(&r, &t) > 0; i++)
        touch(t.data);

    /* The whole input as a row of length-encoded values. */
    mx_rd_init(&r, data, size);
    for (;;) {
        bool is_null;
        mx_str_t str;
        int n = mx_lenenc_decode(r.p, mx_rd_left(&r), &v);
        /* Input may use longer encodings than needed, never shorter. */
        if (n > 0 && mx_lenenc_size(v) > (size_t)n)
            abort();
        if (mx_rd_left(&r) > 0 && r.p[0] == 0xfb) {
            if (!mx_rd_lenenc(&r, &v, &is_null) || !is_null)
                abort();
            continue;
        }
        if (!mx_rd_lenenc_str(&r, &str))
            break;
        touch(str);
    }
    return 0;
}
