/* A scripted fake MariaDB backend for the client-session fuzz driver
 * (STYLE.md 18): it runs on the caller's libuv loop, accepts manx's backend
 * connections, accepts any password and answers every command the way a
 * server would (OK, a one-row result set for SELECTs, PREPARE_OK with the
 * parameter count from the '?'s, LOCAL INFILE requests...), with session
 * tracking entries so that manx's state replay and pinning run.  A script
 * makes it misbehave: refuse or stall a handshake, close, stall or answer
 * ERR or garbage at the N-th command, send responses in pieces, send rows
 * of any size up to a 16 MB + continuation one. */
#ifndef MX_TESTS_FAKEBACKEND_H
#define MX_TESTS_FAKEBACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* What the handshake of a connection does. */
enum {
    FB_HS_OK,        /* handshake, OK to any password */
    FB_HS_ERR,       /* ERR 1040 instead of a handshake, then close */
    FB_HS_STALL,     /* accept and never say anything */
    FB_HS_GARBAGE,   /* a packet that is no handshake */
    FB_HS_AUTH_ERR,  /* ERR 1045 to the handshake response */
    FB_HS_SWITCH,    /* auth switch to mysql_native_password, then OK */
    FB_HS_CLOSE,     /* close right after accept */
    FB_HS_SETUP_ERR, /* OK to the login, ERR to the first command */
    FB_HS_SHA2,      /* caching_sha2_password, "fast auth success", OK */
    FB_HS_COUNT
};

/* What the command number `fault_at` gets instead of its answer. */
enum {
    FB_FAULT_CLOSE,       /* close the connection */
    FB_FAULT_ERR,         /* ERR 1064 */
    FB_FAULT_STALL,       /* no answer, and ignore everything after */
    FB_FAULT_GARBAGE,     /* a packet no response starts with */
    FB_FAULT_HALF_CLOSE,  /* the first half of the answer, then close */
    FB_FAULT_HALF_STALL,  /* the first half of the answer, then nothing */
    FB_FAULT_COUNT
};

typedef struct fb_script_s {
    uint8_t hs_mode;      /* FB_HS_* for connection number hs_conn */
    uint8_t hs_conn;      /* accept order, from 0; 0xFF = every connection */
    uint32_t fault_at;    /* command number (from 1, over all connections) that misbehaves; 0 = none */
    uint8_t fault;        /* FB_FAULT_* */
    uint32_t row_len;     /* length of the value in a SELECT's row ... */
    uint32_t row_times;   /* ... for this many rows, then 1 (0: no limit) */
    uint32_t split_at;    /* > 0: write each response in two pieces, this many bytes first */
    bool multi;           /* statements with ';' get an extra OK (MORE_RESULTS) first */
    bool warnings;        /* SELECTs end with one warning */
    int gtid_wait;        /* what MASTER_GTID_WAIT returns: 0, -1, or 2 for NULL */
    bool ext_caps;        /* greet as MariaDB 10.5+: bulk execute and extended type info offered */
} fb_script_t;

typedef struct fb_s fb_t;

/* Serve on `loop`, on a dup of the listening socket `listen_fd`.
 * Returns NULL on failure. */
fb_t *fb_start(uv_loop_t *loop, int listen_fd, const fb_script_t *script);
/* Close every connection (as a backend that died would). */
void fb_drop_connections(fb_t *fb);
/* Close everything; the loop must run until fb_closed() before fb_free(). */
void fb_close(fb_t *fb);
bool fb_closed(const fb_t *fb);
void fb_free(fb_t *fb);
/* Commands received so far (over all connections). */
uint32_t fb_commands(const fb_t *fb);

#endif
