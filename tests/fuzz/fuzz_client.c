/* libFuzzer driver for the client session state machine itself (issue 8):
 * one real manx worker, initialised as main.c does it but with its loop run
 * here instead of in a thread, a scripted fake backend on the same loop
 * (fakebackend.c), and up to three client connections on real loopback
 * sockets.  The input is a small program: how the backend misbehaves, then
 * connections that log in (right, wrong, garbage, SSL request without TLS,
 * auth switch, caching_sha2 with RSA) and send packets of every command at
 * sizes around every buffer boundary (0, 1, MX_RESP_PEEK, 32 KiB +- 1,
 * max_packet, 16 MB - 1, 16 MB + continuation), cut short, split into
 * pieces with loop turns in between, with wrong sequence ids.  Big payloads
 * are synthesised, not read from the input.
 *
 * Checked besides what ASan/UBSan see: the worker's read buffers are
 * followed by PROT_NONE memory longer than a packet, so a read position
 * that runs past its buffer faults at its first byte (in every build); between loop turns no
 * session's read position passes the bytes it received; once the clients
 * hung up (and the backend answered or died) the worker has no session
 * left; after the worker stopped, no handle is open and no client or
 * backend slot is still counted.  The input format is described above
 * LLVMFuzzerTestOneInput(), read_script(), open_slot() and run_command();
 * tests/fuzz/gen_client_corpus.py writes the seeds.
 *
 * Environment: MX_FUZZ_LOG=error|warning|info|debug shows manx's log and
 * what the client does; MX_FUZZ_TIME=1 prints each input's time;
 * MX_FUZZ_MAX_PAYLOAD=N caps client packets at N bytes (to look past a
 * known crash that needs big ones). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "fakebackend.h"
#include "protocol/auth.h"
#include "protocol/packet.h"
#include "proxy/log.h"
#include "proxy/proxy-t.h"
#include "proxy/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process state manx's code reads; main.c owns it in manx itself. */
mx_proc_t mx_proc;

#define N_SLOTS 3
#define BUDGET (40u * 1024 * 1024) /* synthesised bytes per input: keeps iterations fast */
#define WAIT_BUDGET 150            /* ms an input may spend in wait operations */
#define MAX_TURNS 2000000          /* a loop that never goes quiet is a finding */
#define N_GUARDED 16               /* read buffers followed by an inaccessible guard */
/* A read position can run past its buffer by at most one packet. */
#define GUARD_SIZE ((size_t)16 * 1024 * 1024 + 64 * 1024)

/* ---- the configuration --------------------------------------------------------- */

/* Timeouts are short so that inputs stay fast, but not so short that they
 * pre-empt a healthy exchange: libuv starts a timer from the time cached
 * at the loop turn's start, which can be stale by the time it took to
 * write megabytes (10 ms was too short under ASan at -O0).
 *
 * Schemas: fz is renamed (database fzdb: qualifier mapping runs) on a
 * dataHost with max_con = 1 (a second session waits for the pool); fzr
 * reads from a replica with consistency = session and sql_max_limit; dead
 * points at a port nobody listens on. */
static const char ini_fmt[] =
    "[manx]\n"
    "listen = 127.0.0.1:%u\n"
    "admin_listen = 127.0.0.1:%u\n"
    "workers = 1\n"
    "state_dir = /nonexistent/manx-fuzz-client\n"
    "max_connections = 2\n"
    "max_packet = 4M\n"
    "connect_timeout = 40ms\n"
    "pool_wait_timeout = 25ms\n"
    "client_idle_timeout = 60ms\n"
    "net_read_timeout = 25ms\n"
    "max_login_failures = 0\n"
    "shutdown_timeout = 0\n"
    "[admin]\n"
    "user = admin\n"
    "password = adminpw\n"
    "[user app]\n"
    "password = apppw\n"
    "schemas = fz, fzr, dead\n"
    "[user ro]\n"
    "password = ropw\n"
    "schemas = fz, fzr\n"
    "readonly = true\n"
    "strict_schemas = true\n"
    "[user sha]\n"
    "password = shapw\n"
    "schemas = fz\n"
    "auth_plugin = caching_sha2_password\n"
    "[user nopw]\n"
    "password =\n"
    "schemas = fzr\n"
    "[schema fz]\n"
    "datanode = dn_fz\n"
    "[schema fzr]\n"
    "datanode = dn_fzr\n"
    "sql_max_limit = 10\n"
    "[schema dead]\n"
    "datanode = dn_dead\n"
    "[datanode dn_fz]\n"
    "datahost = dh1\n"
    "database = fzdb\n"
    "[datanode dn_fzr]\n"
    "datahost = dh2\n"
    "database = fzr\n"
    "[datanode dn_dead]\n"
    "datahost = dh3\n"
    "database = dead\n"
    "[datahost dh1]\n"
    "balance = 0\n"
    "max_con = 1\n"
    "min_con = 0\n"
    "write_hosts = h1, h1b\n"
    "[datahost dh2]\n"
    "balance = 1\n"
    "max_con = 4\n"
    "min_con = 0\n"
    "consistency = session\n"
    "write_hosts = w2\n"
    "[datahost dh3]\n"
    "max_con = 2\n"
    "min_con = 0\n"
    "write_hosts = hdead\n"
    "[host h1]\n"
    "address = 127.0.0.1:%u\n"
    "user = fz\n"
    "password = fzpw\n"
    "[host h1b]\n"
    "address = 127.0.0.1:%u\n"
    "user = fz\n"
    "password = fzpw\n"
    "[host w2]\n"
    "address = 127.0.0.1:%u\n"
    "user = fz\n"
    "password = fzpw\n"
    "read_hosts = r2\n"
    "[host r2]\n"
    "address = 127.0.0.1:%u\n"
    "user = fz\n"
    "[host hdead]\n"
    "address = 127.0.0.1:%u\n"
    "user = fz\n"
    "password = fzpw\n";

/* ---- driver state ----------------------------------------------------------------- */

typedef struct slot_s {
    int fd;                      /* -1 when not connected */
    bool slow;                   /* never read (small receive buffer): manx's writes back up */
    bool eof;                    /* manx closed, or a write failed */
    bool logged_in;
    bool keep_rx;                /* collect what arrives in rx (login) */
    uint8_t scramble[MX_SCRAMBLE_LEN];
    uint8_t rx[8192];
    size_t rx_len, rx_pos;
} slot_t;

static struct {
    bool ready;
    bool timing;                 /* MX_FUZZ_TIME set: print each input's time */
    bool trace;                  /* MX_FUZZ_LOG set: say what the client does, too */
    uint32_t max_payload;        /* MX_FUZZ_MAX_PAYLOAD: cap on client packet sizes */
    int manx_fd, admin_fd, backend_fd, dead_fd;
    uint64_t budget;             /* synthesised bytes left for this input */
    unsigned wait_left;          /* ms of wait operations left for this input */
    uint32_t big_rows;           /* huge rows the backend may still send */
    mx_worker_t *w;
    fb_t *fb;
    slot_t slots[N_SLOTS];
    uint8_t *guarded[N_GUARDED]; /* MX_BUF_SIZE usable bytes, then GUARD_SIZE of PROT_NONE */
} fz;

/* ---- input -------------------------------------------------------------------------- */

typedef struct in_s {
    const uint8_t *p;
    size_t n;
} in_t;

/* Bytes past the end of the input read as 0. */
static uint8_t in_u8(in_t *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static size_t in_take(in_t *in, uint8_t *out, size_t want)
{
    size_t n = want < in->n ? want : in->n;
    memcpy(out, in->p, n);
    in->p += n;
    in->n -= n;
    return n;
}

/* ---- tracing ----------------------------------------------------------------------------------- */

/* With MX_FUZZ_LOG set, what the client does goes into the same log as
 * manx's lines, so a finding reads as a story. */
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    if (!fz.trace)
        return;
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fuzz_client> %s\n", line);
}

/* ---- running the loop ------------------------------------------------------------------ */

static uv_loop_t *loop(void)
{
    return &fz.w->loop;
}

/* Buffer positions only move over bytes that are there (STYLE.md 24): a
 * session whose read position passed what it received has already read or
 * will read outside its buffer, even when ASan did not see it land in a
 * redzone. */
static void check_sessions(void)
{
    mx_worker_t *w = fz.w;
    for (mx_list_t *l = w->clients.next; l != &w->clients; l = l->next) {
        const mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, link);
        const mx_conn_t *c = &cl->conn;
        if (c->rpos > c->rend || c->rend > MX_BUF_SIZE || (!c->buf && c->rend)) {
            fprintf(stderr,
                    "fuzz_client: C-%u (state %d, command 0x%02x): read position %u is past the %u bytes "
                    "received (buffer of %u)\n",
                    cl->id, (int)cl->state, cl->cmd, c->rpos, c->rend, (unsigned)MX_BUF_SIZE);
            abort();
        }
    }
}

/* Take what manx sent on slot s.  True when something arrived or the
 * connection ended. */
static bool slot_drain(slot_t *s)
{
    /* A slow reader still reads its login exchange. */
    if (s->fd < 0 || (s->slow && !s->keep_rx) || s->eof)
        return false;
    bool moved = false;
    for (;;) {
        static uint8_t buf[64 * 1024];
        ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            moved = true;
            trace("slot %d: received %zd bytes", (int)(s - fz.slots), n);
            if (s->keep_rx) {
                size_t k = (size_t)n < sizeof(s->rx) - s->rx_len ? (size_t)n : sizeof(s->rx) - s->rx_len;
                memcpy(s->rx + s->rx_len, buf, k);
                s->rx_len += k;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            s->eof = true;
            moved = true;
        }
        return moved;
    }
}

/* Whether the loop has something to do right now: an event is ready, a
 * timer is due or handles are being closed. */
static bool loop_busy(void)
{
    if (uv_backend_timeout(loop()) == 0)
        return true;
    struct pollfd p = { .fd = uv_backend_fd(loop()), .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

static uint64_t turns;

/* One turn of the loop, then collect manx's output.  True when anything
 * may still be moving. */
static bool turn(void)
{
    if (++turns > MAX_TURNS) {
        fprintf(stderr, "fuzz_client: the loop did not go quiet in %d turns\n", MAX_TURNS);
        abort();
    }
    uv_run(loop(), UV_RUN_NOWAIT);
    check_sessions();
    bool moved = false;
    for (int i = 0; i < N_SLOTS; i++)
        moved |= slot_drain(&fz.slots[i]);
    return moved || loop_busy();
}

/* Run until nothing is left to do now (timers due later do not count). */
static void settle(void)
{
    for (int idle = 0; idle < 2;)
        idle = turn() ? 0 : idle + 1;
}

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

/* Let time pass (timers fire), at most `ms`, or until done() says so. */
static void wait_ms(uint64_t ms, bool (*done)(void))
{
    uint64_t end = now_ms() + ms;
    for (;;) {
        settle();
        uint64_t now = now_ms();
        if (now >= end || (done && done()))
            return;
        int t = uv_backend_timeout(loop());
        uint64_t left = end - now;
        if (t < 0 || (uint64_t)t > left)
            t = (int)left;
        struct pollfd p = { .fd = uv_backend_fd(loop()), .events = POLLIN };
        poll(&p, 1, t);
    }
}

/* A wait the input asks for, within what is left of its wait budget. */
static void input_wait(unsigned ms)
{
    if (ms > fz.wait_left)
        ms = fz.wait_left;
    fz.wait_left -= ms;
    trace("wait %u ms", ms);
    wait_ms(ms, NULL);
}

/* ---- client connections ------------------------------------------------------------------- */

static void slot_close(slot_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

/* Write all of p, turning the loop while the socket is full.  False when
 * the connection is gone or manx stopped taking bytes (the rest is then
 * dropped: the client "left it idle"). */
static bool slot_write(slot_t *s, const uint8_t *p, size_t n)
{
    if (s->fd < 0 || s->eof)
        return false;
    int stuck = 0;
    while (n) {
        ssize_t k = send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            stuck = 0;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!turn() && ++stuck > 2)
                return false;
            continue;
        }
        s->eof = true;
        return false;
    }
    return true;
}

static bool slot_connect(slot_t *s, bool admin)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    if (getsockname(admin ? fz.admin_fd : fz.manx_fd, (struct sockaddr *)&a, &al) < 0)
        return false;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return false;
    /* Without it a small packet behind one manx does not answer (a
     * COM_STMT_CLOSE) waits for a delayed ACK: 40 ms of nothing. */
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (s->slow) {
        int small = 4096;
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    }
    /* A blocking connect to a listening loopback socket completes at once
     * (the kernel finishes the handshake; accept happens in the loop). */
    if (connect(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(s->fd);
        s->fd = -1;
        return false;
    }
    return true;
}

/* The next whole packet manx sent during login, or NULL. */
static const uint8_t *rx_packet(slot_t *s, uint32_t *len, uint8_t *seq)
{
    if (s->rx_len - s->rx_pos < MX_PKT_HDR)
        return NULL;
    const uint8_t *h = s->rx + s->rx_pos;
    uint32_t l = mx_pkt_len(h);
    if (s->rx_len - s->rx_pos - MX_PKT_HDR < l)
        return NULL;
    s->rx_pos += MX_PKT_HDR + l;
    *len = l;
    *seq = mx_pkt_seq(h);
    return h + MX_PKT_HDR;
}

static bool send_pktbuf(slot_t *s, mx_pktbuf_t *b)
{
    bool ok = !b->failed && slot_write(s, b->data, b->len);
    mx_pktbuf_reset(b);
    return ok;
}

typedef struct cred_s {
    const char *user;
    const char *password;
} cred_t;

/* Follow manx's answers to a handshake response: auth switch, caching_sha2
 * fast or full authentication (with the RSA key manx sends), until OK or
 * ERR.  `pw` is what the client believes the password is. */
static void finish_auth(slot_t *s, const char *pw)
{
    mx_pktbuf_t b;
    mx_pktbuf_init(&b);
    for (int step = 0; step < 6; step++) {
        settle();
        uint32_t len;
        uint8_t seq;
        const uint8_t *p = rx_packet(s, &len, &seq);
        if (!p || len == 0)
            break;
        if (p[0] == 0x00) {
            s->logged_in = true;
            break;
        }
        if (p[0] == 0xFF)
            break;
        uint8_t auth[512];
        size_t auth_len = 0;
        if (p[0] == 0xFE) {
            const uint8_t *nul = memchr(p + 1, 0, len - 1);
            if (!nul)
                break;
            const char *plugin = (const char *)p + 1;
            size_t dl = len - (size_t)(nul + 1 - p);
            if (dl >= MX_SCRAMBLE_LEN)
                memcpy(s->scramble, nul + 1, MX_SCRAMBLE_LEN);
            if (strcmp(plugin, "caching_sha2_password") == 0) {
                if (pw[0]) {
                    mx_sha2_scramble(s->scramble, pw, strlen(pw), auth);
                    auth_len = MX_SHA256_LEN;
                }
            } else {
                mx_native_scramble(s->scramble, pw, strlen(pw), auth, &auth_len);
            }
        } else if (p[0] == 0x01 && len == 2 && p[1] == 0x03) {
            continue; /* fast auth success: OK follows */
        } else if (p[0] == 0x01 && len == 2 && p[1] == 0x04) {
            auth[0] = 0x02; /* full authentication: ask for the public key */
            auth_len = 1;
        } else if (p[0] == 0x01) {
            int n = mx_sha2_rsa_encrypt((const char *)p + 1, len - 1, s->scramble, MX_SCRAMBLE_LEN, pw,
                                        strlen(pw), auth, sizeof(auth));
            if (n < 0)
                break;
            auth_len = (size_t)n;
        } else {
            break;
        }
        mx_pkt_begin(&b, (uint8_t)(seq + 1));
        mx_put_bytes(&b, auth, auth_len);
        mx_pkt_end(&b);
        if (!send_pktbuf(s, &b))
            break;
    }
    mx_pktbuf_free(&b);
}

/* A handshake response with connection attributes, as libmariadb sends
 * it (mx_pkt_hsresp writes none). */
static void put_hsresp_attrs(mx_pktbuf_t *b, uint8_t seq, uint32_t caps, uint32_t ext_caps, uint8_t charset,
                             const char *user,
                             const uint8_t *auth, size_t auth_len, const char *db, const char *plugin)
{
    caps |= MX_CLIENT_CONNECT_ATTRS;
    mx_pkt_begin(b, seq);
    mx_put_u32(b, caps);
    mx_put_u32(b, 1u << 24);
    mx_put_u8(b, charset);
    mx_put_zeros(b, 19);
    mx_put_u32(b, (caps & MX_CLIENT_LONG_PASSWORD) ? 0 : ext_caps);
    mx_put_cstr(b, user);
    mx_put_lenenc_str(b, auth, auth_len);
    if (caps & MX_CLIENT_CONNECT_WITH_DB)
        mx_put_cstr(b, db ? db : "");
    mx_put_cstr(b, plugin);
    mx_put_lenenc(b, 24);
    mx_put_lenenc_str(b, "_client_name", 12);
    mx_put_lenenc_str(b, "libmariadb", 10);
    mx_pkt_end(b);
}

/* Open slot i and log in.  Two bytes:
 *   b0: bits 0-2 who: app, ro, sha, nopw, admin on the console, app on the
 *       console, admin on :8066, an unknown user;
 *       bits 3-5 how: right (0, 1), wrong password, the other plugin's name
 *       (auth switch), SSL request first, garbage (length and bytes from the
 *       input), no PROTOCOL_41, nothing at all (raw packets follow);
 *       bit 6 slow reader; bit 7 ask for the MariaDB extended capabilities
 *       the greeting offered (CLIENT_MYSQL cleared).
 *   b1: bits 0-2 database: none, fz, fzr, dead, nosuch, FZ, a 70-byte name,
 *       fz without CONNECT_WITH_DB; bit 3 no MULTI_STATEMENTS, bit 4 no
 *       SESSION_TRACK, bit 5 FOUND_ROWS, bit 6 CONNECT_ATTRS, bit 7 charset
 *       gbk instead of utf8mb4. */
static void open_slot(int i, in_t *in)
{
    static const cred_t who[] = {
        { "app", "apppw" }, { "ro", "ropw" }, { "sha", "shapw" }, { "nopw", "" },
        { "admin", "adminpw" }, { "app", "apppw" }, { "admin", "adminpw" }, { "nobody", "x" },
    };
    static const char *const dbs[] = {
        NULL, "fz", "fzr", "dead", "nosuch", "FZ",
        "db_with_a_name_of_seventy_bytes_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "fz",
    };
    slot_t *s = &fz.slots[i];
    slot_close(s);
    uint8_t b0 = in_u8(in), b1 = in_u8(in);
    int user = b0 & 7, how = (b0 >> 3) & 7;
    s->slow = (b0 & 0x40) != 0;
    s->keep_rx = true;
    trace("slot %d: connect%s, log in as %s (how %d), database %s, b1 0x%02x", i, s->slow ? " (slow reader)" : "",
          who[user].user, how, dbs[b1 & 7] ? dbs[b1 & 7] : "-", b1);
    if (!slot_connect(s, user == 4 || user == 5))
        return;
    settle();
    uint32_t len;
    uint8_t seq;
    const uint8_t *p = rx_packet(s, &len, &seq);
    mx_handshake_t hs;
    if (!p || mx_parse_handshake(p, len, &hs) < 0 || hs.scramble_len < MX_SCRAMBLE_LEN) {
        s->keep_rx = false; /* refused (too many connections) or closed */
        return;
    }
    memcpy(s->scramble, hs.scramble, MX_SCRAMBLE_LEN);
    if (how == 7) {
        s->keep_rx = false;
        return;
    }
    uint32_t caps = MX_CLIENT_LONG_PASSWORD | MX_CLIENT_LONG_FLAG | MX_CLIENT_PROTOCOL_41 | MX_CLIENT_TRANSACTIONS |
                    MX_CLIENT_SECURE_CONNECTION | MX_CLIENT_MULTI_STATEMENTS | MX_CLIENT_MULTI_RESULTS |
                    MX_CLIENT_PS_MULTI_RESULTS | MX_CLIENT_PLUGIN_AUTH | MX_CLIENT_PLUGIN_AUTH_LENENC |
                    MX_CLIENT_SESSION_TRACK | MX_CLIENT_LOCAL_FILES | MX_CLIENT_CONNECT_WITH_DB;
    const char *db = dbs[b1 & 7];
    if ((b1 & 7) == 7)
        caps &= ~MX_CLIENT_CONNECT_WITH_DB;
    if (b1 & 0x08)
        caps &= ~MX_CLIENT_MULTI_STATEMENTS;
    if (b1 & 0x10)
        caps &= ~MX_CLIENT_SESSION_TRACK;
    if (b1 & 0x20)
        caps |= MX_CLIENT_FOUND_ROWS;
    if (how == 6)
        caps &= ~MX_CLIENT_PROTOCOL_41;
    uint8_t charset = (b1 & 0x80) ? 28 : 45;
    uint32_t ext = 0;
    if (b0 & 0x80) {
        caps &= ~MX_CLIENT_LONG_PASSWORD;
        ext = hs.ext_caps;
    }
    const cred_t *c = &who[user];
    const char *pw = how == 2 ? "wrong" : c->password;
    bool sha2_user = user == 2;
    /* how 3: announce the plugin the user is not configured for. */
    bool use_sha2 = how == 3 ? !sha2_user : sha2_user;
    mx_pktbuf_t b;
    mx_pktbuf_init(&b);
    if (how == 4) {
        mx_pkt_ssl_request(&b, 1, caps, ext, 1u << 24, charset);
        if (!send_pktbuf(s, &b))
            goto out;
        settle();
    }
    if (how == 5) {
        uint8_t junk[255];
        size_t n = in_take(in, junk, in_u8(in));
        mx_pkt_begin(&b, 1);
        mx_put_bytes(&b, junk, n);
        mx_pkt_end(&b);
        send_pktbuf(s, &b);
        settle();
        goto out;
    }
    uint8_t auth[MX_SHA256_LEN];
    size_t auth_len = 0;
    if (use_sha2) {
        if (pw[0]) {
            mx_sha2_scramble(s->scramble, pw, strlen(pw), auth);
            auth_len = MX_SHA256_LEN;
        }
    } else {
        mx_native_scramble(s->scramble, pw, strlen(pw), auth, &auth_len);
    }
    const char *plugin = use_sha2 ? "caching_sha2_password" : "mysql_native_password";
    seq = how == 4 ? 2 : 1;
    if (b1 & 0x40)
        put_hsresp_attrs(&b, seq, caps, ext, charset, c->user, auth, auth_len, db, plugin);
    else
        mx_pkt_hsresp(&b, seq, caps, ext, 1u << 24, charset, c->user, auth, auth_len, db, plugin);
    if (send_pktbuf(s, &b))
        finish_auth(s, pw);
    trace("slot %d: %s", i, s->logged_in ? "logged in" : "not logged in");
out:
    mx_pktbuf_free(&b);
    s->keep_rx = false;
}

static void print_sessions(const char *what);

/* ---- commands -------------------------------------------------------------------------------- */

static const uint8_t cmd_table[] = {
    MX_COM_QUERY, MX_COM_QUERY, MX_COM_QUERY, MX_COM_QUERY, MX_COM_QUERY, MX_COM_QUERY,
    MX_COM_STMT_PREPARE, MX_COM_STMT_PREPARE, MX_COM_STMT_PREPARE,
    MX_COM_STMT_EXECUTE, MX_COM_STMT_EXECUTE, MX_COM_STMT_EXECUTE,
    MX_COM_PING, MX_COM_PING, MX_COM_INIT_DB, MX_COM_INIT_DB, MX_COM_STMT_CLOSE, MX_COM_STMT_RESET,
    MX_COM_STMT_FETCH, MX_COM_STMT_SEND_LONG_DATA, MX_COM_SET_OPTION, MX_COM_RESET_CONNECTION,
    MX_COM_CHANGE_USER, MX_COM_QUIT, MX_COM_FIELD_LIST, MX_COM_STATISTICS, MX_COM_PROCESS_INFO,
    MX_COM_PROCESS_KILL, MX_COM_REFRESH, MX_COM_DEBUG, MX_COM_SHUTDOWN, MX_COM_BINLOG_DUMP, MX_COM_TIME,
    MX_COM_SLEEP, MX_COM_CONNECT, MX_COM_CREATE_DB, MX_COM_DROP_DB, MX_COM_DELAYED_INSERT,
    MX_COM_TABLE_DUMP, MX_COM_REGISTER_SLAVE, MX_COM_DAEMON, MX_COM_BINLOG_DUMP_GTID, 0x20, 0xFF,
    MX_COM_STMT_BULK_EXECUTE, MX_COM_STMT_BULK_EXECUTE, MX_COM_STMT_BULK_EXECUTE,
};

/* Payload lengths (command byte included) around manx's boundaries:
 * MX_RESP_PEEK (16 KiB), the 32 KiB read buffer less a header, and beyond. */
static const uint32_t small_sizes[] = {
    0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 13, 16, 64, 100, 255, 511, 512, 1000, 4096,
    16383, 16384, 16385, 16387, 16388, 16389,
    32760, 32763, 32764, 32765, 32767, 32768, 32769,
    40960, 65535, 65536, 100000,
};
/* Around the 1 MiB PREPARE limit, max_packet (4M) and the 16 MB packet. */
static const uint32_t huge_sizes[] = {
    1048575, 1048576, 1048577, 1048578, 4194303, 4194304, 4194305, 0xFFFFFE, 0xFFFFFF,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Statements: what applications and attackers send (routing, readonly,
 * KILL, hints, pinning, schema qualifiers), console statements, and text
 * the lexers must survive. */
static const char *const sql_dict[] = {
    "SELECT 1", "select * from t where id = ?", "SELECT DATABASE()", "SELECT CONNECTION_ID()",
    "SHOW DATABASES", "SHOW DATABASES LIKE 'f%'", "USE fz", "USE fzr", "USE dead", "USE nosuch", "use `fz`",
    "INSERT INTO t VALUES (1)", "insert into t values (?, ?)", "UPDATE t SET v = 1", "DELETE FROM t WHERE id = 1",
    "BEGIN", "START TRANSACTION READ ONLY", "COMMIT", "ROLLBACK", "SET autocommit = 0", "SET autocommit=1",
    "SET @a = 1", "SET @a := 'x'", "SET NAMES gbk", "SET sql_mode = 'ANSI_QUOTES'", "SET SESSION wait_timeout = 10",
    "KILL 1", "KILL 2", "KILL QUERY 2", "KILL CONNECTION 3", "KILL 99999999999", "kill query 1",
    "/*!mycat:db_type=master*/ SELECT 1", "/*#mycat:db_type=slave*/ SELECT 1",
    "/*!mycat:sql=select 1*/ INSERT INTO t VALUES (1)", "SELECT * FROM fz.t", "SELECT * FROM fzr.t",
    "SELECT * FROM mysql.user", "LOAD DATA LOCAL INFILE 'x' INTO TABLE t",
    "SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1", "SELECT FOUND_ROWS()", "SHOW WARNINGS",
    "CREATE TEMPORARY TABLE tt (a int)", "LOCK TABLES t WRITE", "UNLOCK TABLES", "SELECT GET_LOCK('l', 0)",
    "SELECT LAST_INSERT_ID()", "SELECT * FROM t FOR UPDATE", "DO 1; KILL 2", "SELECT 1; SELECT 2",
    "COMMIT; DELETE FROM t", "PREPARE s FROM 'SELECT 1'", "EXECUTE s", "DEALLOCATE PREPARE s",
    "SELECT 'a\\'; DELETE FROM t; -- '", "DROP TABLE t /*M!999999 LAST_INSERT_ID() */",
    "show @@datasource", "show @@heartbeat", "show @@help", "show @@sysparam", "show @@connection",
    "show @@server", "show @@datahost", "show @@version", "switch @@datasource dh1:1", "reload @@dnindex",
    "select @@version_comment limit 1", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "HANDLER t OPEN",
    "XA START 'x'", "CALL p()", "SELECT f()", "WITH x AS (SELECT 1) SELECT * FROM x", "SELECT ?",
    "SELECT ? FROM t WHERE a = ? AND b = ?", "", " ", "/*", "--", "'", "`", "\"",
};

static const char *const db_dict[] = { "fz", "fzr", "dead", "nosuch", "", "FZ", "fz\0x", "information_schema" };

static const uint32_t stmt_ids[] = { 1, 2, 3, 0, 0xFFFFFFFF, 4, 1, 2 };

/* COM_STMT_BULK_EXECUTE flags: none, types, unit results (never
 * negotiated), both, and bits nobody defined. */
static const uint16_t bulk_flags[] = {
    0x80, 0, 0x40, 0xC0, 0x01, 0x8000, 0xFFFF, 0x80,
};

/* Where a packet is written in pieces: offsets into header + payload. */
typedef struct plan_s {
    uint64_t split[3];
    int n_split;
    uint64_t stop;               /* bytes actually sent (a cut packet stops early) */
} plan_t;

/* Bytes [off, off + n) of a packet: header, then `prefix`, then `fill`. */
static void gen_bytes(uint32_t len, uint8_t seq, const uint8_t *prefix, size_t plen, uint8_t fill, uint64_t off,
                      uint8_t *out, size_t n)
{
    uint8_t hdr[MX_PKT_HDR];
    mx_wr_u24(hdr, len);
    hdr[3] = seq;
    size_t i = 0;
    for (; i < n && off < MX_PKT_HDR; i++, off++)
        out[i] = hdr[off];
    for (; i < n && off - MX_PKT_HDR < plen; i++, off++)
        out[i] = prefix[off - MX_PKT_HDR];
    if (i < n)
        memset(out + i, fill, n - i);
}

/* Send one packet per the plan; the loop settles at every split point.
 * False when the connection is gone or stuck. */
static bool send_packet(slot_t *s, uint32_t len, uint8_t seq, const uint8_t *prefix, size_t plen, uint8_t fill,
                        const plan_t *pl)
{
    static uint8_t chunk[64 * 1024];
    uint64_t total = (uint64_t)MX_PKT_HDR + len;
    uint64_t stop = pl->stop < total ? pl->stop : total;
    uint64_t pos = 0;
    int k = 0;
    while (pos < stop) {
        uint64_t end = stop;
        if (end - pos > sizeof(chunk))
            end = pos + sizeof(chunk);
        while (k < pl->n_split && pl->split[k] <= pos)
            k++;
        if (k < pl->n_split && pl->split[k] < end)
            end = pl->split[k];
        gen_bytes(len, seq, prefix, plen, fill, pos, chunk, (size_t)(end - pos));
        if (!slot_write(s, chunk, (size_t)(end - pos)))
            return false;
        pos = end;
        if (k < pl->n_split && pl->split[k] == pos)
            settle();
    }
    return true;
}

static uint32_t pick_size(uint8_t sel)
{
    uint32_t len = sel < 0xF0 ? small_sizes[sel % N(small_sizes)] : huge_sizes[(sel - 0xF0) % N(huge_sizes)];
    if (len > fz.budget)
        len = small_sizes[sel % N(small_sizes)];
    if (len > fz.max_payload)
        len = fz.max_payload;
    fz.budget -= len < fz.budget ? len : fz.budget;
    return len;
}

/* The first payload bytes of a command: the command byte, then text or
 * arguments chosen by `sel` (>= 0xC0: up to 63 bytes from the input). */
static size_t make_prefix(uint8_t cmd, uint8_t sel, in_t *in, const slot_t *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    out[n++] = cmd;
    if (sel >= 0xC0 && cmd != MX_COM_STMT_EXECUTE && cmd != MX_COM_STMT_SEND_LONG_DATA &&
        cmd != MX_COM_STMT_CLOSE && cmd != MX_COM_STMT_RESET && cmd != MX_COM_STMT_FETCH) {
        return n + in_take(in, out + n, sel & 0x3F);
    }
    switch (cmd) {
    case MX_COM_QUERY:
    case MX_COM_STMT_PREPARE: {
        const char *q = sql_dict[sel % N(sql_dict)];
        size_t l = strlen(q);
        memcpy(out + n, q, l);
        return n + l;
    }
    case MX_COM_INIT_DB: {
        const char *d = db_dict[sel % N(db_dict)];
        size_t l = (sel % N(db_dict)) == 6 ? 4 : strlen(d);
        memcpy(out + n, d, l);
        return n + l;
    }
    case MX_COM_STMT_EXECUTE:
    case MX_COM_STMT_SEND_LONG_DATA:
    case MX_COM_STMT_CLOSE:
    case MX_COM_STMT_RESET:
    case MX_COM_STMT_FETCH:
        /* Statement id, then (EXECUTE: flags, iterations, NULL bitmap,
         * types, values) bytes from the input. */
        mx_wr_u32(out + n, stmt_ids[sel & 7]);
        n += 4;
        return n + in_take(in, out + n, (sel >> 3) < cap - n ? (sel >> 3) : cap - n);
    case MX_COM_STMT_BULK_EXECUTE:
        /* Statement id, flags, then 0, 16 or 32 bytes of types and rows
         * from the input (the packet's size may cut any of it short). */
        mx_wr_u32(out + n, stmt_ids[sel & 7]);
        n += 4;
        mx_wr_u16(out + n, bulk_flags[(sel >> 3) & 7]);
        n += 2;
        return n + in_take(in, out + n, (size_t)(sel >> 6) * 16);
    case MX_COM_SET_OPTION:
        out[n++] = (uint8_t)(sel % 3);
        out[n++] = 0;
        return n;
    case MX_COM_CHANGE_USER: {
        /* To app, to ro, to sha, or with a wrong password; manx checks it
         * against the greeting's scramble. */
        static const cred_t to[] = { { "app", "apppw" }, { "ro", "ropw" }, { "sha", "shapw" }, { "app", "bad" } };
        const cred_t *c = &to[sel & 3];
        uint8_t auth[MX_SHA256_LEN];
        size_t al = 0;
        bool sha2 = (sel & 3) == 2;
        if (sha2) {
            mx_sha2_scramble(s->scramble, c->password, strlen(c->password), auth);
            al = MX_SHA256_LEN;
        } else {
            mx_native_scramble(s->scramble, c->password, strlen(c->password), auth, &al);
        }
        const char *db = (sel & 4) ? "fzr" : "fz";
        size_t ul = strlen(c->user) + 1, dl = strlen(db) + 1;
        const char *plugin = sha2 ? "caching_sha2_password" : "mysql_native_password";
        memcpy(out + n, c->user, ul);
        n += ul;
        out[n++] = (uint8_t)al;
        memcpy(out + n, auth, al);
        n += al;
        memcpy(out + n, db, dl);
        n += dl;
        out[n++] = 45;
        out[n++] = 0;
        memcpy(out + n, plugin, strlen(plugin) + 1);
        n += strlen(plugin) + 1;
        return n;
    }
    default:
        return n;
    }
}

/* One command.  Bytes: command (< 0xE0 from cmd_table, else 0x00-0x1F
 * raw), size class (< 0xF0 small_sizes, else huge_sizes), text/argument
 * selector (see make_prefix), fill byte, flags:
 *   bits 0-1 split points (each one more byte: < 8 an offset in the
 *   header, else a fraction of the packet), bit 2 sequence id from the next
 *   byte, bit 3 cut short (next byte: fraction sent), bits 4-5 after a cut:
 *   go on / close / wait 40 ms (see input_wait) / go on, bit 6 continuation length class
 *   from the next byte for a 0xFFFFFF packet, bit 7 no settle afterwards
 *   (the next packet is pipelined behind this one). */
static void run_command(slot_t *s, in_t *in)
{
    uint8_t csel = in_u8(in), zsel = in_u8(in), tsel = in_u8(in), fill = in_u8(in), flags = in_u8(in);
    uint8_t cmd = csel < 0xE0 ? cmd_table[csel % N(cmd_table)] : (uint8_t)(csel - 0xE0);
    uint32_t len = pick_size(zsel);
    uint8_t prefix[320];
    size_t plen = make_prefix(cmd, tsel, in, s, prefix, sizeof(prefix));
    plan_t pl = { .stop = UINT64_MAX };
    uint64_t total = (uint64_t)MX_PKT_HDR + len;
    pl.n_split = flags & 3;
    for (int i = 0; i < pl.n_split; i++) {
        uint8_t b = in_u8(in);
        pl.split[i] = b < 8 ? b : total * b / 256;
    }
    for (int i = 1; i < pl.n_split; i++) /* keep them ascending */
        if (pl.split[i] < pl.split[i - 1])
            pl.split[i] = pl.split[i - 1];
    uint8_t seq = (flags & 4) ? in_u8(in) : 0;
    bool cut = (flags & 8) != 0;
    if (cut) {
        uint8_t b = in_u8(in);
        pl.stop = b < 8 ? b : total * b / 256;
    }
    int after = (flags >> 4) & 3;
    uint8_t cont_sel = (flags & 0x40) ? in_u8(in) : 0;
    char shown[64];
    size_t sl = plen - 1 < sizeof(shown) - 1 ? plen - 1 : sizeof(shown) - 1;
    for (size_t i = 0; i < sl; i++)
        shown[i] = prefix[1 + i] >= 0x20 && prefix[1 + i] < 0x7f ? (char)prefix[1 + i] : '.';
    shown[sl] = 0;
    trace("slot %d: command 0x%02x, %u bytes \"%s\" + 0x%02x..., seq %u, %d split(s)%s%s", (int)(s - fz.slots),
          cmd, len, shown, fill, seq, pl.n_split, cut ? ", cut short" : "", (flags & 0x80) ? ", pipelined" : "");
    if (!send_packet(s, len, seq, prefix, plen, fill, &pl))
        return;
    if (cut) {
        trace("slot %d: after the cut: %s", (int)(s - fz.slots),
              after == 1 ? "close" : after == 2 ? "wait 40 ms" : "go on");
        if (after == 1)
            slot_close(s);
        else if (after == 2)
            input_wait(40);
        return;
    }
    /* 0xFFFFFF: the command goes on in further packets (at most two more
     * of the full size, within the budget). */
    for (int k = 0; len == MX_PKT_MAX && k < 3; k++) {
        len = cont_sel >= 0xF8 && k < 2 && fz.budget >= MX_PKT_MAX ? MX_PKT_MAX
                                                                   : small_sizes[cont_sel % N(small_sizes)];
        if (len > fz.max_payload)
            len = fz.max_payload;
        fz.budget -= len < fz.budget ? len : fz.budget;
        plan_t whole = { .stop = UINT64_MAX };
        trace("slot %d: continuation packet of %u bytes", (int)(s - fz.slots), len);
        if (!send_packet(s, len, ++seq, NULL, 0, fill, &whole))
            return;
    }
    if (!(flags & 0x80))
        settle();
    if (fz.trace)
        print_sessions("sessions after the command:");
}

/* ---- one input ------------------------------------------------------------------------------- */

/* Row value lengths the backend sends for SELECTs: small, around the
 * peek size and the buffer, and the 16 MB packet boundary (payload
 * lenenc + value = 0xFFFFFE, 0xFFFFFF exactly, and one byte more). */
static const uint32_t row_sizes[] = {
    1, 0, 100, 16379, 16380, 16384, 32759, 32760, 32764, 40000, 65536, 1048576, 0xFFFFFA, 0xFFFFFB, 0xFFFFFC,
};

/* The backend's script: seven bytes.
 *   b0 handshake mode (< 0x80 normal, else FB_HS_*), b1 bits 0-2 which
 *   backend connection it applies to (7 all); bit 3 the read host r2 is
 *   down, bit 4 it is suspect, bit 5 writes of dh1 go to h1b; bit 6 the
 *   backend offers bulk execute and extended type info, bit 7 manx
 *   believes the backends offer them (its greeting offers them even when
 *   the backend then does not);
 *   b2 fault at command n (< 0x80 none, else (b2 & 0x3F) + 1), b3 fault
 *   kind, bit 4 multi-results, bit 5 warnings, bits 6-7 MASTER_GTID_WAIT
 *   answer; b4 row size class; b5 split responses after this many bytes
 *   (0 whole). */
static void read_script(in_t *in, fb_script_t *s)
{
    uint8_t b0 = in_u8(in), b1 = in_u8(in), b2 = in_u8(in), b3 = in_u8(in), b4 = in_u8(in), b5 = in_u8(in);
    memset(s, 0, sizeof(*s));
    s->hs_mode = b0 < 0x80 ? FB_HS_OK : (uint8_t)((b0 - 0x80) % FB_HS_COUNT);
    s->hs_conn = (b1 & 7) == 7 ? 0xFF : (b1 & 7);
    s->fault_at = b2 < 0x80 ? 0 : (uint32_t)(b2 & 0x3F) + 1;
    s->fault = (uint8_t)((b3 & 0x0F) % FB_FAULT_COUNT);
    s->multi = (b3 & 0x10) != 0;
    s->warnings = (b3 & 0x20) != 0;
    static const int gtid[] = { 0, 0, -1, 2 };
    s->gtid_wait = gtid[b3 >> 6];
    s->row_len = row_sizes[b4 % N(row_sizes)];
    if (s->row_len > 1000000) {
        /* Huge rows cost time: the first one or two rows are huge. */
        uint32_t n = fz.budget / s->row_len < 2 ? (uint32_t)(fz.budget / s->row_len) : 2;
        s->row_times = n;
        s->row_len = n ? s->row_len : 1;
        fz.budget -= (uint64_t)n * s->row_len;
    }
    s->split_at = b5;
    s->ext_caps = (b1 & 0x40) != 0;
    atomic_store(&mx_proc.backend_ext_caps, (b1 & 0xC0) ? MX_EXT_KNOWN | MX_MARIADB_STMT_BULK_OPS |
                                                              MX_MARIADB_EXTENDED_TYPE_INFO : 0);
    mx_health_t *h = &mx_proc.health;
    for (size_t i = 0; i < mx_proc.cfg->n_hosts; i++) {
        atomic_store(&h->hosts[i].status, MX_HOST_UP);
        atomic_store(&h->hosts[i].suspect, false);
        atomic_store(&h->hosts[i].kick, false);
    }
    for (size_t i = 0; i < mx_proc.cfg->n_datahosts; i++)
        atomic_store(&h->write_index[i], 0);
    const mx_host_t *r2 = NULL;
    for (size_t i = 0; i < mx_proc.cfg->n_hosts; i++)
        if (strcmp(mx_proc.cfg->hosts[i].name, "r2") == 0)
            r2 = &mx_proc.cfg->hosts[i];
    if (r2 && (b1 & 0x08))
        atomic_store(&h->hosts[r2->index].status, MX_HOST_DOWN);
    if (r2 && (b1 & 0x10))
        atomic_store(&h->hosts[r2->index].suspect, true);
    if (b1 & 0x20)
        atomic_store(&h->write_index[0], 1);
    trace("backend: handshake mode %u on connection %u, fault %u at command %u, rows of %u bytes, split at %u, "
          "multi %d, warnings %d, gtid wait %d, hosts 0x%02x",
          s->hs_mode, s->hs_conn, s->fault, s->fault_at, s->row_len, s->split_at, s->multi, s->warnings,
          s->gtid_wait, b1);
}

static bool no_sessions(void)
{
    return mx_list_empty(&fz.w->clients);
}

/* Every connection is gone, so every buffer is back on the worker's
 * freelist: take ours out before the worker frees the rest. */
static void take_back_guarded(void)
{
    mx_worker_t *w = fz.w;
    int found = 0;
    size_t k = 0;
    for (size_t i = 0; i < w->n_buf_free; i++) {
        bool ours = false;
        for (int g = 0; g < N_GUARDED && !ours; g++)
            ours = w->buf_free[i] == fz.guarded[g];
        if (ours)
            found++;
        else
            w->buf_free[k++] = w->buf_free[i];
    }
    w->n_buf_free = k;
    if (found != N_GUARDED) {
        fprintf(stderr, "fuzz_client: %d of %d read buffers came back to the worker\n", found, N_GUARDED);
        abort();
    }
}

static bool worker_finished(void)
{
    return fz.w->finished;
}

static void print_sessions(const char *what)
{
    fprintf(stderr, "fuzz_client: %s\n", what);
    for (mx_list_t *l = fz.w->clients.next; l != &fz.w->clients; l = l->next) {
        const mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, link);
        fprintf(stderr, "  C-%u user=%s state=%d cmd=0x%02x server=%s rpos=%u rend=%u reading=%d\n", cl->id,
                cl->user_name, (int)cl->state, cl->cmd, cl->server ? "linked" : "none", cl->conn.rpos,
                cl->conn.rend, (int)cl->conn.reading);
    }
}

static void count_handle(uv_handle_t *h, void *arg)
{
    (void)h;
    (*(int *)arg)++;
}

static void print_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    fprintf(stderr, "  handle %s %p%s\n", uv_handle_type_name(uv_handle_get_type(h)), (void *)h,
            uv_is_closing(h) ? " (closing)" : "");
}

/* Clients gone: sessions must follow.  Then stop the worker the way
 * SIGTERM does and check that everything was given back. */
static void finish_input(void)
{
    trace("end of input: every client hangs up");
    for (int i = 0; i < N_SLOTS; i++)
        slot_close(&fz.slots[i]);
    settle();
    /* A session may legitimately wait for a timer (pool wait, connect
     * timeout) or for its backend's answer before it notices. */
    if (!no_sessions())
        wait_ms(300, no_sessions);
    if (!no_sessions()) {
        fb_drop_connections(fz.fb);
        wait_ms(300, no_sessions);
    }
    if (!no_sessions()) {
        print_sessions("sessions left after their clients hung up and the backend closed");
        abort();
    }
    mx_worker_stop(fz.w);
    wait_ms(2000, worker_finished);
    if (!fz.w->finished) {
        fprintf(stderr, "fuzz_client: the worker did not finish after mx_worker_stop\n");
        abort();
    }
    fb_close(fz.fb);
    for (int i = 0; i < 1000 && uv_loop_alive(loop()); i++)
        turn();
    /* Inactive handles do not keep a loop alive, but uv_loop_close()
     * (which mx_worker_free does not check) fails with them: count them. */
    int open_handles = 0;
    uv_walk(loop(), count_handle, &open_handles);
    if (uv_loop_alive(loop()) || open_handles) {
        fprintf(stderr, "fuzz_client: handles still open after the worker finished:\n");
        uv_walk(loop(), print_handle, NULL);
        abort();
    }
    if (!fb_closed(fz.fb)) {
        fprintf(stderr, "fuzz_client: fake backend handles not closed\n");
        abort();
    }
    fb_free(fz.fb);
    fz.fb = NULL;
    take_back_guarded();
    mx_worker_free(fz.w);
    int clients = atomic_load(&mx_proc.n_clients);
    if (clients != 0) {
        fprintf(stderr, "fuzz_client: %d client connections still counted (max_connections)\n", clients);
        abort();
    }
    for (size_t i = 0; i < mx_proc.cfg->n_hosts; i++) {
        int c = atomic_load(&mx_proc.host_conns[i]), wt = atomic_load(&mx_proc.host_waiters[i]);
        if (c || wt) {
            fprintf(stderr, "fuzz_client: host %s: %d backend slots, %d waiters still counted\n",
                    mx_proc.cfg->hosts[i].name, c, wt);
            abort();
        }
    }
}

/* ---- process set-up (once) --------------------------------------------------------------------- */

static int loopback_socket(bool listening)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (listening && listen(fd, 64) < 0)) {
        perror("fuzz_client: loopback socket");
        abort();
    }
    return fd;
}

static unsigned port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    return ntohs(a.sin_port);
}

/* What main.c's load_rsa() does when rsa_private_key is not set. */
static void make_rsa_key(void)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    if (!key || !(mx_proc.rsa_pub_pem = mx_rsa_public_pem(key, &mx_proc.rsa_pub_pem_len)))
        abort();
    mx_proc.rsa_key = key;
}

static void set_up(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *lv = getenv("MX_FUZZ_LOG");
    mx_log_level = !lv ? -1 : strcmp(lv, "debug") == 0 ? MX_LOG_DEBUG : strcmp(lv, "info") == 0 ? MX_LOG_INFO
                            : strcmp(lv, "warning") == 0 ? MX_LOG_WARNING : MX_LOG_ERROR;
    fz.timing = getenv("MX_FUZZ_TIME") != NULL;
    fz.trace = lv != NULL;
    /* To look past a known crash that needs big packets (the issue 8
     * read-position class needs more than 32 KiB), cap their size. */
    const char *mp = getenv("MX_FUZZ_MAX_PAYLOAD");
    fz.max_payload = mp ? (uint32_t)strtoul(mp, NULL, 0) : UINT32_MAX;
    fz.manx_fd = loopback_socket(true);
    fz.admin_fd = loopback_socket(true);
    fz.backend_fd = loopback_socket(true);
    /* Bound but not listening: connects are refused, and no other process
     * can take the port while we hold it. */
    fz.dead_fd = loopback_socket(false);
    char ini[sizeof(ini_fmt) + 64];
    unsigned bp = port_of(fz.backend_fd);
    int n = snprintf(ini, sizeof(ini), ini_fmt, port_of(fz.manx_fd), port_of(fz.admin_fd), bp, bp, bp, bp,
                     port_of(fz.dead_fd));
    char err[1024];
    mx_config_t *cfg = mx_conf_load_buffer("fuzz_client.ini", ini, (size_t)n, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "fuzz_client: config: %s\n", err);
        abort();
    }
    mx_proc.cfg = cfg;
    if (mx_health_init(&mx_proc.health, cfg, mx_log_heartbeat) < 0)
        abort();
    make_rsa_key();
    mx_proc.n_workers = 1;
    mx_proc.workers = calloc(1, sizeof(mx_worker_t));
    mx_proc.host_conns = calloc(MX_MAX_HOST_SLOTS, sizeof(*mx_proc.host_conns));
    mx_proc.host_waiters = calloc(MX_MAX_HOST_SLOTS, sizeof(*mx_proc.host_waiters));
    if (!mx_proc.workers || !mx_proc.host_conns || !mx_proc.host_waiters)
        abort();
    mx_user_t *a = &mx_proc.admin_user;
    snprintf(a->name, sizeof(a->name), "%s", cfg->admin_user);
    snprintf(a->password, sizeof(a->password), "%s", cfg->admin_password);
    a->has_password = cfg->admin_password[0] != 0;
    mx_native_stage2(a->password, strlen(a->password), a->stage2);
    strcpy(a->auth_plugin, "mysql_native_password");
    mx_proc.admin_fd = fz.admin_fd;
    for (size_t i = 0; i < cfg->n_schemas; i++)
        if (strcmp(cfg->schemas[i].name, cfg->schemas[i].datanode->database) != 0)
            mx_proc.schemas_renamed = true;
    mx_proc.started_ms = now_ms();
    for (int i = 0; i < N_SLOTS; i++)
        fz.slots[i].fd = -1;
    /* mmap, not malloc + ASan poisoning: the guard then works in every
     * build, the replay test of a plain build included.  MX_BUF_SIZE is a
     * multiple of the page size. */
    for (int i = 0; i < N_GUARDED; i++) {
        void *p = mmap(NULL, MX_BUF_SIZE + GUARD_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || mprotect((uint8_t *)p + MX_BUF_SIZE, GUARD_SIZE, PROT_NONE) != 0) {
            perror("fuzz_client: guarded buffer");
            abort();
        }
        fz.guarded[i] = p;
    }
    fz.w = &mx_proc.workers[0];
    fz.ready = true;
}

/* The input: the backend's script (read_script), then operations until the
 * input ends.  An operation byte: bits 0-1 the connection (3: the first),
 * bits 2-4 what: 0-3 a command (run_command), 4 raw bytes (a length byte,
 * then that many bytes), 5 wait (next byte: 1-64 ms), 6 close the
 * connection, 7 (re)open it and log in (open_slot).  A connection that is
 * not open (or that manx closed) when a command comes is opened first
 * with the next two bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz.ready)
        set_up();
    uint64_t started = now_ms();
    in_t in = { data, size };
    fz.budget = BUDGET;
    fz.wait_left = WAIT_BUDGET;
    turns = 0;
    fb_script_t script;
    read_script(&in, &script);
    atomic_store(&mx_proc.next_client_id, 0);
    atomic_store(&mx_proc.next_server_id, 0);
    atomic_store(&mx_proc.version_known, false);
    int rc = mx_worker_init(fz.w, 0, fz.manx_fd, mx_proc.cfg);
    if (rc < 0) {
        fprintf(stderr, "fuzz_client: mx_worker_init: %s\n", uv_strerror(rc));
        abort();
    }
    /* The worker's spare read buffers are ours: each is followed by an
     * inaccessible region longer than a packet, so a read position that
     * runs past its buffer faults at the first byte it touches, wherever
     * the allocator would have put the next chunk. */
    for (int i = 0; i < N_GUARDED; i++)
        mx_worker_buf_put(fz.w, fz.guarded[i]);
    fz.fb = fb_start(loop(), fz.backend_fd, &script);
    if (!fz.fb)
        abort();
    for (int ops = 0; in.n > 0 && ops < 64; ops++) {
        uint8_t op = in_u8(&in);
        int i = (op & 3) == 3 ? 0 : op & 3;
        slot_t *s = &fz.slots[i];
        int what = (op >> 2) & 7;
        if (what == 7 || (what < 5 && (s->fd < 0 || s->eof))) {
            open_slot(i, &in);
            if (what == 7)
                continue;
        }
        switch (what) {
        case 4: {
            uint8_t raw[255];
            size_t n = in_take(&in, raw, in_u8(&in));
            trace("slot %d: %zu raw bytes", i, n);
            slot_write(s, raw, n);
            settle();
            break;
        }
        case 5:
            input_wait((in_u8(&in) & 63) + 1u);
            break;
        case 6:
            trace("slot %d: close", i);
            slot_close(s);
            settle();
            break;
        default:
            run_command(s, &in);
            break;
        }
    }
    finish_input();
    if (fz.timing)
        fprintf(stderr, "fuzz_client: %zu-byte input: %llu ms, %llu loop turns\n", size,
                (unsigned long long)(now_ms() - started), (unsigned long long)turns);
    return 0;
}
