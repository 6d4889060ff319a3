/* The XML layer of conf/mycat.c: expat reads a whole document into a
 * small tree whose elements keep the line they start on; malformed input
 * becomes one "FILE:LINE: reason" message a DBA can act on.  Internal to
 * conf/ (mycat.c and its tests). */
#ifndef MX_CONF_MYCAT_XML_H
#define MX_CONF_MYCAT_XML_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mx_xnode_s {
    char *name;
    char **attrs;                /* name, value, ..., NULL */
    char *text;                  /* character data directly inside, NUL-terminated */
    size_t text_len;
    int line;                    /* where the start tag is */
    bool empty;                  /* written <x/> */
    struct mx_xnode_s *parent, *child, *last, *next;
} mx_xnode_t;

/* Parse a whole document.  Returns its root, or NULL with "FILE:LINE:
 * reason" in err.  Entity declarations are refused and no DTD or other
 * external entity is read. */
mx_xnode_t *mx__xml_parse(const char *file, const char *buf, size_t len, char *err, size_t errlen);
/* Frees n, its children and the siblings after it. */
void mx__xml_free(mx_xnode_t *n);
/* The value of attribute `name`, or NULL. */
const char *mx__xml_attr(const mx_xnode_t *n, const char *name);
/* The element name without a namespace prefix ("mycat:schema" -> "schema"). */
const char *mx__xml_local(const char *name);

#endif
