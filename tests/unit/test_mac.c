/* Stable, locally administered unicast MACs. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "mac.h"

int main(void)
{
	static const char *const names[] = {"web", "cache", "kv", "server",
					    "a",   "b",	    "ab", ""};
	uint8_t a[6], b[6];
	char s[18];

	lt_mac_for("demo", "web", a);
	lt_mac_for("demo", "web", b);
	CHECK(memcmp(a, b, 6) == 0);
	lt_mac_format(a, s);
	CHECK(strlen(s) == 17);
	/* a known value, so that a change of hash is a visible decision:
	 * MACs are persisted in guests' ARP caches and in saved state */
	CHECK(strcmp(s, "d6:8e:44:a1:a8:4d") == 0);

	/* locally administered, unicast, for any names */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		lt_mac_for("demo", names[i], a);
		CHECK((a[0] & 0x02) == 0x02);
		CHECK((a[0] & 0x01) == 0);
		for (size_t j = 0; j < i; j++) {
			lt_mac_for("demo", names[j], b);
			CHECK(memcmp(a, b, 6) != 0);
		}
	}

	/* the separator: ("ab", "c") is not ("a", "bc") */
	lt_mac_for("ab", "c", a);
	lt_mac_for("a", "bc", b);
	CHECK(memcmp(a, b, 6) != 0);
	/* the deployment counts */
	lt_mac_for("demo", "web", a);
	lt_mac_for("demo2", "web", b);
	CHECK(memcmp(a, b, 6) != 0);

	const uint8_t fixed[6] = {0x02, 0x00, 0xab, 0xcd, 0xef, 0x09};
	lt_mac_format(fixed, s);
	CHECK(strcmp(s, "02:00:ab:cd:ef:09") == 0);

	return check_summary("test_mac");
}
