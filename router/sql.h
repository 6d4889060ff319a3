/* SQL LIKE patterns, for the statements manx answers itself (SHOW
 * DATABASES LIKE ...).  Everything that reads SQL text goes through the one
 * lexer (router/lex.h) and mx_sql_scan() (router/classify.h). */
#ifndef MX_ROUTER_SQL_H
#define MX_ROUTER_SQL_H

#include <stdbool.h>

/* SQL LIKE match with % and _, case-insensitive for ASCII, no escapes. */
bool mx_sql_like(const char *pattern, const char *s);

#endif
