/* Mycat 1.6 conf/ directory -> manx INI (see mycat.h).  mycat-xml.c reads
 * each XML file into an element tree that keeps the line of every element;
 * the translator walks the trees and writes INI lines, each with the file,
 * line and element it came from, and conf.c loads the result, so every
 * value goes through the same validation as a hand-written INI and its
 * errors point at the XML. */
#include "mycat.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include "mycat-xml.h"
#define INI_VALUE_MAX 150        /* conf.c's line holds 198 bytes with the key */

enum { F_SERVER, F_SCHEMA, F_DNINDEX };

/* ---- the translation ------------------------------------------------------ */

typedef struct {
    char name[MX_NAME_MAX];
    const mx_xnode_t *el;
    char hosts[MX_MAX_USER_HOSTS * MX_HOST_PATTERN_MAX];
    size_t n_hosts;
    bool skip;                   /* not imported (warned) */
} user_t;

typedef struct {
    const char *dir;
    char path[3][1100];
    unsigned flags;
    mx_mycat_warn_cb warn;
    void *warn_arg;
    mx_mycat_ini_t *ini;
    char *err;
    size_t errlen;
    bool failed;
    mx_xnode_t *server, *schema;
    user_t *users;
    size_t n_users;
    bool firewall;               /* <whitehost> has entries: users not named are refused */
    bool blacklist_readonly;     /* <blacklist> forbids every write */
    char host_names[256][MX_NAME_MAX]; /* [host] names given so far */
    size_t n_host_names;
} tr_t;

__attribute__((format(printf, 4, 5)))
static void warnf(tr_t *t, int file, int line, const char *fmt, ...)
{
    char msg[768], full[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "%s:%d: %s", t->path[file], line, msg);
    if (t->warn)
        t->warn(t->warn_arg, full);
}

__attribute__((format(printf, 4, 5)))
static bool errf(tr_t *t, int file, int line, const char *fmt, ...)
{
    if (t->failed)
        return false;
    t->failed = true;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(t->err, t->errlen, "%s:%d: %s", t->path[file], line, msg);
    return false;
}

/* "<writeHost host="hostM1">" for messages. */
static const char *label(const mx_xnode_t *n, char *buf, size_t len)
{
    const char *v = mx__xml_attr(n, "name");
    const char *k = "name";
    if (!v) {
        v = mx__xml_attr(n, "host");
        k = "host";
    }
    if (v)
        snprintf(buf, len, "<%s %s=\"%.60s\">", mx__xml_local(n->name), k, v);
    else
        snprintf(buf, len, "<%s>", mx__xml_local(n->name));
    return buf;
}

/* Appends one INI line that came from `el` of file `file` (-1: none). */
__attribute__((format(printf, 4, 5)))
static bool emit(tr_t *t, int file, const mx_xnode_t *el, const char *fmt, ...)
{
    mx_mycat_ini_t *ini = t->ini;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line))
        return errf(t, file < 0 ? F_SERVER : file, el ? el->line : 0, "value too long");
    if (ini->len + (size_t)n + 2 > ini->cap) {
        size_t cap = ini->cap ? ini->cap * 2 : 4096;
        while (cap < ini->len + (size_t)n + 2)
            cap *= 2;
        char *p = realloc(ini->text, cap);
        if (!p)
            return errf(t, F_SERVER, 0, "out of memory");
        ini->text = p;
        ini->cap = cap;
    }
    if (ini->n_origins == ini->origins_cap) {
        size_t cap = ini->origins_cap ? ini->origins_cap * 2 : 64;
        mx_conf_origin_t *o = realloc(ini->origins, cap * sizeof(*o));
        if (o)
            ini->origins = o;
        char (*w)[128] = o ? realloc(ini->whats, cap * sizeof(*w)) : NULL;
        if (w)
            ini->whats = w;
        int *f = w ? realloc(ini->fidx, cap * sizeof(*f)) : NULL;
        if (!f)
            return errf(t, F_SERVER, 0, "out of memory");
        ini->fidx = f;
        ini->origins_cap = cap;
    }
    memcpy(ini->text + ini->len, line, (size_t)n);
    ini->len += (size_t)n;
    ini->text[ini->len++] = '\n';
    ini->text[ini->len] = '\0';
    size_t i = ini->n_origins++;
    ini->fidx[i] = el ? file : -1;
    ini->origins[i] = (mx_conf_origin_t){NULL, el ? el->line : 0, NULL};
    if (el)
        label(el, ini->whats[i], sizeof(ini->whats[i]));
    return true;
}

/* Whether v survives an INI line unchanged: inih trims blanks, ends a
 * value at " ;", and a line ends at a newline. */
static bool ini_safe(const char *v)
{
    size_t n = strlen(v);
    if (n > INI_VALUE_MAX || (n && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]))))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f || (v[i] == ';' && i && isspace((unsigned char)v[i - 1])))
            return false;
    return true;
}

/* emit "key = value" after checking that value can be written. */
static bool emit_kv(tr_t *t, int file, const mx_xnode_t *el, const char *key, const char *v)
{
    char buf[128];
    if (!ini_safe(v))
        return errf(t, file, el->line, "%s: %s: the value cannot be written in manx's INI (at most %d bytes, no "
                    "control characters, no blank at either end, no ';' after a blank)",
                    label(el, buf, sizeof(buf)), key, INI_VALUE_MAX);
    return emit(t, file, el, "%s = %s", key, v);
}

/* Copy of the element's text without surrounding blanks. */
static void text_of(const mx_xnode_t *n, char *out, size_t len)
{
    const char *s = n->text ? n->text : "";
    size_t l = n->text ? n->text_len : 0;
    while (l && isspace((unsigned char)*s))
        s++, l--;
    while (l && isspace((unsigned char)s[l - 1]))
        l--;
    if (l >= len)
        l = len - 1;
    memcpy(out, s, l);
    out[l] = '\0';
}

/* The <property name="key"> children of n as key -> text lookups. */
static const mx_xnode_t *prop(const mx_xnode_t *n, const char *key)
{
    for (const mx_xnode_t *c = n->child; c; c = c->next) {
        const char *k = mx__xml_attr(c, "name");
        if (strcmp(mx__xml_local(c->name), "property") == 0 && k && strcmp(k, key) == 0)
            return c;
    }
    return NULL;
}

static bool is_true(const char *v)
{
    return v && strcasecmp(v, "true") == 0;  /* Java's Boolean.parseBoolean */
}

static bool name_ok(const char *v)
{
    if (!v || !*v || strlen(v) >= MX_NAME_MAX)
        return false;
    for (const char *c = v; *c; c++)
        if (isspace((unsigned char)*c) || *c == ',' || *c == '[' || *c == ']' || !isprint((unsigned char)*c))
            return false;
    return true;
}

static bool check_name(tr_t *t, int file, const mx_xnode_t *el, const char *what, const char *v)
{
    char buf[128];
    if (!v)
        return errf(t, file, el->line, "%s: the %s attribute is missing", label(el, buf, sizeof(buf)), what);
    if (!name_ok(v))
        return errf(t, file, el->line, "%s: %s \"%s\" cannot be a manx name (1 to %d bytes, no blanks, ',', "
                    "'[' or ']')", label(el, buf, sizeof(buf)), what, v, MX_NAME_MAX - 1);
    return true;
}

/* ---- server.xml ------------------------------------------------------------- */

/* What a <system> property the manx INI has no key for does, for the warning. */
static const char *system_unsupported(const char *key)
{
    static const char *const why[][2] = {
        {"charset", "manx greets clients with the backends' collation and keeps each client's own"},
        {"txIsolation", "sessions keep the backends' default isolation; set it on the servers"},
        {"sqlExecuteTimeout", "manx has no statement timeout; use the servers' max_statement_time"},
        {"nonePasswordLogin", "manx never lets a user in without its password"},
        {"sequnceHandlerType", "manx has no Mycat sequences"},
        {"handleDistributedTransactions", "manx sends a transaction to one writeHost; there is nothing distributed"},
    };
    for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++)
        if (strcmp(why[i][0], key) == 0)
            return why[i][1];
    return "no manx counterpart";
}

static bool system_props(tr_t *t, const mx_xnode_t *sys, const mx_xnode_t **port, const mx_xnode_t **bind,
                         const mx_xnode_t **mport, bool *idle_given)
{
    static const char *const direct[][2] = {
        {"processors", "workers"}, {"idleTimeout", "client_idle_timeout"}, {"maxPacketSize", "max_packet"},
        {"fakeMySQLVersion", "server_version"},
    };
    char v[256];
    for (const mx_xnode_t *c = sys ? sys->child : NULL; c; c = c->next) {
        const char *k = mx__xml_attr(c, "name");
        if (strcmp(mx__xml_local(c->name), "property") != 0 || !k) {
            warnf(t, F_SERVER, c->line, "<%s> inside <system>: not a <property name=...>; ignored", c->name);
            continue;
        }
        text_of(c, v, sizeof(v));
        bool done = false;
        for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]) && !done; i++)
            if (strcmp(k, direct[i][0]) == 0) {
                if (!emit_kv(t, F_SERVER, c, direct[i][1], v))
                    return false;
                done = true;
            }
        if (strcmp(k, "idleTimeout") == 0)
            *idle_given = true;
        else if (strcmp(k, "serverPort") == 0)
            *port = c;
        else if (strcmp(k, "bindIp") == 0)
            *bind = c;
        else if (strcmp(k, "managerPort") == 0)
            *mport = c;
        else if (strcmp(k, "defaultMaxLimit") == 0 || done)
            ;  /* used with the schemas, or written above */
        else if (!(strcmp(k, "nonePasswordLogin") == 0 && strcmp(v, "0") == 0))
            warnf(t, F_SERVER, c->line, "<property name=\"%s\"> in <system>: not applied (%s)", k,
                  system_unsupported(k));
    }
    return !t->failed;
}

/* [manx] from <system>; Mycat's defaults where a property is absent. */
static bool server_system(tr_t *t)
{
    const mx_xnode_t *sys = NULL;
    for (const mx_xnode_t *c = t->server->child; c; c = c->next) {
        const char *n = mx__xml_local(c->name);
        if (strcmp(n, "system") == 0 && !sys)
            sys = c;
        else if (strcmp(n, "user") != 0 && strcmp(n, "firewall") != 0)
            warnf(t, F_SERVER, c->line, "<%s>: not used by manx (ignored)", c->name);
    }
    const mx_xnode_t *port = NULL, *bind = NULL, *mport = NULL;
    bool idle_given = false;
    emit(t, -1, NULL, "[manx]");
    if (!system_props(t, sys, &port, &bind, &mport, &idle_given))
        return false;
    char p[64] = "8066", b[128] = "0.0.0.0", m[64] = "9066", addr[256];
    if (port)
        text_of(port, p, sizeof(p));
    if (bind)
        text_of(bind, b, sizeof(b));
    if (mport)
        text_of(mport, m, sizeof(m));
    snprintf(addr, sizeof(addr), strchr(b, ':') ? "[%s]:%s" : "%s:%s", b, p);
    if (!emit_kv(t, F_SERVER, port ? port : bind ? bind : t->server, "listen", addr))
        return false;
    /* Mycat's manager port listens where the server does; manx keeps its
     * console on loopback (README, Coming from Mycat). */
    emit(t, -1, NULL, "; Mycat's managerPort, on loopback: the console takes the [admin] user, not server.xml's");
    snprintf(addr, sizeof(addr), "127.0.0.1:%s", m);
    if (!emit_kv(t, F_SERVER, mport ? mport : t->server, "admin_listen", addr))
        return false;
    if (!idle_given) {
        emit(t, -1, NULL, "; Mycat's default idleTimeout: idle client connections close after 30 minutes");
        emit(t, -1, NULL, "client_idle_timeout = 1800000");
    }
    /* dnindex.properties stays where Mycat keeps it, so both read and
     * write the same active writeHost index. */
    char *real = realpath(t->dir, NULL);
    emit(t, -1, NULL, "; dnindex.properties (the active writeHost of each dataHost) is read and written here");
    bool ok = emit_kv(t, F_SERVER, t->server, "state_dir", real ? real : ".");
    free(real);
    return ok;
}

static user_t *find_user(tr_t *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n_users; i++)
        if (strlen(t->users[i].name) == len && memcmp(t->users[i].name, name, len) == 0)
            return &t->users[i];
    return NULL;
}

/* The check conf.c makes of a [user] hosts pattern. */
static bool pattern_ok(const char *v)
{
    unsigned char bin[16];
    bool wild = false;
    if (!*v || strlen(v) >= MX_HOST_PATTERN_MAX)
        return false;
    if (inet_pton(AF_INET, v, bin) == 1 || inet_pton(AF_INET6, v, bin) == 1)
        return true;
    for (const char *c = v; *c; c++) {
        if (*c == '*' || *c == '%')
            wild = true;
        else if (!isdigit((unsigned char)*c) && *c != '.')
            return false;
    }
    return wild;
}

/* <whitehost><host host="127.0.0.*" user="root,test"/>: each user's list. */
static bool whitehost(tr_t *t, const mx_xnode_t *wh)
{
    for (const mx_xnode_t *h = wh->child; h; h = h->next) {
        const char *pat = mx__xml_attr(h, "host"), *us = mx__xml_attr(h, "user");
        if (strcmp(mx__xml_local(h->name), "host") != 0 || !pat || !us) {
            warnf(t, F_SERVER, h->line, "<%s> in <whitehost>: not <host host=... user=...>; ignored", h->name);
            continue;
        }
        if (!pattern_ok(pat)) {
            warnf(t, F_SERVER, h->line, "<host host=\"%s\">: not an IP address or a pattern of digits, dots, * "
                  "and %%; it can match no client, so it is left out", pat);
            continue;
        }
        t->firewall = true;
        for (const char *s = us;;) {
            const char *comma = strchr(s, ',');
            const char *e = comma ? comma : s + strlen(s);
            while (s < e && isspace((unsigned char)*s))
                s++;
            while (e > s && isspace((unsigned char)e[-1]))
                e--;
            user_t *u = find_user(t, s, (size_t)(e - s));
            if (!u)
                return errf(t, F_SERVER, h->line, "<host host=\"%s\">: user \"%.*s\" is not a <user> of server.xml "
                            "(Mycat refuses this too)", pat, (int)(e - s), s);
            if (u->n_hosts == MX_MAX_USER_HOSTS)
                return errf(t, F_SERVER, h->line, "user \"%s\" is in more than %d <whitehost> entries; manx "
                            "allows %d", u->name, MX_MAX_USER_HOSTS, MX_MAX_USER_HOSTS);
            size_t o = strlen(u->hosts);
            snprintf(u->hosts + o, sizeof(u->hosts) - o, "%s%s", o ? ", " : "", pat);
            u->n_hosts++;
            if (!comma)
                break;
            s = comma + 1;
        }
    }
    return true;
}

/* <blacklist check="true">: Druid's SQL firewall.  manx honours the one
 * combination it can (no INSERT, UPDATE or DELETE: every user read-only);
 * each other switch is a warning. */
static void blacklist(tr_t *t, const mx_xnode_t *bl)
{
    if (!is_true(mx__xml_attr(bl, "check"))) {
        if (bl->child)
            warnf(t, F_SERVER, bl->line, "<blacklist> without check=\"true\": Mycat does not apply it; ignored");
        return;
    }
    static const char *const writes[] = {"insertAllow", "updateAllow", "deleteAllow"};
    int off = 0;
    char v[64];
    for (size_t i = 0; i < 3; i++) {
        const mx_xnode_t *p = prop(bl, writes[i]);
        if (p) {
            text_of(p, v, sizeof(v));
            off += strcasecmp(v, "false") == 0;
        }
    }
    t->blacklist_readonly = off == 3;
    for (const mx_xnode_t *c = bl->child; c; c = c->next) {
        const char *k = mx__xml_attr(c, "name");
        if (t->blacklist_readonly && k && (strcmp(k, "insertAllow") == 0 || strcmp(k, "updateAllow") == 0 ||
                                           strcmp(k, "deleteAllow") == 0))
            continue;
        warnf(t, F_SERVER, c->line, "<blacklist> <%s name=\"%s\">: not enforced by manx (only insertAllow, "
              "updateAllow and deleteAllow all false are, as readonly users)", c->name, k ? k : "?");
    }
}

static bool server_users(tr_t *t)
{
    size_t n = 0;
    for (const mx_xnode_t *c = t->server->child; c; c = c->next)
        n += strcmp(mx__xml_local(c->name), "user") == 0;
    t->users = calloc(n ? n : 1, sizeof(*t->users));
    if (!t->users)
        return errf(t, F_SERVER, 0, "out of memory");
    for (const mx_xnode_t *c = t->server->child; c; c = c->next) {
        if (strcmp(mx__xml_local(c->name), "user") != 0)
            continue;
        const char *name = mx__xml_attr(c, "name");
        if (!check_name(t, F_SERVER, c, "name", name))
            return false;
        if (find_user(t, name, strlen(name)))
            return errf(t, F_SERVER, c->line, "<user name=\"%s\"> is there twice (Mycat refuses this too)", name);
        user_t *u = &t->users[t->n_users++];
        snprintf(u->name, sizeof(u->name), "%s", name);
        u->el = c;
    }
    for (const mx_xnode_t *c = t->server->child; c; c = c->next) {
        if (strcmp(mx__xml_local(c->name), "firewall") != 0)
            continue;
        for (const mx_xnode_t *f = c->child; f; f = f->next) {
            if (strcmp(mx__xml_local(f->name), "whitehost") == 0) {
                if (!whitehost(t, f))
                    return false;
            } else if (strcmp(mx__xml_local(f->name), "blacklist") == 0) {
                blacklist(t, f);
            } else {
                warnf(t, F_SERVER, f->line, "<%s> in <firewall>: not used by manx (ignored)", f->name);
            }
        }
    }
    return true;
}

/* Why a user is left out, or NULL; errors for what would grant more. */
static const char *user_skip(tr_t *t, user_t *u)
{
    const mx_xnode_t *el = u->el, *p;
    char v[64];
    if ((p = prop(el, "usingDecrypt")) && (text_of(p, v, sizeof(v)), strcmp(v, "1") == 0))
        return "its password is encrypted (usingDecrypt=1) with Mycat's key, which manx does not have; give the "
               "clear password in the INI";
    if (t->firewall && u->n_hosts == 0)
        return "no <whitehost> entry names it, so Mycat refuses it from every address";
    if (!(p = prop(el, "schemas")) || (text_of(p, v, sizeof(v)), !v[0]))
        return "it has no schemas, and a manx user needs the schemas it may use";
    return NULL;
}

static bool user_children(tr_t *t, const user_t *u)
{
    static const char *const known[] = {"password", "schemas", "readOnly", "benchmark", "usingDecrypt"};
    for (const mx_xnode_t *c = u->el->child; c; c = c->next) {
        const char *k = mx__xml_attr(c, "name");
        if (strcmp(mx__xml_local(c->name), "privileges") == 0) {
            if (is_true(mx__xml_attr(c, "check")))
                return errf(t, F_SERVER, c->line, "<privileges check=\"true\"> of user \"%s\": manx cannot enforce "
                            "Mycat's per-schema/table DML privileges, and dropping them would let the user do more; "
                            "use readOnly or, in the INI, a backend_user with narrower grants, then remove "
                            "<privileges> or set check=\"false\"", u->name);
            warnf(t, F_SERVER, c->line, "<privileges> of user \"%s\": check is not \"true\", so Mycat does not "
                  "apply it either; ignored", u->name);
            continue;
        }
        bool ok = strcmp(mx__xml_local(c->name), "property") == 0 && k;
        for (size_t i = 0; ok && i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(k, known[i]) == 0)
                ok = false, k = NULL;
        if (ok || k)
            warnf(t, F_SERVER, c->line, "<%s%s%s%s> of user \"%s\": not used by manx (ignored)", c->name,
                  k ? " name=\"" : "", k ? k : "", k ? "\"" : "", u->name);
    }
    return true;
}

static bool user_emit(tr_t *t, user_t *u)
{
    const mx_xnode_t *el = u->el, *p;
    char v[256];
    emit(t, -1, NULL, "%s", "");
    if (!emit(t, F_SERVER, el, "[user %s]", u->name))
        return false;
    if (is_true(mx__xml_attr(el, "defaultAccount")))
        emit(t, -1, NULL, "; defaultAccount=\"true\" in server.xml: accepted; manx has no default account");
    p = prop(el, "password");
    if (p)
        text_of(p, v, sizeof(v));
    if (!p)
        emit(t, F_SERVER, el, "; no password property: Mycat and manx take an empty password");
    if (!emit_kv(t, F_SERVER, p ? p : el, "password", p ? v : ""))
        return false;
    p = prop(el, "schemas");
    text_of(p, v, sizeof(v));
    if (!emit_kv(t, F_SERVER, p, "schemas", v))
        return false;
    p = prop(el, "readOnly");
    if (t->blacklist_readonly)
        emit(t, -1, NULL, "; <blacklist> forbids INSERT, UPDATE and DELETE: read-only");
    if ((p && (text_of(p, v, sizeof(v)), is_true(v))) || t->blacklist_readonly)
        if (!emit(t, F_SERVER, p ? p : el, "readonly = true"))
            return false;
    if ((p = prop(el, "benchmark"))) {
        text_of(p, v, sizeof(v));
        /* Mycat: a benchmark of 0 or less is no limit. */
        char *end;
        long b = strtol(v, &end, 10);
        if (!emit_kv(t, F_SERVER, p, "max_connections", *v && !*end && b <= 0 ? "0" : v))
            return false;
    }
    if (u->n_hosts && !emit_kv(t, F_SERVER, el, "hosts", u->hosts))
        return false;
    return true;
}

static bool users_emit(tr_t *t)
{
    for (size_t i = 0; i < t->n_users; i++) {
        user_t *u = &t->users[i];
        const char *why = user_skip(t, u);
        if (why) {
            warnf(t, F_SERVER, u->el->line, "<user name=\"%s\">: not imported: %s", u->name, why);
            continue;
        }
        if (!user_children(t, u) || !user_emit(t, u))
            return false;
    }
    return true;
}

/* ---- schema.xml ------------------------------------------------------------- */

static bool only_attrs(tr_t *t, const mx_xnode_t *el, const char *const *known)
{
    char buf[128];
    for (char **a = el->attrs; a && *a; a += 2) {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp(a[0], known[i]) == 0;
        if (!ok)
            warnf(t, F_SCHEMA, el->line, "%s: attribute %s=\"%.60s\" is not used by manx (ignored)",
                  label(el, buf, sizeof(buf)), a[0], a[1]);
    }
    return true;
}

static const mx_xnode_t *find_el(const mx_xnode_t *root, const char *kind, const char *name)
{
    for (const mx_xnode_t *c = root->child; c; c = c->next) {
        const char *n = mx__xml_attr(c, "name");
        if (strcmp(mx__xml_local(c->name), kind) == 0 && n && strcmp(n, name) == 0)
            return c;
    }
    return NULL;
}

/* A <table> sends some statements elsewhere than the schema's dataNode:
 * an error (the meaning changes) unless the caller said to ignore it. */
static bool schema_tables(tr_t *t, const mx_xnode_t *s, bool *has_tables)
{
    char buf[128];
    for (const mx_xnode_t *c = s->child; c; c = c->next) {
        const char *k = mx__xml_local(c->name);
        if (strcmp(k, "table") != 0 && strcmp(k, "childTable") != 0) {
            warnf(t, F_SCHEMA, c->line, "<%s> in <schema>: not used by manx (ignored)", c->name);
            continue;
        }
        *has_tables = true;
        const char *dn = mx__xml_attr(c, "dataNode"), *rule = mx__xml_attr(c, "rule");
        if (!(t->flags & MX_MYCAT_IGNORE_SHARDING))
            return errf(t, F_SCHEMA, c->line, "%s: a Mycat table rule (dataNode=\"%s\"%s%s%s) that manx cannot "
                        "follow: manx sends every statement of schema \"%s\" to one dataNode. Start with "
                        "--mycat-ignore-sharding to send this table's statements there too",
                        label(c, buf, sizeof(buf)), dn ? dn : "", rule ? ", rule=\"" : "", rule ? rule : "",
                        rule ? "\"" : "", mx__xml_attr(s, "name"));
        warnf(t, F_SCHEMA, c->line, "%s: Mycat table rule ignored (--mycat-ignore-sharding): its statements go to "
              "dataNode \"%s\" like the rest of schema \"%s\"", label(c, buf, sizeof(buf)),
              mx__xml_attr(s, "dataNode") ? mx__xml_attr(s, "dataNode") : "?", mx__xml_attr(s, "name"));
    }
    return true;
}

static bool schema_one(tr_t *t, const mx_xnode_t *s, long default_limit)
{
    static const char *const known[] = {"name", "checkSQLschema", "sqlMaxLimit", "dataNode", NULL};
    const char *name = mx__xml_attr(s, "name"), *dn = mx__xml_attr(s, "dataNode"), *lim = mx__xml_attr(s, "sqlMaxLimit");
    bool tables = false;
    if (!check_name(t, F_SCHEMA, s, "name", name) || !schema_tables(t, s, &tables) || !only_attrs(t, s, known))
        return false;
    if (!dn)
        return errf(t, F_SCHEMA, s->line, "<schema name=\"%s\"> has no dataNode attribute; manx needs the "
                    "dataNode that holds the schema", name);
    if (is_true(mx__xml_attr(s, "checkSQLschema")))
        warnf(t, F_SCHEMA, s->line, "<schema name=\"%s\">: checkSQLschema=\"true\" is not applied: manx does not "
              "remove the schema name from schema.table in statements", name);
    emit(t, -1, NULL, "%s", "");
    emit(t, F_SCHEMA, s, "[schema %s]", name);
    if (!emit_kv(t, F_SCHEMA, s, "datanode", dn))
        return false;
    /* Mycat limits only statements on its <table>s: a schema with only a
     * default dataNode is never limited, whatever sqlMaxLimit says. */
    if (!tables) {
        if (lim)
            emit(t, -1, NULL, "; sqlMaxLimit=\"%s\": Mycat does not apply it to a schema without <table>s; "
                 "neither does manx", lim);
        return true;
    }
    char v[32];
    snprintf(v, sizeof(v), "%ld", default_limit);
    warnf(t, F_SCHEMA, s->line, "<schema name=\"%s\">: sqlMaxLimit %s applies to every SELECT without LIMIT "
          "in the schema, where Mycat applied it to its <table>s only", name, lim ? lim : v);
    return emit_kv(t, F_SCHEMA, s, "sql_max_limit", lim ? lim : v);
}

static bool datanode_one(tr_t *t, const mx_xnode_t *d)
{
    static const char *const known[] = {"name", "dataHost", "database", NULL};
    const char *name = mx__xml_attr(d, "name");
    if (name && strpbrk(name, "$,"))
        return errf(t, F_SCHEMA, d->line, "<dataNode name=\"%s\">: a range of dataNodes is Mycat sharding, which "
                    "manx does not do; name each dataNode on its own", name);
    if (!check_name(t, F_SCHEMA, d, "name", name) || !check_name(t, F_SCHEMA, d, "dataHost", mx__xml_attr(d, "dataHost")) ||
        !only_attrs(t, d, known))
        return false;
    if (!mx__xml_attr(d, "database"))
        return errf(t, F_SCHEMA, d->line, "<dataNode name=\"%s\"> has no database attribute", name);
    emit(t, -1, NULL, "%s", "");
    emit(t, F_SCHEMA, d, "[datanode %s]", name);
    return emit_kv(t, F_SCHEMA, d, "datahost", mx__xml_attr(d, "dataHost")) &&
           emit_kv(t, F_SCHEMA, d, "database", mx__xml_attr(d, "database"));
}

/* A [host] name for a writeHost/readHost: its host attribute, prefixed
 * with the dataHost's name when another dataHost took it first. */
static bool host_name(tr_t *t, const mx_xnode_t *dh, const mx_xnode_t *h, char *out)
{
    const char *n = mx__xml_attr(h, "host");
    if (!check_name(t, F_SCHEMA, h, "host", n))
        return false;
    bool taken = false;
    for (size_t i = 0; i < t->n_host_names && !taken; i++)
        taken = strcmp(t->host_names[i], n) == 0;
    if (taken) {
        int w = snprintf(out, MX_NAME_MAX, "%s.%s", mx__xml_attr(dh, "name"), n);
        if (w < 0 || w >= MX_NAME_MAX)
            return errf(t, F_SCHEMA, h->line, "host \"%s\" is used twice and \"%s.%s\" is too long a name", n,
                        mx__xml_attr(dh, "name"), n);
        warnf(t, F_SCHEMA, h->line, "host=\"%s\" is used by another dataHost too; this one is [host %s] in manx",
              n, out);
    } else {
        snprintf(out, MX_NAME_MAX, "%s", n);
    }
    if (t->n_host_names == sizeof(t->host_names) / sizeof(t->host_names[0]))
        return errf(t, F_SCHEMA, h->line, "more than %zu hosts", t->n_host_names);
    snprintf(t->host_names[t->n_host_names++], MX_NAME_MAX, "%s", out);
    return true;
}

static bool host_emit(tr_t *t, const mx_xnode_t *h, const char *name, const char *read_hosts)
{
    static const char *const known[] = {"host", "url", "user", "password", "weight", "usingDecrypt", NULL};
    char addr[256];
    const char *url = mx__xml_attr(h, "url"), *w = mx__xml_attr(h, "weight");
    only_attrs(t, h, known);
    if (mx__xml_attr(h, "usingDecrypt") && strcmp(mx__xml_attr(h, "usingDecrypt"), "1") == 0)
        return errf(t, F_SCHEMA, h->line, "<%s host=\"%s\">: the password is encrypted (usingDecrypt=1) with "
                    "Mycat's key, which manx does not have; write the clear password", h->name, mx__xml_attr(h, "host"));
    if (!url || !mx__xml_attr(h, "user"))
        return errf(t, F_SCHEMA, h->line, "<%s host=\"%s\"> needs url and user", h->name, mx__xml_attr(h, "host"));
    /* dbDriver="jdbc" writes jdbc:mysql://host:port/db?options. */
    if (strncasecmp(url, "jdbc:mysql://", 13) == 0)
        url += 13;
    snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(url, "/?"), url);
    emit(t, -1, NULL, "%s", "");
    emit(t, F_SCHEMA, h, "[host %s]", name);
    if (!emit_kv(t, F_SCHEMA, h, "address", addr) || !emit_kv(t, F_SCHEMA, h, "user", mx__xml_attr(h, "user")) ||
        !emit_kv(t, F_SCHEMA, h, "password", mx__xml_attr(h, "password") ? mx__xml_attr(h, "password") : ""))
        return false;
    if (w && strtol(w, NULL, 10) > 0 && !emit_kv(t, F_SCHEMA, h, "weight", w))
        return false;
    return !read_hosts[0] || emit_kv(t, F_SCHEMA, h, "read_hosts", read_hosts);
}

/* The [host] names of a dataHost's writeHosts and of their readHosts. */
typedef struct {
    char w[MX_MAX_HOSTS_PER_LIST][MX_NAME_MAX];
    char r[MX_MAX_HOSTS_PER_LIST][MX_MAX_HOSTS_PER_LIST][MX_NAME_MAX];
    size_t nw, nr[MX_MAX_HOSTS_PER_LIST];
} dh_names_t;

static bool datahost_names(tr_t *t, const mx_xnode_t *dh, dh_names_t *nm)
{
    for (const mx_xnode_t *w = dh->child; w; w = w->next) {
        if (strcmp(mx__xml_local(w->name), "writeHost") != 0)
            continue;
        if (nm->nw == MX_MAX_HOSTS_PER_LIST)
            return errf(t, F_SCHEMA, w->line, "more than %d writeHosts", MX_MAX_HOSTS_PER_LIST);
        size_t i = nm->nw++;
        if (!host_name(t, dh, w, nm->w[i]))
            return false;
        for (const mx_xnode_t *r = w->child; r; r = r->next) {
            if (strcmp(mx__xml_local(r->name), "readHost") != 0) {
                warnf(t, F_SCHEMA, r->line, "<%s> in <writeHost>: not used by manx (ignored)", r->name);
                continue;
            }
            if (nm->nr[i] == MX_MAX_HOSTS_PER_LIST)
                return errf(t, F_SCHEMA, r->line, "more than %d readHosts", MX_MAX_HOSTS_PER_LIST);
            if (!host_name(t, dh, r, nm->r[i][nm->nr[i]++]))
                return false;
        }
    }
    if (nm->nw == 0)
        return errf(t, F_SCHEMA, dh->line, "<dataHost name=\"%s\"> has no <writeHost>", mx__xml_attr(dh, "name"));
    return true;
}

/* The writeHosts of a dataHost, each followed by its readHosts. */
static bool datahost_hosts(tr_t *t, const mx_xnode_t *dh, const dh_names_t *nm)
{
    size_t i = 0;
    for (const mx_xnode_t *w = dh->child; w; w = w->next) {
        if (strcmp(mx__xml_local(w->name), "writeHost") != 0)
            continue;
        char list[MX_MAX_HOSTS_PER_LIST * (MX_NAME_MAX + 2)] = "";
        for (size_t k = 0, o = 0; k < nm->nr[i]; k++, o = strlen(list))
            snprintf(list + o, sizeof(list) - o, "%s%s", k ? ", " : "", nm->r[i][k]);
        if (!host_emit(t, w, nm->w[i], list))
            return false;
        size_t k = 0;
        for (const mx_xnode_t *r = w->child; r; r = r->next)
            if (strcmp(mx__xml_local(r->name), "readHost") == 0 && !host_emit(t, r, nm->r[i][k++], ""))
                return false;
        i++;
    }
    return true;
}

static bool datahost_attrs(tr_t *t, const mx_xnode_t *dh)
{
    static const char *const known[] = {"name", "maxCon", "minCon", "balance", "writeType", "switchType",
                                        "slaveThreshold", "dbType", "dbDriver", "tempReadHostAvailable", NULL};
    static const char *const map[][3] = {
        /* Mycat attribute, manx key, Mycat's default (NULL: manx's is the same) */
        {"balance", "balance", "0"}, {"writeType", "write_type", NULL}, {"switchType", "switch_type", NULL},
        {"maxCon", "max_con", NULL}, {"minCon", "min_con", NULL},
    };
    only_attrs(t, dh, known);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        const char *v = mx__xml_attr(dh, map[i][0]);
        if ((v || map[i][2]) && !emit_kv(t, F_SCHEMA, dh, map[i][1], v ? v : map[i][2]))
            return false;
    }
    const char *st = mx__xml_attr(dh, "slaveThreshold"), *sw = mx__xml_attr(dh, "switchType");
    if (st && strtol(st, NULL, 10) >= 0) {
        if (!sw || strcmp(sw, "2") != 0)
            emit(t, -1, NULL, "; slaveThreshold matters only with switchType=2, in Mycat and in manx");
        if (!emit_kv(t, F_SCHEMA, dh, "slave_threshold", st))
            return false;
    } else if (st) {
        warnf(t, F_SCHEMA, dh->line, "<dataHost name=\"%s\">: slaveThreshold=\"%s\" (no limit) is manx's "
              "default of 100 seconds", mx__xml_attr(dh, "name"), st);
    }
    /* Mycat stops reading from the readHosts of a writeHost that is down
     * unless tempReadHostAvailable="1". */
    const char *tr = mx__xml_attr(dh, "tempReadHostAvailable");
    if (!emit(t, F_SCHEMA, dh, "drop_reads_of_dead_writer = %s", tr && strcmp(tr, "1") == 0 ? "false" : "true"))
        return false;
    const char *drv = mx__xml_attr(dh, "dbDriver");
    if (drv && strcasecmp(drv, "native") != 0)
        warnf(t, F_SCHEMA, dh->line, "<dataHost name=\"%s\">: dbDriver=\"%s\": manx speaks the MySQL protocol "
              "itself, as dbDriver=\"native\" does", mx__xml_attr(dh, "name"), drv);
    return true;
}

static bool datahost_one(tr_t *t, const mx_xnode_t *dh)
{
    const char *name = mx__xml_attr(dh, "name"), *db = mx__xml_attr(dh, "dbType");
    char list[MX_MAX_HOSTS_PER_LIST * (MX_NAME_MAX + 2)] = "", hb[256] = "";
    if (!check_name(t, F_SCHEMA, dh, "name", name))
        return false;
    if (db && strcasecmp(db, "mysql") != 0) {
        for (const mx_xnode_t *c = t->schema->child; c; c = c->next)
            if (strcmp(mx__xml_local(c->name), "dataNode") == 0 && mx__xml_attr(c, "dataHost") &&
                strcmp(mx__xml_attr(c, "dataHost"), name) == 0)
                return errf(t, F_SCHEMA, dh->line, "<dataHost name=\"%s\">: dbType=\"%s\": manx speaks only to "
                            "MySQL and MariaDB, and dataNode \"%s\" (line %d) uses it", name, db,
                            mx__xml_attr(c, "name") ? mx__xml_attr(c, "name") : "?", c->line);
        warnf(t, F_SCHEMA, dh->line, "<dataHost name=\"%s\">: dbType=\"%s\" is not MySQL and no dataNode uses it; "
              "left out", name, db);
        return true;
    }
    dh_names_t *nm = calloc(1, sizeof(*nm));
    if (!nm)
        return errf(t, F_SCHEMA, dh->line, "out of memory");
    bool ok = datahost_names(t, dh, nm);
    emit(t, -1, NULL, "%s", "");
    emit(t, F_SCHEMA, dh, "[datahost %s]", name);
    ok = ok && datahost_attrs(t, dh);
    for (const mx_xnode_t *c = dh->child; ok && c; c = c->next) {
        const char *k = mx__xml_local(c->name);
        if (strcmp(k, "heartbeat") == 0) {
            text_of(c, hb, sizeof(hb));
            ok = !hb[0] || emit_kv(t, F_SCHEMA, c, "heartbeat", hb);
        } else if (strcmp(k, "writeHost") != 0) {
            warnf(t, F_SCHEMA, c->line, "<%s> in <dataHost name=\"%s\">: not used by manx (ignored)", c->name, name);
        }
    }
    for (size_t i = 0, o = 0; ok && i < nm->nw; i++, o = strlen(list))
        snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", nm->w[i]);
    ok = ok && emit_kv(t, F_SCHEMA, dh, "write_hosts", list) && datahost_hosts(t, dh, nm);
    free(nm);
    return ok;
}

static bool schema_all(tr_t *t)
{
    long default_limit = 100;  /* Mycat's defaultMaxLimit */
    for (const mx_xnode_t *c = t->server->child; c; c = c->next)
        if (strcmp(mx__xml_local(c->name), "system") == 0 && prop(c, "defaultMaxLimit")) {
            char v[32];
            text_of(prop(c, "defaultMaxLimit"), v, sizeof(v));
            default_limit = strtol(v, NULL, 10);
        }
    for (const mx_xnode_t *c = t->schema->child; c && !t->failed; c = c->next) {
        const char *k = mx__xml_local(c->name);
        if (strcmp(k, "schema") == 0)
            schema_one(t, c, default_limit);
        else if (strcmp(k, "dataNode") == 0)
            datanode_one(t, c);
        else if (strcmp(k, "dataHost") == 0)
            datahost_one(t, c);
        else
            warnf(t, F_SCHEMA, c->line, "<%s>: not used by manx (ignored)", c->name);
    }
    return !t->failed;
}

/* dnindex.properties: manx reads and writes it in place (state_dir);
 * here only what would be ignored there is pointed out. */
static bool dnindex_check(tr_t *t, const char *text, size_t len)
{
    int line = 0;
    for (size_t pos = 0; text && pos < len;) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + (nl ? 1 : 0);
        line++;
        while (l && isspace((unsigned char)*s))
            s++, l--;
        while (l && isspace((unsigned char)s[l - 1]))
            l--;
        if (!l || *s == '#' || *s == '!')
            continue;
        const char *eq = memchr(s, '=', l);
        size_t nl2 = eq ? (size_t)(eq - s) : 0;
        while (nl2 && isspace((unsigned char)s[nl2 - 1]))
            nl2--;
        char name[MX_NAME_MAX];
        snprintf(name, sizeof(name), "%.*s", (int)(nl2 < sizeof(name) ? nl2 : sizeof(name) - 1), s);
        const mx_xnode_t *dh = eq && nl2 ? find_el(t->schema, "dataHost", name) : NULL;
        long idx = -1, nw = 0;
        if (dh) {
            const char *v = eq + 1;
            char *end;
            while (v < s + l && isspace((unsigned char)*v))
                v++;
            idx = isdigit((unsigned char)*v) ? strtol(v, &end, 10) : -1;
            if (idx >= 0 && end != s + l)
                idx = -1;
            for (const mx_xnode_t *w = dh->child; w; w = w->next)
                nw += strcmp(mx__xml_local(w->name), "writeHost") == 0;
        }
        if (!eq || !nl2)
            warnf(t, F_DNINDEX, line, "not name=index; manx ignores the line");
        else if (!dh)
            warnf(t, F_DNINDEX, line, "\"%s\" is not a <dataHost> of schema.xml; manx ignores the line", name);
        else if (idx < 0 || idx >= nw)
            warnf(t, F_DNINDEX, line, "dataHost \"%s\": \"%.*s\" is not a writeHost index (0..%ld); manx starts "
                  "with writeHost 0", name, (int)(s + l - eq - 1), eq + 1, nw - 1);
    }
    return true;
}


/* ---- entry points ------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len, bool missing_ok, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!(missing_ok && errno == ENOENT))
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    char *buf = NULL;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        snprintf(err, errlen, "%s: not a regular file", path);
    else if ((unsigned long long)sb.st_size > MX_MYCAT_MAX_FILE)
        snprintf(err, errlen, "%s: larger than %u MB; not a Mycat file", path, MX_MYCAT_MAX_FILE >> 20);
    else if (!(buf = malloc((size_t)sb.st_size + 1)))
        snprintf(err, errlen, "%s: out of memory", path);
    else if ((*len = fread(buf, 1, (size_t)sb.st_size + 1, f)) > (size_t)sb.st_size || ferror(f)) {
        snprintf(err, errlen, "%s: cannot read (or it changed while read)", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

void mx_mycat_ini_free(mx_mycat_ini_t *ini)
{
    free(ini->text);
    free(ini->origins);
    free(ini->whats);
    free(ini->fidx);
    for (int i = 0; i < 3; i++)
        free(ini->files[i]);
    memset(ini, 0, sizeof(*ini));
}

static bool translate(tr_t *t, const mx_mycat_files_t *fl)
{
    t->server = mx__xml_parse(t->path[F_SERVER], fl->server, fl->server_len, t->err, t->errlen);
    if (!t->server)
        return t->failed = true, false;
    t->schema = mx__xml_parse(t->path[F_SCHEMA], fl->schema, fl->schema_len, t->err, t->errlen);
    if (!t->schema)
        return t->failed = true, false;
    if (strcmp(mx__xml_local(t->server->name), "server") != 0)
        return errf(t, F_SERVER, t->server->line, "the root element is <%s>, not Mycat's <mycat:server>",
                    t->server->name);
    if (strcmp(mx__xml_local(t->schema->name), "schema") != 0)
        return errf(t, F_SCHEMA, t->schema->line, "the root element is <%s>, not Mycat's <mycat:schema>",
                    t->schema->name);
    emit(t, -1, NULL, "; manx configuration translated from the Mycat directory %s", t->dir);
    emit(t, -1, NULL, "; (server.xml, schema.xml, dnindex.properties) by manx --mycat-conf --print-ini");
    return server_system(t) && server_users(t) && schema_all(t) &&
           dnindex_check(t, fl->dnindex, fl->dnindex_len) && users_emit(t);
}

bool mx_mycat_translate(const char *dir, const mx_mycat_files_t *files, unsigned flags, mx_mycat_warn_cb warn,
                        void *arg, mx_mycat_ini_t *out, char *err, size_t errlen)
{
    static const char *const names[3] = {"server.xml", "schema.xml", "dnindex.properties"};
    tr_t *t = calloc(1, sizeof(*t));
    memset(out, 0, sizeof(*out));
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", dir);
        return false;
    }
    *t = (tr_t){.dir = dir, .flags = flags, .warn = warn, .warn_arg = arg, .ini = out, .err = err,
                .errlen = errlen};
    err[0] = '\0';
    for (int i = 0; i < 3; i++) {
        snprintf(t->path[i], sizeof(t->path[i]), "%s/%s", dir, names[i]);
        out->files[i] = strdup(t->path[i]);
    }
    mx_mycat_files_t fl = {0};
    char *bufs[3] = {NULL, NULL, NULL};
    bool ok = out->files[0] && out->files[1] && out->files[2];
    if (!ok)
        snprintf(err, errlen, "%s: out of memory", dir);
    if (ok && files) {
        fl = *files;
    } else if (ok) {
        ok = (bufs[0] = read_file(t->path[F_SERVER], &fl.server_len, false, err, errlen)) &&
             (bufs[1] = read_file(t->path[F_SCHEMA], &fl.schema_len, false, err, errlen));
        if (ok) {
            bufs[2] = read_file(t->path[F_DNINDEX], &fl.dnindex_len, true, err, errlen);
            ok = bufs[2] || !err[0];
        }
        fl.server = bufs[0];
        fl.schema = bufs[1];
        fl.dnindex = bufs[2];
    }
    ok = ok && translate(t, &fl) && !t->failed;
    for (size_t i = 0; i < out->n_origins; i++) {
        out->origins[i].file = out->fidx[i] >= 0 ? out->files[out->fidx[i]] : NULL;
        out->origins[i].what = out->fidx[i] >= 0 ? out->whats[i] : NULL;
    }
    mx__xml_free(t->server);
    mx__xml_free(t->schema);
    free(t->users);
    free(t);
    for (int i = 0; i < 3; i++)
        free(bufs[i]);
    if (!ok)
        mx_mycat_ini_free(out);
    return ok;
}

mx_config_t *mx_mycat_load(const char *dir, unsigned flags, mx_mycat_warn_cb warn, void *arg, char *err,
                           size_t errlen)
{
    mx_mycat_ini_t ini;
    if (!mx_mycat_translate(dir, NULL, flags, warn, arg, &ini, err, errlen))
        return NULL;
    /* Named as the INI --print-ini prints, so that a message about a line
     * the XML has no counterpart for (a reload refused) can be looked up. */
    char path[1100];
    snprintf(path, sizeof(path), "%s/manx-from-mycat.ini", dir);
    mx_config_t *c = mx_conf_load_mapped(path, ini.text, ini.len, ini.origins, ini.n_origins, err, errlen);
    mx_mycat_ini_free(&ini);
    if (c) {
        snprintf(c->mycat_dir, sizeof(c->mycat_dir), "%s", dir);
        c->mycat_flags = flags;
    }
    return c;
}

static void warn_stderr(void *arg, const char *msg)
{
    fprintf(arg, "warning: %s\n", msg);
}

bool mx_mycat_print_ini(const char *dir, unsigned flags, FILE *out, char *err, size_t errlen)
{
    mx_mycat_ini_t ini;
    if (!mx_mycat_translate(dir, NULL, flags, warn_stderr, stderr, &ini, err, errlen))
        return false;
    char path[1100];
    snprintf(path, sizeof(path), "%s/manx-from-mycat.ini", dir);
    mx_config_t *c = mx_conf_load_mapped(path, ini.text, ini.len, ini.origins, ini.n_origins, err, errlen);
    bool ok = c && fwrite(ini.text, 1, ini.len, out) == ini.len && fflush(out) == 0;
    if (c && !ok)
        snprintf(err, errlen, "cannot write the INI: %s", strerror(errno));
    mx_conf_free(c);
    mx_mycat_ini_free(&ini);
    return ok;
}
