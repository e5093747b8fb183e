/*
 * test_object_glob.c
 *		TAP unit tests of common/object_glob.c, the one matcher of
 *		suppression object globs that the extension and the driver share.
 */
#include <stdio.h>
#include <string.h>

#include "object_glob.h"

static int	n_tests = 0;
static int	n_failed = 0;

static void
expect(const char *glob, const char *object, int want)
{
	int			got = dd_object_glob_match(glob, object);

	n_tests++;
	if (got != want)
		n_failed++;
	printf("%s %d - %s %s %s\n", got == want ? "ok" : "not ok", n_tests, glob,
		   want ? "covers" : "does not cover", object ? object : "(null)");
}

int
main(void)
{
	/* plain globs */
	expect("app.orders", "app.orders", 1);
	expect("app.*", "app.orders", 1);
	expect("app.ord?rs", "app.orders", 1);
	expect("app.order", "app.orders", 0);
	expect("*", "", 1);
	expect("", "", 1);
	expect("a", NULL, 0);
	expect("*", NULL, 1);
	/* G.part: a column or constraint of the table G */
	expect("app.orders", "app.orders.customer_id", 1);
	expect("app.orders", "app.orders_archive.id", 0);
	expect("app.ord*", "app.orders.id", 1);
	/* G(args): a function */
	expect("app.touch", "app.touch(integer, text)", 1);
	expect("app.touch", "app.touched()", 0);
	/* name on G: a trigger, rule, policy or constraint of the table G */
	expect("app.orders", "orders_touch on app.orders", 1);
	expect("app.orders", "orders_touch on app.orders_x", 0);
	expect("app.o*", "t on app.orders", 1);
	/* stars that must backtrack */
	expect("*a*b*c", "xxaxxbxxcxxc", 1);
	expect("*a*b*c", "xxaxxcxxb", 0);
	expect("a**", "a", 1);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
