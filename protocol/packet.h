/* Decoding and encoding of single MySQL packets: a bounds-checked reader
 * cursor, parsers for the packets manx must understand (handshakes, OK, ERR,
 * session-state entries, COM_STMT_PREPARE_OK) and a packet writer with a
 * sticky failure bit.  No I/O: callers hand in complete payloads. */
#ifndef MX_PROTOCOL_PACKET_H
#define MX_PROTOCOL_PACKET_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "proto.h"

/* A borrowed byte range inside a payload (never NUL-terminated). */
typedef struct mx_str_s {
    const uint8_t *p;
    size_t len;
} mx_str_t;

/* ---- reader ------------------------------------------------------------ */

/* Cursor over one payload.  Every getter returns false (and sets `bad`) when
 * the payload is too short; the cursor then stays where it was. */
typedef struct mx_rd_s {
    const uint8_t *p;    /* next unread byte */
    const uint8_t *end;  /* one past the payload */
    bool bad;            /* a read ran past the end */
} mx_rd_t;

static inline void mx_rd_init(mx_rd_t *r, const uint8_t *p, size_t len) { r->p = p; r->end = p + len; r->bad = false; }
static inline size_t mx_rd_left(const mx_rd_t *r) { return (size_t)(r->end - r->p); }

bool mx_rd_u8(mx_rd_t *r, uint8_t *v);
bool mx_rd_fixed(mx_rd_t *r, size_t n, uint64_t *v);        /* n = 1..8, little endian */
bool mx_rd_lenenc(mx_rd_t *r, uint64_t *v, bool *is_null);  /* is_null may be NULL: 0xFB is then an error */
bool mx_rd_bytes(mx_rd_t *r, size_t n, mx_str_t *out);
bool mx_rd_lenenc_str(mx_rd_t *r, mx_str_t *out);
bool mx_rd_nulstr(mx_rd_t *r, mx_str_t *out);               /* up to a NUL, which is consumed */
bool mx_rd_eofstr(mx_rd_t *r, mx_str_t *out);               /* the rest of the payload */

/* Decode a length-encoded integer at p with n bytes available.
 * Returns bytes consumed (>0), 0 if n is too short, <0 if the first byte is
 * not a valid prefix (0xFB NULL and 0xFF are rejected). */
int mx_lenenc_decode(const uint8_t *p, size_t n, uint64_t *v);
/* Bytes the length-encoded form of v takes (1, 3, 4 or 9). */
size_t mx_lenenc_size(uint64_t v);

/* ---- parsed packets ---------------------------------------------------- */

/* Initial Handshake Packet v10, as a backend sends it. */
typedef struct mx_handshake_s {
    uint8_t protocol;            /* always 10 */
    mx_str_t server_version;
    uint32_t conn_id;
    uint8_t scramble[MX_SCRAMBLE_LEN + 1]; /* auth-plugin-data parts 1+2 */
    size_t scramble_len;
    uint32_t caps;               /* lower 32 capability bits */
    uint32_t ext_caps;           /* MX_MARIADB_*; 0 unless CLIENT_LONG_PASSWORD is clear */
    uint8_t charset;
    uint16_t status;
    mx_str_t auth_plugin;        /* empty when not sent */
} mx_handshake_t;

/* Returns 0 on success, <0 if malformed. */
int mx_parse_handshake(const uint8_t *p, size_t len, mx_handshake_t *hs);

/* Handshake Response 41 (from a client), or the 32-byte SSLRequest that
 * precedes it under TLS (then is_ssl_request is set and nothing else). */
typedef struct mx_hsresp_s {
    uint32_t caps;
    uint32_t ext_caps;           /* MX_MARIADB_*; 0 unless CLIENT_LONG_PASSWORD is clear */
    uint32_t max_packet;
    uint8_t charset;
    bool is_ssl_request;
    mx_str_t user;
    mx_str_t auth;               /* auth response bytes */
    mx_str_t db;                 /* empty when not sent */
    mx_str_t plugin;             /* empty when not sent */
    mx_str_t attrs;              /* raw connection attributes, may be empty */
} mx_hsresp_t;

int mx_parse_hsresp(const uint8_t *p, size_t len, mx_hsresp_t *hr);

/* COM_CHANGE_USER payload (including the 0x11 command byte). */
typedef struct mx_change_user_s {
    mx_str_t user;
    mx_str_t auth;
    mx_str_t db;
    uint16_t charset;            /* 0 when not sent */
    mx_str_t plugin;
    mx_str_t attrs;
} mx_change_user_t;

int mx_parse_change_user(const uint8_t *p, size_t len, uint32_t client_caps, mx_change_user_t *cu);

/* OK packet (header 0x00, or 0xFE when it ends a result set). `caps` are the
 * capabilities negotiated on the connection it came from. */
typedef struct mx_ok_s {
    uint64_t affected_rows;
    uint64_t last_insert_id;
    uint16_t status;
    uint16_t warnings;
    mx_str_t info;
    mx_str_t session_state;      /* raw tracker entries; empty unless SESSION_STATE flag */
} mx_ok_t;

int mx_parse_ok(const uint8_t *p, size_t len, uint32_t caps, mx_ok_t *ok);

/* Classic EOF packet (0xFE, payload length 5). */
int mx_parse_eof(const uint8_t *p, size_t len, uint16_t *warnings, uint16_t *status);

/* ERR packet (0xFF).  sqlstate is "HY000" when the packet carries none. */
typedef struct mx_err_s {
    uint16_t code;
    char sqlstate[6];
    mx_str_t message;
} mx_err_t;

int mx_parse_err(const uint8_t *p, size_t len, mx_err_t *err);

/* COM_STMT_PREPARE_OK (header 0x00, payload length >= 12). */
typedef struct mx_prepare_ok_s {
    uint32_t stmt_id;
    uint16_t num_columns;
    uint16_t num_params;
    uint16_t warnings;
} mx_prepare_ok_t;

int mx_parse_prepare_ok(const uint8_t *p, size_t len, mx_prepare_ok_t *pok);

/* COM_STMT_BULK_EXECUTE header: command byte, statement id, flags.
 * Returns 0, or <0 when the payload is too short for them. */
typedef struct mx_bulk_s {
    uint32_t stmt_id;
    uint16_t flags;              /* MX_BULK_* */
    size_t types_at;             /* offset of the parameter types (when MX_BULK_SEND_TYPES) */
} mx_bulk_t;

int mx_parse_bulk_execute(const uint8_t *p, size_t len, mx_bulk_t *bk);

/* Column Definition 41.  `ext_type_info` says whether the connection it came
 * from negotiated MX_MARIADB_EXTENDED_TYPE_INFO: such a definition carries a
 * length-encoded block of type information (entries of a 1-byte key, 0 the
 * type name such as "point", 1 the format such as "json", and a
 * length-encoded value) between
 * org_name and the fixed fields.  Returns 0, or <0 if malformed. */
typedef struct mx_coldef_s {
    mx_str_t catalog, schema, table, org_table, name, org_name;
    mx_str_t ext_info;           /* the raw block; empty when absent */
    uint16_t charset;
    uint32_t length;
    uint8_t type;
    uint16_t flags;
    uint8_t decimals;
} mx_coldef_t;

int mx_parse_column_def(const uint8_t *p, size_t len, bool ext_type_info, mx_coldef_t *cd);
/* The value of entry `key` (0 type name, 1 format) in an ext_info block;
 * false when absent or the block is malformed. */
bool mx_coldef_ext_value(const mx_coldef_t *cd, uint8_t key, mx_str_t *out);

/* Iterator over the session-state entries of an OK packet.
 * Returns 1 and fills the entry, 0 at the end, <0 if malformed.
 * For MX_TRACK_SYSTEM_VARIABLES name/value are set; for MX_TRACK_SCHEMA
 * name is the schema; for the others `data` holds the raw entry data. */
typedef struct mx_track_s {
    uint8_t type;
    mx_str_t data;
    mx_str_t name;
    mx_str_t value;
} mx_track_t;

int mx_track_next(mx_rd_t *r, mx_track_t *t);

/* ---- writer ------------------------------------------------------------ */

/* Growable output buffer that holds one or more complete packets.  Every put
 * is a no-op once `failed` is set (allocation failure or a packet over the
 * 16 MB limit); check it once before sending. */
typedef struct mx_pktbuf_s {
    uint8_t *data;
    size_t len;                  /* bytes of complete + current packets */
    size_t cap;
    size_t start;                /* offset of the current packet's header */
    bool failed;
    bool fixed;                  /* data is caller memory: never realloc */
} mx_pktbuf_t;

void mx_pktbuf_init(mx_pktbuf_t *b);                       /* heap, grows */
void mx_pktbuf_init_fixed(mx_pktbuf_t *b, uint8_t *mem, size_t cap);
void mx_pktbuf_free(mx_pktbuf_t *b);
void mx_pktbuf_reset(mx_pktbuf_t *b);                      /* keep memory, drop content */

void mx_pkt_begin(mx_pktbuf_t *b, uint8_t seq);
void mx_pkt_end(mx_pktbuf_t *b);                           /* fills the header */
void mx_put_u8(mx_pktbuf_t *b, uint8_t v);
void mx_put_u16(mx_pktbuf_t *b, uint16_t v);
void mx_put_u24(mx_pktbuf_t *b, uint32_t v);
void mx_put_u32(mx_pktbuf_t *b, uint32_t v);
void mx_put_u64(mx_pktbuf_t *b, uint64_t v);
void mx_put_lenenc(mx_pktbuf_t *b, uint64_t v);
void mx_put_bytes(mx_pktbuf_t *b, const void *p, size_t n);
void mx_put_zeros(mx_pktbuf_t *b, size_t n);
void mx_put_cstr(mx_pktbuf_t *b, const char *s);           /* with its NUL */
void mx_put_lenenc_str(mx_pktbuf_t *b, const void *p, size_t n);

/* Whole packets.  `caps` decides the OK layout (PROTOCOL_41, SESSION_TRACK). */
void mx_pkt_ok(mx_pktbuf_t *b, uint8_t seq, uint32_t caps, uint64_t affected,
               uint64_t insert_id, uint16_t status, uint16_t warnings, const char *info);
void mx_pkt_err(mx_pktbuf_t *b, uint8_t seq, uint16_t code, const char *sqlstate,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void mx_pkt_eof(mx_pktbuf_t *b, uint8_t seq, uint16_t warnings, uint16_t status);

/* Re-encode an OK packet that came from a backend (negotiated with
 * `from_caps`) for a client that negotiated `to_caps`: drops the session
 * state (and the lenenc info framing) when the client did not ask for
 * CLIENT_SESSION_TRACK.  `hdr` is the 0x00 or 0xFE header byte to write. */
void mx_pkt_ok_reencode(mx_pktbuf_t *b, uint8_t seq, uint8_t hdr, const mx_ok_t *ok,
                        uint32_t to_caps);

/* Server side Initial Handshake v10 that manx sends to its clients.
 * `ext_caps` (MX_MARIADB_*) are written only when caps lacks
 * CLIENT_LONG_PASSWORD, as a MariaDB server does; otherwise they are 0. */
void mx_pkt_handshake(mx_pktbuf_t *b, const char *server_version, uint32_t conn_id,
                      const uint8_t scramble[MX_SCRAMBLE_LEN], uint32_t caps, uint32_t ext_caps,
                      uint8_t charset, uint16_t status, const char *plugin);

/* Client side Handshake Response 41 that manx sends to a backend;
 * `ext_caps` as for mx_pkt_handshake(). */
void mx_pkt_hsresp(mx_pktbuf_t *b, uint8_t seq, uint32_t caps, uint32_t ext_caps, uint32_t max_packet,
                   uint8_t charset, const char *user, const uint8_t *auth, size_t auth_len,
                   const char *db, const char *plugin);
/* The 32-byte SSLRequest sent before the TLS handshake. */
void mx_pkt_ssl_request(mx_pktbuf_t *b, uint8_t seq, uint32_t caps, uint32_t ext_caps, uint32_t max_packet,
                        uint8_t charset);
/* Auth Switch Request (0xFE plugin NUL data), sent by manx to a client. */
void mx_pkt_auth_switch(mx_pktbuf_t *b, uint8_t seq, const char *plugin,
                        const uint8_t *data, size_t len);
/* Auth More Data (0x01 data). */
void mx_pkt_auth_more(mx_pktbuf_t *b, uint8_t seq, const uint8_t *data, size_t len);

/* Result sets built by manx itself (admin console, SHOW DATABASES).
 * Text protocol, classic EOF framing (manx never advertises DEPRECATE_EOF). */
void mx_pkt_column_count(mx_pktbuf_t *b, uint8_t seq, uint64_t n);
/* `ext_type_info`: the client negotiated MX_MARIADB_EXTENDED_TYPE_INFO, so
 * the definition carries an (empty) type-info block. */
void mx_pkt_column_def(mx_pktbuf_t *b, uint8_t seq, const char *schema, const char *table,
                       const char *name, uint8_t type, uint32_t length, uint16_t charset,
                       bool ext_type_info);
/* One text row: `vals[i]` NULL means SQL NULL. */
void mx_pkt_text_row(mx_pktbuf_t *b, uint8_t seq, const char *const *vals, size_t n);

/* Column types used by manx's own result sets. */
#define MX_TYPE_LONGLONG   0x08
#define MX_TYPE_VAR_STRING 0xfd

#endif
