/* manx: command line, start-up (config, TLS, RSA key, listeners, workers),
 * signals and orderly shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "conf/mycat.h"
#include "log.h"
#include "main.h"
#include "metrics.h"
#include "protocol/auth.h"
#include "mx_version.h"
#include "proxy-t.h"
#include "worker.h"

mx_proc_t mx_proc;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: manx -c FILE [--check]\n"
            "       manx --mycat-conf DIR [--mycat-ignore-sharding] [--check | --print-ini]\n"
            "MySQL-protocol read/write-splitting proxy.\n\n"
            "  -c, --config FILE  configuration file (INI)\n"
            "      --mycat-conf DIR  run from a Mycat 1.6 conf/ directory (server.xml, schema.xml,\n"
            "                     dnindex.properties); warnings name what manx does not honour\n"
            "      --mycat-ignore-sharding  send the statements of Mycat <table>s to their schema's\n"
            "                     dataNode instead of refusing the directory\n"
            "      --print-ini    with --mycat-conf: print the equivalent manx INI and exit\n"
            "      --check        validate the configuration and exit\n"
            "  -h, --help         show this help\n"
            "  -V, --version      show the version\n");
}

static SSL_CTX *make_server_tls(const mx_config_t *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->ssl_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->ssl_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
        mx_error("%s: ssl_cert/ssl_key: %s", cfg->path, buf);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static SSL_CTX *make_client_tls(const mx_config_t *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (cfg->ssl_ca[0]) {
        if (SSL_CTX_load_verify_locations(ctx, cfg->ssl_ca, NULL) != 1) {
            mx_error("%s: ssl_ca: cannot load %s", cfg->path, cfg->ssl_ca);
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

/* caching_sha2_password full authentication without TLS needs an RSA key
 * pair: loaded from rsa_private_key, or generated at start-up. */
static int load_rsa(const mx_config_t *cfg)
{
    bool needed = false;
    for (size_t i = 0; i < cfg->n_users; i++)
        if (strcmp(cfg->users[i].auth_plugin, "caching_sha2_password") == 0)
            needed = true;
    if (!needed)
        return 0;
    EVP_PKEY *key = NULL;
    if (cfg->rsa_private_key[0]) {
        FILE *f = fopen(cfg->rsa_private_key, "r");
        if (!f) {
            mx_error("%s: rsa_private_key: %s: %s", cfg->path, cfg->rsa_private_key, strerror(errno));
            return -1;
        }
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    } else {
        key = EVP_RSA_gen(2048);
    }
    if (!key) {
        mx_error("cannot %s the RSA key for caching_sha2_password", cfg->rsa_private_key[0] ? "read" : "generate");
        return -1;
    }
    mx_proc.rsa_pub_pem = mx_rsa_public_pem(key, &mx_proc.rsa_pub_pem_len);
    if (!mx_proc.rsa_pub_pem) {
        mx_error("cannot write the public RSA key");
        EVP_PKEY_free(key);
        return -1;
    }
    mx_proc.rsa_key = key;
    return 0;
}

static void mycat_warning(void *arg, const char *msg)
{
    (void)arg;
    mx_warn("%s", msg);
}

static uint64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

bool mx_reload(char *err, size_t errlen)
{
    mx_config_t *cur = mx_proc.cur;
    mx_config_t *nc = cur->mycat_dir[0] ? mx_mycat_load(cur->mycat_dir, cur->mycat_flags, mycat_warning, NULL, err, errlen)
                                        : mx_conf_load(cur->path, err, errlen);
    if (!nc)
        return false;
    /* Checked before anything is published: a refused file changes
     * nothing, not even the slot counters. */
    if (!mx_conf_check_reload(cur, nc, err, errlen) || !mx_conf_carry(nc, cur, err, errlen)) {
        mx_conf_free(nc);
        return false;
    }
    if (!mx_proc.rsa_key && load_rsa(nc) < 0) {
        snprintf(err, errlen, "%s: a caching_sha2_password user needs an RSA key, which cannot be made (see above)",
                 nc->path);
        mx_conf_free(nc);
        return false;
    }
    /* The heartbeat first, so that a dataHost whose writeHost list changed
     * has its active writeHost before any session routes by it. */
    mx_health_prepare(&mx_proc.health, cur, nc);
    mx_health_set_config(&mx_proc.health, nc);
    for (int i = 0; i < mx_proc.n_workers; i++)
        mx_worker_post_gen(&mx_proc.workers[i], nc);
    for (size_t i = 0; i < nc->n_schemas; i++)
        if (strcmp(nc->schemas[i].name, nc->schemas[i].datanode->database) != 0)
            atomic_store(&mx_proc.schemas_renamed, true);
    atomic_store(&mx_log_level, nc->log_level);
    mx_proc.cur = nc;
    mx_conf_unref(cur);
    atomic_store(&mx_proc.reload_ms, wall_ms());
    return true;
}

static void on_sighup(uv_signal_t *s, int signum)
{
    mx_info("received SIGHUP: reloading %s and re-reading %s", mx_proc.cur->path, mx_proc.health.path);
    char err[1024];
    if (mx_reload(err, sizeof(err)))
        mx_info("reload: %s: generation %u in use (%zu users, %zu schemas, %zu dataHosts, %zu hosts)",
                mx_proc.cur->path, mx_proc.cur->generation, mx_proc.cur->n_users, mx_proc.cur->n_schemas,
                mx_proc.cur->n_datahosts, mx_proc.cur->n_hosts);
    else
        mx_error("reload: %s (the running configuration stays)", err);
    mx_health_reload(&mx_proc.health);
}

/* The console on worker 0 asked for reload @@config[_all]: run it here,
 * where reloads run, and hand the answer back to worker 0. */
static void on_console_request(uv_async_t *a)
{
    mx_console_req_t *q = &mx_proc.console;
    uv_mutex_lock(&q->lock);
    bool pending = q->client != 0 && !q->done, all = q->all;
    uv_mutex_unlock(&q->lock);
    if (!pending)
        return;
    char err[sizeof(q->err)] = "";
    mx_info("admin console: reload @@config%s: reloading %s", all ? "_all" : "", mx_proc.cur->path);
    bool ok = mx_reload(err, sizeof(err));
    if (ok)
        mx_info("reload: %s: generation %u in use", mx_proc.cur->path, mx_proc.cur->generation);
    else
        mx_error("reload: %s (the running configuration stays)", err);
    if (all)
        mx_health_reload(&mx_proc.health);
    uv_mutex_lock(&q->lock);
    q->done = true;
    q->ok = ok;
    memcpy(q->err, err, sizeof(err));
    uv_mutex_unlock(&q->lock);
    if (mx_proc.workers[0].has_admin)
        uv_async_send(&mx_proc.workers[0].console_async);
}

/* Stop taking console requests (shutdown): close the main loop's wake-up
 * once no worker can send to it any more. */
static void console_requests_end(void)
{
    uv_mutex_lock(&mx_proc.console.lock);
    uv_async_t *a = mx_proc.console.main_wakeup;
    mx_proc.console.main_wakeup = NULL;
    uv_mutex_unlock(&mx_proc.console.lock);
    if (a && !uv_is_closing((uv_handle_t *)a))
        uv_close((uv_handle_t *)a, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    mx_info("received %s: stopping (in-flight statements may finish for up to %d ms)",
            signum == SIGTERM ? "SIGTERM" : "SIGINT", mx_proc.cur->shutdown_timeout_ms);
    for (int i = 0; i < mx_proc.n_workers; i++)
        mx_worker_stop(&mx_proc.workers[i]);
    mx_metrics_stop();
    uv_close((uv_handle_t *)s, NULL);
    uv_signal_t *others = s->data;
    for (int i = 0; i < 3; i++)
        if (&others[i] != s && !uv_is_closing((uv_handle_t *)&others[i]))
            uv_close((uv_handle_t *)&others[i], NULL);
    console_requests_end();
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "mycat-conf", required_argument, NULL, 'm' },
        { "mycat-ignore-sharding", no_argument, NULL, 's' },
        { "print-ini", no_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL, *mycat = NULL;
    bool check = false, print_ini = false;
    unsigned mycat_flags = 0;
    int o;
    while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'c': path = optarg; break;
        case 'k': check = true; break;
        case 'm': mycat = optarg; break;
        case 's': mycat_flags |= MX_MYCAT_IGNORE_SHARDING; break;
        case 'p': print_ini = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("manx %s\n", MX_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!path == !mycat || optind != argc || ((print_ini || mycat_flags) && !mycat)) {
        usage(stderr);
        return 2;
    }
    char err[1024];
    if (print_ini)
        return mx_mycat_print_ini(mycat, mycat_flags, stdout, err, sizeof(err)) ? 0 : (fprintf(stderr, "%s\n", err), 1);
    mx_config_t *cfg = mycat ? mx_mycat_load(mycat, mycat_flags, mycat_warning, NULL, err, sizeof(err))
                             : mx_conf_load(path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (check) {
        printf("%s: configuration OK\n", path ? path : mycat);
        mx_conf_free(cfg);
        return 0;
    }
    mx_proc.cfg = cfg;           /* the load's reference */
    mx_conf_ref(cfg);
    mx_proc.cur = cfg;
    mx_log_level = cfg->log_level;
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    if (cfg->ssl_cert[0] && !(mx_proc.server_tls = make_server_tls(cfg)))
        goto out_cfg;
    if (!(mx_proc.client_tls = make_client_tls(cfg)))
        goto out_tls;
    if (load_rsa(cfg) < 0)
        goto out_tls;
    if (mx_health_init(&mx_proc.health, cfg, mx_log_heartbeat) < 0) {
        mx_error("not starting: state_dir %s is not usable (see above)", cfg->state_dir);
        goto out_tls;
    }
    mx_proc.n_workers = cfg->workers;
    mx_proc.workers = calloc((size_t)cfg->workers, sizeof(mx_worker_t));
    mx_proc.host_conns = calloc(MX_MAX_HOST_SLOTS, sizeof(*mx_proc.host_conns));
    mx_proc.host_waiters = calloc(MX_MAX_HOST_SLOTS, sizeof(*mx_proc.host_waiters));
    if (!mx_proc.workers || !mx_proc.host_conns || !mx_proc.host_waiters)
        goto out_health;
    int started = 0;
    mx_proc.admin_fd = -1;
    for (size_t i = 0; i < cfg->n_schemas; i++)
        if (strcmp(cfg->schemas[i].name, cfg->schemas[i].datanode->database) != 0)
            mx_proc.schemas_renamed = true;
    mx_proc.started_ms = uv_hrtime() / 1000000;
    mx_proc.reload_ms = wall_ms();
    if (uv_mutex_init(&mx_proc.console.lock) != 0)
        goto out_health;
    static uv_async_t console_async;
    if (uv_async_init(uv_default_loop(), &console_async, on_console_request) != 0)
        goto out_health;
    mx_proc.console.main_wakeup = &console_async;
    {
        mx_user_t *a = &mx_proc.admin_user;
        snprintf(a->name, sizeof(a->name), "%s", cfg->admin_user);
        snprintf(a->password, sizeof(a->password), "%s", cfg->admin_password);
        a->has_password = cfg->admin_password[0] != 0;
        mx_native_stage2(a->password, strlen(a->password), a->stage2);
        strcpy(a->auth_plugin, "mysql_native_password");
    }
    if (cfg->admin_listen[0]) {
        mx_proc.admin_fd = mx_listen_socket(cfg->admin_listen);
        if (mx_proc.admin_fd < 0) {
            mx_error("%s: admin_listen = %s: %s", cfg->path, cfg->admin_listen, strerror(-mx_proc.admin_fd));
            goto out_workers;
        }
    }
    int lfd = mx_listen_socket(cfg->listen);
    if (lfd < 0) {
        mx_error("%s: listen = %s: %s", cfg->path, cfg->listen, strerror(-lfd));
        goto out_workers;
    }
    for (int i = 0; i < cfg->workers; i++) {
        int e = mx_worker_init(&mx_proc.workers[i], i, lfd, cfg);
        if (e < 0) {
            mx_error("%s: listen = %s: %s", cfg->path, cfg->listen, strerror(-e));
            close(lfd);
            goto out_workers;
        }
    }
    close(lfd);
    for (; started < cfg->workers; started++)
        if (mx_worker_start(&mx_proc.workers[started]) != 0)
            goto out_workers;
    if (mx_health_start(&mx_proc.health) != 0)
        goto out_workers;
    mx_info("manx %s listening on %s with %d worker%s", MX_VERSION, cfg->listen, cfg->workers,
            cfg->workers == 1 ? "" : "s");

    uv_loop_t *loop = uv_default_loop();
    uv_signal_t sigs[3]; /* SIGTERM, SIGINT, SIGHUP */
    for (int i = 0; i < 3; i++) {
        uv_signal_init(loop, &sigs[i]);
        sigs[i].data = sigs;
    }
    uv_signal_start(&sigs[0], on_signal, SIGTERM);
    uv_signal_start(&sigs[1], on_signal, SIGINT);
    uv_signal_start(&sigs[2], on_sighup, SIGHUP);
    /* On this loop, not a worker's: scrapes read only what workers publish. */
    int mrc = mx_metrics_start(loop, cfg);
    if (mrc < 0) {
        mx_error("%s: metrics_listen = %s: %s", cfg->path, cfg->metrics_listen, strerror(-mrc));
        for (int i = 0; i < 3; i++)
            uv_close((uv_handle_t *)&sigs[i], NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        goto out_workers;
    }
    if (cfg->metrics_listen[0])
        mx_info("metrics on http://%s/metrics", cfg->metrics_listen);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = 0;
out_workers:
    if (rc != 0) {
        console_requests_end();
        uv_run(uv_default_loop(), UV_RUN_NOWAIT);
    }
    /* Worker 0 serves the console on a duplicate of this socket. */
    if (mx_proc.admin_fd >= 0)
        close(mx_proc.admin_fd);
    mx_proc.admin_fd = -1;
    if (rc != 0)
        for (int i = 0; i < started; i++)
            mx_worker_stop(&mx_proc.workers[i]);
    for (int i = 0; i < started; i++)
        mx_worker_join(&mx_proc.workers[i]);
    if (rc == 0)
        mx_info("stopped");
    uv_loop_close(uv_default_loop());
out_health:
    free(mx_proc.workers);
    free(mx_proc.host_conns);
    free(mx_proc.host_waiters);
    mx_health_stop(&mx_proc.health);
out_tls:
    if (mx_proc.server_tls)
        SSL_CTX_free(mx_proc.server_tls);
    if (mx_proc.client_tls)
        SSL_CTX_free(mx_proc.client_tls);
    EVP_PKEY_free(mx_proc.rsa_key);
    free(mx_proc.rsa_pub_pem);
out_cfg:
    mx_conf_unref(mx_proc.cur);
    mx_conf_unref(cfg);
    return rc;
}
