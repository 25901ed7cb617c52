/* test_badge.c — SVG badges: text widths from the Verdana table, layout,
 * escaping of label and message, colours by state and by uptime, the
 * handlers' 404 badge and headers. */
#include "unit.h"
#include "dashboards/badge.h"
#include "core/log.h"
#include "dashboards/page.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool near(double a, double b)
{
	return fabs(a - b) < 0.01;
}

static void test_width(void **state)
{
	/* Verdana units / 2048 * 11 px. */
	assert_true(near(badge_text_width(""), 0));
	assert_true(near(badge_text_width(NULL), 0));
	assert_true(near(badge_text_width("0"), 1302 * 11.0 / 2048));        /* 6.99 px */
	assert_true(near(badge_text_width("up"), (1296 + 1276) * 11.0 / 2048));
	assert_true(near(badge_text_width("down"), (1276 + 1243 + 1667 + 1296) * 11.0 / 2048));
	assert_true(near(badge_text_width("W"), 2025 * 11.0 / 2048));
	assert_true(near(badge_text_width("i"), 562 * 11.0 / 2048));
	assert_true(badge_text_width("WWW") > badge_text_width("iii") * 3);
	/* "99.95%": four digits, a dot and a percent sign */
	assert_true(near(badge_text_width("99.95%"), (4 * 1302 + 748 + 2224) * 11.0 / 2048));
	/* One UTF-8 character counts once, whatever its byte length. */
	assert_true(near(badge_text_width("\xc3\xa9"), badge_text_width("\xe2\x98\x83")));
	assert_true(badge_text_width("\xc3\xa9") > 5 && badge_text_width("\xc3\xa9") < 9);
}

/* The value of attribute attr of the first element starting with tag. */
static double attr(const char *svg, const char *tag, const char *name)
{
	const char *p = strstr(svg, tag);
	char key[32];

	assert_non_null(p);
	snprintf(key, sizeof(key), " %s=\"", name);
	p = strstr(p, key);
	assert_non_null(p);
	return atof(p + strlen(key));
}

static void test_layout(void **state)
{
	size_t len;
	char *svg = badge_svg("api", "up", "#4c1", &len);
	double lw = round(badge_text_width("api") + 12), mw = round(badge_text_width("up") + 12);

	assert_int_equal(strlen(svg), len);
	assert_true(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
	assert_non_null(strstr(svg, "</svg>"));
	assert_true(near(attr(svg, "<svg", "width"), lw + mw));
	assert_true(near(attr(svg, "<svg", "height"), 20));
	assert_non_null(strstr(svg, "<title>api: up</title>"));
	assert_non_null(strstr(svg, "aria-label=\"api: up\""));
	/* label box grey, message box coloured, starting where the label ends */
	assert_non_null(strstr(svg, "fill=\"#555\""));
	assert_true(near(attr(svg, "<rect x=", "x"), lw));
	assert_true(near(attr(svg, "<rect x=", "width"), mw));
	assert_non_null(strstr(svg, "fill=\"#4c1\""));
	/* texts centred in their boxes */
	assert_true(near(attr(svg, "<text", "x"), lw / 2));
	assert_non_null(strstr(svg, "font-size=\"11\""));
	free(svg);
}

static void test_escaping(void **state)
{
	size_t len;
	char *svg;

	svg = badge_svg("<script>alert(1)</script>", "a&b \"q\"", "#e05d44", &len);
	assert_null(strstr(svg, "<script>"));
	assert_non_null(strstr(svg, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(svg, "a&amp;b &quot;q&quot;"));
	free(svg);

	/* Invalid UTF-8 and control bytes cannot make the SVG unparsable. */
	svg = badge_svg("bad\xff\x01", "ok", "#4c1", &len);
	assert_non_null(strstr(svg, ">bad?</text>"));
	free(svg);

	/* Secrets are masked. */
	log_secret_add("badge-secret-123");
	svg = badge_svg("x badge-secret-123", "ok", "#4c1", &len);
	assert_null(strstr(svg, "badge-secret-123"));
	assert_non_null(strstr(svg, "x ***"));
	free(svg);
	log_secret_clear();

	/* Long texts are cut to 64 characters. */
	{
		char longs[200];

		memset(longs, 'm', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		svg = badge_svg(longs, "up", "#4c1", &len);
		assert_null(strstr(svg, ">" "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"));
		assert_non_null(strstr(svg, ">" "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm<"));
		free(svg);
	}
}

static void test_colors(void **state)
{
	assert_string_equal(badge_state_color("up"), "#4c1");
	assert_string_equal(badge_state_color("down"), "#e05d44");
	assert_string_equal(badge_state_color("blocked"), "#fe7d37");
	assert_string_equal(badge_state_color("maintenance"), "#007ec6");
	assert_string_equal(badge_state_color("pending"), "#9f9f9f");
	assert_string_equal(badge_state_color("weird"), "#9f9f9f");
	assert_string_equal(badge_state_color(NULL), "#9f9f9f");
	assert_string_equal(badge_uptime_color(100), "#4c1");
	assert_string_equal(badge_uptime_color(99.9), "#4c1");
	assert_string_equal(badge_uptime_color(99.5), "#dfb317");
	assert_string_equal(badge_uptime_color(97), "#fe7d37");
	assert_string_equal(badge_uptime_color(50), "#e05d44");
	assert_string_equal(badge_uptime_color(-1), "#9f9f9f");
}

static void test_not_found(void **state)
{
	struct api_request rq;
	struct api_response rs;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.path = "/badge/nope.svg";
	snprintf(rq.name, sizeof(rq.name), "nope.svg");
	badge_state(&rq, &rs);          /* no snapshot: every name is unknown */
	assert_int_equal(rs.status, 404);
	assert_string_equal(rs.content_type, "image/svg+xml");
	assert_string_equal(rs.cache_control, "max-age=60");
	assert_non_null(strstr(rs.body, "<title>nope: not found</title>"));
	free(rs.body);

	memset(&rs, 0, sizeof(rs));
	rq.path = "/badge/nope/uptime/7d.svg";
	snprintf(rq.name, sizeof(rq.name), "nope");
	badge_uptime(&rq, &rs);
	assert_int_equal(rs.status, 404);
	assert_non_null(strstr(rs.body, "not found"));
	free(rs.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_colors),
		cmocka_unit_test(test_not_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
