/* manx: command line, start-up (config, TLS, RSA key, listeners, workers),
 * signals and orderly shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "log.h"
#include "protocol/auth.h"
#include "mx_version.h"
#include "proxy-t.h"
#include "worker.h"

mx_proc_t mx_proc;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: manx -c FILE [--check]\n"
            "MySQL-protocol read/write-splitting proxy.\n\n"
            "  -c, --config FILE  configuration file (INI)\n"
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

/* Collects "section.key=value" lines of a config for comparison. */
typedef struct params_s {
    char text[65536];
    size_t len;
} params_t;

static void collect_param(void *arg, const char *section, const char *key, const char *value, const char *help)
{
    params_t *p = arg;
    int n = snprintf(p->text + p->len, sizeof(p->text) - p->len, "%s.%s=%s\n", section, key, value);
    if (n > 0 && (size_t)n < sizeof(p->text) - p->len)
        p->len += (size_t)n;
}

static bool users_equal(const mx_config_t *a, const mx_config_t *b)
{
    if (a->n_users != b->n_users || a->n_schemas != b->n_schemas)
        return false;
    for (size_t i = 0; i < a->n_users; i++) {
        const mx_user_t *x = &a->users[i], *y = &b->users[i];
        if (strcmp(x->name, y->name) || strcmp(x->password, y->password) || memcmp(x->stage2, y->stage2, 20) ||
            x->readonly != y->readonly || x->n_schemas != y->n_schemas || strcmp(x->auth_plugin, y->auth_plugin))
            return false;
        for (size_t k = 0; k < x->n_schemas; k++)
            if (strcmp(x->schemas[k]->name, y->schemas[k]->name))
                return false;
    }
    for (size_t i = 0; i < a->n_schemas; i++)
        if (strcmp(a->schemas[i].name, b->schemas[i].name) || a->schemas[i].sql_max_limit != b->schemas[i].sql_max_limit)
            return false;
    return true;
}

/* SIGHUP: check the config file again.  A file that does not load, or that
 * changes what needs a restart, is reported and the running configuration
 * stays.  Otherwise the [manx] settings that are plain numbers and flags
 * take effect now; other changes are reported as waiting for a restart. */
static void reload_config(void)
{
    mx_config_t *cur = mx_proc.cfg;
    char err[1024];
    mx_config_t *nc = mx_conf_load(cur->path, err, sizeof(err));
    if (!nc) {
        mx_error("reload: %s (the running configuration stays)", err);
        return;
    }
    if (!mx_conf_check_reload(cur, nc, err, sizeof(err))) {
        mx_error("reload: %s (the running configuration stays)", err);
        mx_conf_free(nc);
        return;
    }
    /* Plain values read by workers as they go: a torn read is impossible
     * for an aligned int or bool. */
    cur->log_level = nc->log_level;
    mx_log_level = nc->log_level;
    cur->max_connections = nc->max_connections;
    cur->max_packet = nc->max_packet;
    cur->connect_timeout_ms = nc->connect_timeout_ms;
    cur->pool_wait_timeout_ms = nc->pool_wait_timeout_ms;
    cur->client_idle_timeout_ms = nc->client_idle_timeout_ms;
    cur->net_read_timeout_ms = nc->net_read_timeout_ms;
    cur->max_login_failures = nc->max_login_failures;
    cur->login_lockout_ms = nc->login_lockout_ms;
    cur->shutdown_timeout_ms = nc->shutdown_timeout_ms;
    cur->require_secure_transport = nc->require_secure_transport && mx_proc.server_tls;
    static params_t a, b;
    a.len = b.len = 0;
    mx_conf_each_param(cur, collect_param, &a);
    mx_conf_each_param(nc, collect_param, &b);
    bool rest_same = a.len == b.len && memcmp(a.text, b.text, a.len) == 0 && users_equal(cur, nc);
    if (rest_same)
        mx_info("reload: %s applied", cur->path);
    else
        mx_warn("reload: %s: the [manx] settings are applied; changes to users, schemas, dataHosts and "
                "hosts take effect at the next restart", cur->path);
    mx_conf_free(nc);
}

static void on_sighup(uv_signal_t *s, int signum)
{
    mx_info("received SIGHUP: reloading %s and re-reading %s", mx_proc.cfg->path, mx_proc.health.path);
    reload_config();
    mx_health_reload(&mx_proc.health);
}

static void on_signal(uv_signal_t *s, int signum)
{
    mx_info("received %s: stopping (in-flight statements may finish for up to %d ms)",
            signum == SIGTERM ? "SIGTERM" : "SIGINT", mx_proc.cfg->shutdown_timeout_ms);
    for (int i = 0; i < mx_proc.n_workers; i++)
        mx_worker_stop(&mx_proc.workers[i]);
    uv_close((uv_handle_t *)s, NULL);
    uv_signal_t *others = s->data;
    for (int i = 0; i < 3; i++)
        if (&others[i] != s && !uv_is_closing((uv_handle_t *)&others[i]))
            uv_close((uv_handle_t *)&others[i], NULL);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    bool check = false;
    int o;
    while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'c': path = optarg; break;
        case 'k': check = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("manx %s\n", MX_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }
    char err[1024];
    mx_config_t *cfg = mx_conf_load(path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (check) {
        printf("%s: configuration OK\n", path);
        mx_conf_free(cfg);
        return 0;
    }
    mx_proc.cfg = cfg;
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
    mx_proc.host_conns = calloc(cfg->n_hosts ? cfg->n_hosts : 1, sizeof(*mx_proc.host_conns));
    mx_proc.host_waiters = calloc(cfg->n_hosts ? cfg->n_hosts : 1, sizeof(*mx_proc.host_waiters));
    if (!mx_proc.workers || !mx_proc.host_conns || !mx_proc.host_waiters)
        goto out_health;
    int started = 0;
    mx_proc.admin_fd = -1;
    for (size_t i = 0; i < cfg->n_schemas; i++)
        if (strcmp(cfg->schemas[i].name, cfg->schemas[i].datanode->database) != 0)
            mx_proc.schemas_renamed = true;
    mx_proc.started_ms = uv_hrtime() / 1000000;
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
        int e = mx_worker_init(&mx_proc.workers[i], i, lfd);
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
    uv_run(loop, UV_RUN_DEFAULT);
    rc = 0;
out_workers:
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
    mx_conf_free(cfg);
    return rc;
}
