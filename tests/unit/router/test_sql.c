/* SQL LIKE patterns (router/sql.c).  What the old recognizers of sql.c
 * answered (USE, SELECT DATABASE(), SHOW DATABASES, schema qualifiers, user
 * variables) is now checked through mx_sql_scan() in classify.eval. */
#include "router/sql.h"
#include "test.h"

int main(void)
{
    ASSERT_TRUE(mx_sql_like("aiurt%", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("%PLAT%", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("a_urt-platform", "aiurt-platform"));
    ASSERT_TRUE(mx_sql_like("%", ""));
    ASSERT_TRUE(mx_sql_like("%%x", "ax"));
    ASSERT_TRUE(!mx_sql_like("a_", "a"));
    ASSERT_TRUE(!mx_sql_like("x%", "aiurt"));
    ASSERT_TRUE(!mx_sql_like("", "a"));
    return mx_test_summary("sql");
}
