/* Mycat's XML files read with expat into a tree of elements that keep
 * their line (see mycat-xml.h).  expat rather than libxml2: a SAX parser is
 * all a handful of small files need, it reports the line of each element
 * as it opens, it never fetches the DTD Mycat's files name (no network, no
 * file outside the directory), and it is the smaller attack surface;
 * internal entity declarations are refused outright, since no Mycat file
 * needs them. */
#include "mycat-xml.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "mycat.h"

#define MAX_DEPTH 32

typedef struct {
    const char *file;            /* for messages */
    mx_xnode_t *root, *cur;
    int depth;
    XML_Parser p;
    char *err;
    size_t errlen;
    bool failed;
} xdoc_t;

void mx__xml_free(mx_xnode_t *n)
{
    while (n) {
        mx_xnode_t *next = n->next;
        mx__xml_free(n->child);
        for (char **a = n->attrs; a && *a; a++)
            free(*a);
        free(n->attrs);
        free(n->name);
        free(n->text);
        free(n);
        n = next;
    }
}

__attribute__((format(printf, 3, 4)))
static void xfail(xdoc_t *d, int line, const char *fmt, ...)
{
    if (d->failed)
        return;
    d->failed = true;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(d->err, d->errlen, "%s:%d: %s", d->file, line, msg);
    XML_StopParser(d->p, XML_FALSE);
}

const char *mx__xml_attr(const mx_xnode_t *n, const char *name)
{
    for (char **a = n->attrs; a && *a; a += 2)
        if (strcmp(a[0], name) == 0)
            return a[1];
    return NULL;
}

const char *mx__xml_local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xdoc_t *d = ud;
    int line = (int)XML_GetCurrentLineNumber(d->p);
    if (d->failed)
        return;
    if (++d->depth > MAX_DEPTH) {
        xfail(d, line, "elements nested more than %d deep", MAX_DEPTH);
        return;
    }
    mx_xnode_t *n = calloc(1, sizeof(*n));
    size_t na = 0;
    while (atts[na])
        na++;
    if (n) {
        n->name = strdup(name);
        n->attrs = calloc(na + 1, sizeof(char *));
    }
    if (!n || !n->name || !n->attrs) {
        if (n)
            mx__xml_free(n);
        xfail(d, line, "out of memory");
        return;
    }
    for (size_t i = 0; i < na; i++)
        if (!(n->attrs[i] = strdup(atts[i]))) {
            mx__xml_free(n);
            xfail(d, line, "out of memory");
            return;
        }
    n->line = line;
    n->parent = d->cur;
    if (!d->cur)
        d->root = n;
    else if (d->cur->last)
        d->cur->last = d->cur->last->next = n;
    else
        d->cur->child = d->cur->last = n;
    d->cur = n;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    xdoc_t *d = ud;
    if (d->failed || !d->cur)
        return;
    /* expat reports <x/> as a start and an end with no bytes of its own:
     * remembered to explain a later stray </x>. */
    d->cur->empty = XML_GetCurrentByteCount(d->p) == 0;
    d->cur = d->cur->parent;
    d->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xdoc_t *d = ud;
    if (d->failed || !d->cur || len <= 0)
        return;
    mx_xnode_t *n = d->cur;
    char *t = realloc(n->text, n->text_len + (size_t)len + 1);
    if (!t) {
        xfail(d, (int)XML_GetCurrentLineNumber(d->p), "out of memory");
        return;
    }
    memcpy(t + n->text_len, s, (size_t)len);
    n->text_len += (size_t)len;
    t[n->text_len] = '\0';
    n->text = t;
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *system_id,
                              const XML_Char *public_id, const XML_Char *notation)
{
    xdoc_t *d = ud;
    xfail(d, (int)XML_GetCurrentLineNumber(d->p), "the DTD declares entity '%s'; manx refuses entity "
          "declarations (no Mycat file needs them, and they can expand without bound)", name);
}

/* The name of the end tag expat stopped at (its error index points at the
 * name, just after "</"), or "" when there is none. */
static void end_tag_at(const char *buf, size_t len, size_t pos, char *out, size_t n)
{
    size_t k = 0;
    if (pos + 2 < len && buf[pos] == '<' && buf[pos + 1] == '/')
        pos += 2;
    else if (pos < 2 || pos >= len || buf[pos - 2] != '<' || buf[pos - 1] != '/')
        pos = len;
    for (; pos < len && k + 1 < n && buf[pos] != '>' && !isspace((unsigned char)buf[pos]); pos++)
        out[k++] = buf[pos];
    out[k] = '\0';
}

/* A tag mismatch in words a DBA can act on; the one the ops note
 * has (a <writeHost .../> closed twice) gets its own explanation. */
static void explain_mismatch(xdoc_t *d, const char *buf, size_t len, int line)
{
    char stray[64];
    end_tag_at(buf, len, (size_t)XML_GetCurrentByteIndex(d->p), stray, sizeof(stray));
    const mx_xnode_t *open = d->cur, *self = NULL;
    for (const mx_xnode_t *c = open ? open->child : NULL; c && stray[0]; c = c->next)
        if (c->empty && strcmp(c->name, stray) == 0)
            self = c;
    const char *h = self ? mx__xml_attr(self, "host") : NULL;
    if (self)
        xfail(d, line, "</%s> closes nothing: the <%s%s%s%s> at line %d ends with \"/>\", which already "
              "closes it, so the elements after it are outside it and this </%s> is left over (Mycat refuses "
              "the file too). Remove the \"/\" at the end of the tag on line %d, or this </%s>",
              stray, self->name, h ? " host=\"" : "", h ? h : "", h ? "\"" : "", self->line, stray, self->line,
              stray);
    else if (stray[0] && open)
        xfail(d, line, "</%s> found where </%s> was expected (for the <%s> opened at line %d): a tag is "
              "missing, misspelt or closed twice", stray, open->name, open->name, open->line);
    else
        xfail(d, line, "not well-formed XML: %s", XML_ErrorString(XML_GetErrorCode(d->p)));
}

mx_xnode_t *mx__xml_parse(const char *file, const char *buf, size_t len, char *err, size_t errlen)
{
    xdoc_t d = {.file = file, .err = err, .errlen = errlen};
    if (len > MX_MYCAT_MAX_FILE || len > (size_t)INT32_MAX) {
        snprintf(err, errlen, "%s: larger than %u MB; not a Mycat file", file, MX_MYCAT_MAX_FILE >> 20);
        return NULL;
    }
    d.p = XML_ParserCreate(NULL);
    if (!d.p) {
        snprintf(err, errlen, "%s: out of memory", file);
        return NULL;
    }
    XML_SetUserData(d.p, &d);
    XML_SetElementHandler(d.p, on_start, on_end);
    XML_SetCharacterDataHandler(d.p, on_text);
    XML_SetEntityDeclHandler(d.p, on_entity);
    XML_SetParamEntityParsing(d.p, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(d.p, buf, (int)len, XML_TRUE) != XML_STATUS_OK && !d.failed) {
        int line = (int)XML_GetCurrentLineNumber(d.p);
        if (XML_GetErrorCode(d.p) == XML_ERROR_TAG_MISMATCH)
            explain_mismatch(&d, buf, len, line);
        else if (XML_GetErrorCode(d.p) == XML_ERROR_NO_ELEMENTS)
            xfail(&d, line, "no XML element in the file (is it empty?)");
        else
            xfail(&d, line, "not well-formed XML (column %d): %s", (int)XML_GetCurrentColumnNumber(d.p) + 1,
                  XML_ErrorString(XML_GetErrorCode(d.p)));
    }
    XML_ParserFree(d.p);
    if (d.failed || !d.root) {
        if (!d.failed)
            snprintf(err, errlen, "%s: no XML element in the file", file);
        mx__xml_free(d.root);
        return NULL;
    }
    return d.root;
}

