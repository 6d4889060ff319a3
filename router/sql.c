/* SQL LIKE patterns (see sql.h). */
#include "sql.h"

bool mx_sql_like(const char *p, const char *s)
{
    for (; *p; p++, s++) {
        if (*p == '%') {
            while (p[1] == '%')
                p++;
            if (!p[1])
                return true;
            for (; *s; s++)
                if (mx_sql_like(p + 1, s))
                    return true;
            return false;
        }
        if (!*s)
            return false;
        char a = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        char b = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (*p != '_' && a != b)
            return false;
    }
    return *s == 0;
}
