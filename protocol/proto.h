/* MySQL client/server protocol constants and the small inline readers every
 * other protocol file uses.  Nothing here does I/O or allocates. */
#ifndef MX_PROTOCOL_PROTO_H
#define MX_PROTOCOL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MX_PKT_HDR       4          /* 3-byte length + 1-byte sequence id */
#define MX_PKT_MAX       0xFFFFFFu  /* a payload of this length continues */
#define MX_SCRAMBLE_LEN  20

/* Commands (first payload byte of a client request). */
enum {
    MX_COM_SLEEP = 0x00, MX_COM_QUIT = 0x01, MX_COM_INIT_DB = 0x02,
    MX_COM_QUERY = 0x03, MX_COM_FIELD_LIST = 0x04, MX_COM_CREATE_DB = 0x05,
    MX_COM_DROP_DB = 0x06, MX_COM_REFRESH = 0x07, MX_COM_SHUTDOWN = 0x08,
    MX_COM_STATISTICS = 0x09, MX_COM_PROCESS_INFO = 0x0a, MX_COM_CONNECT = 0x0b,
    MX_COM_PROCESS_KILL = 0x0c, MX_COM_DEBUG = 0x0d, MX_COM_PING = 0x0e,
    MX_COM_TIME = 0x0f, MX_COM_DELAYED_INSERT = 0x10, MX_COM_CHANGE_USER = 0x11,
    MX_COM_BINLOG_DUMP = 0x12, MX_COM_TABLE_DUMP = 0x13,
    MX_COM_CONNECT_OUT = 0x14, MX_COM_REGISTER_SLAVE = 0x15,
    MX_COM_STMT_PREPARE = 0x16, MX_COM_STMT_EXECUTE = 0x17,
    MX_COM_STMT_SEND_LONG_DATA = 0x18, MX_COM_STMT_CLOSE = 0x19,
    MX_COM_STMT_RESET = 0x1a, MX_COM_SET_OPTION = 0x1b,
    MX_COM_STMT_FETCH = 0x1c, MX_COM_DAEMON = 0x1d,
    MX_COM_BINLOG_DUMP_GTID = 0x1e, MX_COM_RESET_CONNECTION = 0x1f,
    MX_COM_STMT_BULK_EXECUTE = 0xfa, /* MariaDB: many parameter rows in one packet */
};

/* Capability flags (the low 32 bits; MariaDB's extended ones follow). */
#define MX_CLIENT_LONG_PASSWORD      (1u << 0)  /* a.k.a. CLIENT_MYSQL */
#define MX_CLIENT_FOUND_ROWS         (1u << 1)
#define MX_CLIENT_LONG_FLAG          (1u << 2)
#define MX_CLIENT_CONNECT_WITH_DB    (1u << 3)
#define MX_CLIENT_NO_SCHEMA          (1u << 4)
#define MX_CLIENT_COMPRESS           (1u << 5)
#define MX_CLIENT_ODBC               (1u << 6)
#define MX_CLIENT_LOCAL_FILES        (1u << 7)
#define MX_CLIENT_IGNORE_SPACE       (1u << 8)
#define MX_CLIENT_PROTOCOL_41        (1u << 9)
#define MX_CLIENT_INTERACTIVE        (1u << 10)
#define MX_CLIENT_SSL                (1u << 11)
#define MX_CLIENT_IGNORE_SIGPIPE     (1u << 12)
#define MX_CLIENT_TRANSACTIONS       (1u << 13)
#define MX_CLIENT_RESERVED           (1u << 14)
#define MX_CLIENT_SECURE_CONNECTION  (1u << 15)
#define MX_CLIENT_MULTI_STATEMENTS   (1u << 16)
#define MX_CLIENT_MULTI_RESULTS      (1u << 17)
#define MX_CLIENT_PS_MULTI_RESULTS   (1u << 18)
#define MX_CLIENT_PLUGIN_AUTH        (1u << 19)
#define MX_CLIENT_CONNECT_ATTRS      (1u << 20)
#define MX_CLIENT_PLUGIN_AUTH_LENENC (1u << 21)
#define MX_CLIENT_CAN_HANDLE_EXPIRED (1u << 22)
#define MX_CLIENT_SESSION_TRACK      (1u << 23)
#define MX_CLIENT_DEPRECATE_EOF      (1u << 24)

/* MariaDB's extended capabilities: bits 32-63 of the capability flags,
 * written here shifted down by 32 as they travel on the wire.  A MariaDB
 * server clears CLIENT_LONG_PASSWORD (its "CLIENT_MYSQL") in its greeting
 * and puts them in the last 4 of the greeting's 10 reserved bytes; a client
 * that clears CLIENT_MYSQL too answers with its own in the last 4 of the
 * handshake response's 23 reserved bytes.  Either side with CLIENT_MYSQL set
 * means: none. */
#define MX_MARIADB_PROGRESS          (1u << 0)  /* 1<<32: progress reports as 0xFFFF ERR packets */
#define MX_MARIADB_COM_MULTI         (1u << 1)  /* 1<<33: COM_MULTI (never released) */
#define MX_MARIADB_STMT_BULK_OPS     (1u << 2)  /* 1<<34: COM_STMT_BULK_EXECUTE */
#define MX_MARIADB_EXTENDED_TYPE_INFO (1u << 3) /* 1<<35: column definitions carry a type-info block */
#define MX_MARIADB_CACHE_METADATA    (1u << 4)  /* 1<<36: metadata skipped when unchanged */
#define MX_MARIADB_BULK_UNIT_RESULTS (1u << 5)  /* 1<<37: per-row results of a bulk execute */

/* COM_STMT_BULK_EXECUTE flags (2 bytes after the statement id). */
#define MX_BULK_SEND_UNIT_RESULTS    0x40  /* only with MX_MARIADB_BULK_UNIT_RESULTS */
#define MX_BULK_SEND_TYPES           0x80  /* parameter types follow the flags */

/* Server status flags (OK/EOF packets). */
#define MX_STATUS_IN_TRANS            0x0001
#define MX_STATUS_AUTOCOMMIT          0x0002
#define MX_STATUS_MORE_RESULTS        0x0008
#define MX_STATUS_NO_GOOD_INDEX       0x0010
#define MX_STATUS_NO_INDEX            0x0020
#define MX_STATUS_CURSOR_EXISTS       0x0040
#define MX_STATUS_LAST_ROW_SENT       0x0080
#define MX_STATUS_DB_DROPPED          0x0100
#define MX_STATUS_NO_BACKSLASH_ESC    0x0200
#define MX_STATUS_METADATA_CHANGED    0x0400
#define MX_STATUS_QUERY_WAS_SLOW      0x0800
#define MX_STATUS_PS_OUT_PARAMS       0x1000
#define MX_STATUS_IN_TRANS_READONLY   0x2000
#define MX_STATUS_SESSION_STATE       0x4000

/* Session state tracker entry types (OK packet, CLIENT_SESSION_TRACK). */
enum {
    MX_TRACK_SYSTEM_VARIABLES = 0,
    MX_TRACK_SCHEMA = 1,
    MX_TRACK_STATE_CHANGE = 2,
    MX_TRACK_GTIDS = 3,
    MX_TRACK_TRANSACTION_CHARACTERISTICS = 4,
    MX_TRACK_TRANSACTION_STATE = 5,
};

/* COM_SET_OPTION arguments. */
#define MX_OPTION_MULTI_STATEMENTS_ON  0
#define MX_OPTION_MULTI_STATEMENTS_OFF 1

/* Error codes manx itself sends. */
#define MX_ER_CON_COUNT          1040
#define MX_ER_HANDSHAKE          1043
#define MX_ER_DBACCESS_DENIED    1044
#define MX_ER_ACCESS_DENIED      1045
#define MX_ER_NO_DB              1046
#define MX_ER_UNKNOWN_COM        1047
#define MX_ER_BAD_DB             1049
#define MX_ER_NET_PACKET_TOO_LARGE 1153
#define MX_ER_NET_READ_ERROR     1158
#define MX_ER_NOT_SUPPORTED_AUTH 1251
#define MX_ER_OPTION_PREVENTS    1290
#define MX_ER_SECURE_TRANSPORT   3159
#define MX_ER_UNKNOWN_STMT       1243
#define MX_ER_MALFORMED_PACKET   1835
/* Backend trouble is reported with server-range codes: libmariadb turns an
 * ERR packet carrying a client-range code (2003, 2013) into 2027
 * "malformed packet". */
#define MX_ER_BACKEND_LOST       1927 /* ER_CONNECTION_KILLED, SQLSTATE 70100 */
#define MX_ER_PROXY_BACKEND      1105 /* ER_UNKNOWN_ERROR: can't connect to backend */

static inline uint32_t mx_rd_u16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t mx_rd_u24(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }
static inline uint32_t mx_rd_u32(const uint8_t *p) { return mx_rd_u24(p) | (uint32_t)p[3] << 24; }
static inline uint64_t mx_rd_u64(const uint8_t *p) { return (uint64_t)mx_rd_u32(p) | (uint64_t)mx_rd_u32(p + 4) << 32; }
static inline void mx_wr_u16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void mx_wr_u24(uint8_t *p, uint32_t v) { mx_wr_u16(p, v); p[2] = (uint8_t)(v >> 16); }
static inline void mx_wr_u32(uint8_t *p, uint32_t v) { mx_wr_u24(p, v); p[3] = (uint8_t)(v >> 24); }

/* Payload length and sequence id of the packet header at p (4 bytes). */
static inline uint32_t mx_pkt_len(const uint8_t *p) { return mx_rd_u24(p); }
static inline uint8_t mx_pkt_seq(const uint8_t *p) { return p[3]; }

#endif
