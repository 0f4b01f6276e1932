/*
 * Unit tests for common/json.c.
 *
 * The output is a contract with consumers we do not control, so these
 * tests pin exact bytes: string escapes, base64 against the RFC 4648
 * vectors, the shortest round-trip spelling of doubles and float32
 * values (with the edge values a naive %.17g gets wrong or ugly), and
 * whole event lines for a CT insert, a CDC update with a before-image
 * and a CT delete.  Every line produced is also parsed back with
 * jansson, which rejects invalid UTF-8, so "always valid JSON" is
 * checked rather than assumed; random doubles and floats must read
 * back bit-exact.
 */

#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static struct json_buf buf;

static void setup(void);
static void teardown(void);
static const char *text(void);
static void check_string(const char *, size_t, const char *);
static void check_double(double, const char *);
static void check_real(float, const char *);
static json_t *parse_line(void);
static void make_schema(struct frame_schema *, enum frame_mode);
static void set_str(struct frame_value *, const char *);
static uint64_t next_random(uint64_t *);
static int significant_digits(const char *);
static void check_shortest(double, int);

/* A fresh buffer per test. */
static void
setup(void)
{
	json_buf_init(&buf);
}

static void
teardown(void)
{
	json_buf_free(&buf);
}

/* The buffer as a C string. */
static const char *
text(void)
{
	json_add(&buf, "", 1);
	buf.len--;
	return (buf.data);
}

/* Escaping s gives want, and jansson reads it back. */
static void
check_string(const char *s, size_t len, const char *want)
{
	json_t *j;
	json_error_t err;

	json_buf_reset(&buf);
	json_write_string(&buf, s, len);
	ck_assert_str_eq(text(), want);
	j = json_loadb(
	    buf.data, buf.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	ck_assert_msg(j != NULL, "%s: %s", want, err.text);
	json_decref(j);
}

/* A double is written as want. */
static void
check_double(double d, const char *want)
{
	json_buf_reset(&buf);
	json_write_double(&buf, d);
	ck_assert_str_eq(text(), want);
}

/* A float32 is written as want. */
static void
check_real(float f, const char *want)
{
	json_buf_reset(&buf);
	json_write_real(&buf, f);
	ck_assert_str_eq(text(), want);
}

/* Parse the buffer, which holds one line ending in a newline. */
static json_t *
parse_line(void)
{
	json_error_t err;
	json_t *j;

	ck_assert_uint_gt(buf.len, 0);
	ck_assert_int_eq(buf.data[buf.len - 1], '\n');
	ck_assert_ptr_null(memchr(buf.data, '\n', buf.len - 1));
	j = json_loadb(buf.data, buf.len, JSON_ALLOW_NUL, &err);
	ck_assert_msg(j != NULL, "%s", err.text);
	return (j);
}

/* id (key), name, price, data, flag, r, f, note. */
static void
make_schema(struct frame_schema *s, enum frame_mode mode)
{
	static const char *names[] = { "id", "name", "price", "data", "flag",
		"r", "f", "note" };
	struct frame_column c;
	size_t i;

	frame_schema_init(s, "shop", "dbo", "orders", mode);
	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		memset(&c, 0, sizeof(c));
		c.name = (char *)names[i];
		c.type_name = (char *)"int";
		c.key_ordinal = i == 0;
		frame_schema_add_column(s, &c);
	}
}

static void
set_str(struct frame_value *v, const char *s)
{
	v->type = FRAME_VALUE_STR;
	v->v.s.ptr = (const uint8_t *)s;
	v->v.s.len = strlen(s);
}

/* xorshift64*, for reproducible random bit patterns. */
static uint64_t
next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (*state * 0x2545f4914f6cdd1dULL);
}

/* Significant digits of a JSON number ("0.00120" has 2... "1.2e-3" 2). */
static int
significant_digits(const char *s)
{
	char digits[64];
	int k = 0, first;

	for (; *s != '\0' && *s != 'e'; s++) {
		if (*s >= '0' && *s <= '9' && k < (int)sizeof(digits))
			digits[k++] = *s;
	}
	for (first = 0; first < k - 1 && digits[first] == '0'; first++)
		;
	while (k - 1 > first && digits[k - 1] == '0')
		k--;
	return (k - first);
}

/* No shorter correctly rounded decimal reads back as d. */
static void
check_shortest(double d, int is_float)
{
	char tmp[64];
	int p, k;

	json_buf_reset(&buf);
	if (is_float)
		json_write_real(&buf, (float)d);
	else
		json_write_double(&buf, d);
	k = significant_digits(text());
	for (p = 1; p < k; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (is_float)
			ck_assert_msg(strtof(tmp, NULL) != (float)d,
			    "%s is shorter than %s", tmp, text());
		else
			ck_assert_msg(strtod(tmp, NULL) != d,
			    "%s is shorter than %s", tmp, text());
	}
}

/* Quotes, backslashes and control characters. */
START_TEST(test_escape)
{
	check_string("plain", 5, "\"plain\"");
	check_string("", 0, "\"\"");
	check_string("a\"b\\c/", 6, "\"a\\\"b\\\\c/\"");
	check_string("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
	check_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
	check_string("a\0b", 3, "\"a\\u0000b\"");
	check_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}
END_TEST

/* Ill-formed UTF-8 becomes U+FFFD, one per maximal invalid subpart. */
START_TEST(test_invalid_utf8)
{
	check_string("\xff", 1, "\"\xef\xbf\xbd\"");
	check_string("a\xc3", 2, "\"a\xef\xbf\xbd\"");
	check_string("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	check_string("\xe2\x82"
		     "A",
	    3,
	    "\"\xef\xbf\xbd"
	    "A\"");
	check_string(
	    "\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_string("\xf4\x90\x80\x80", 4,
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_string("\xf0\x9f\x98", 3, "\"\xef\xbf\xbd\"");
	check_string("\x80\"", 2, "\"\xef\xbf\xbd\\\"\"");
}
END_TEST

/* Random bytes always give JSON that jansson accepts. */
START_TEST(test_random_strings)
{
	char s[64];
	uint64_t state = 42;
	size_t i, j, len;
	json_t *js;
	json_error_t err;

	for (i = 0; i < 20000; i++) {
		len = next_random(&state) % sizeof(s);
		for (j = 0; j < len; j++)
			s[j] = next_random(&state) >> 56;
		json_buf_reset(&buf);
		json_write_string(&buf, s, len);
		js = json_loadb(
		    buf.data, buf.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		ck_assert_msg(js != NULL, "case %zu: %s", i, err.text);
		json_decref(js);
	}
}
END_TEST

/* RFC 4648 §10 test vectors. */
START_TEST(test_base64)
{
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba",
		"foobar" };
	static const char *out[] = { "\"\"", "\"Zg==\"", "\"Zm8=\"", "\"Zm9v\"",
		"\"Zm9vYg==\"", "\"Zm9vYmE=\"", "\"Zm9vYmFy\"" };
	static const uint8_t bin[] = { 0x00, 0x01, 0x02, 0xfb, 0xff };
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(*in); i++) {
		json_buf_reset(&buf);
		json_write_base64(&buf, (const uint8_t *)in[i], strlen(in[i]));
		ck_assert_str_eq(text(), out[i]);
	}
	json_buf_reset(&buf);
	json_write_base64(&buf, bin, sizeof(bin));
	ck_assert_str_eq(text(), "\"AAEC+/8=\"");
}
END_TEST

/* Shortest round-trip doubles, laid out like ECMAScript. */
START_TEST(test_double)
{
	check_double(0.1, "0.1");
	check_double(1e-300, "1e-300");
	check_double(5e-324, "5e-324");
	check_double(1.7976931348623157e308, "1.7976931348623157e+308");
	check_double(123456789012345680.0, "123456789012345680");
	check_double(-0.0, "-0");
	check_double(0.0, "0");
	check_double(1.0, "1");
	check_double(-1.5, "-1.5");
	check_double(100.0, "100");
	check_double(1e20, "100000000000000000000");
	check_double(1e21, "1e+21");
	check_double(1e-6, "0.000001");
	check_double(1e-7, "1e-7");
	check_double(0.3, "0.3");
	check_double(0.1 + 0.2, "0.30000000000000004");
	check_double(2.5e-5, "0.000025");
	check_double(9007199254740993.0, "9007199254740992");
	check_double(NAN, "null");
	check_double(INFINITY, "null");
	check_double(-INFINITY, "null");
}
END_TEST

/* float32 (SQL Server real) by its own shortest spelling. */
START_TEST(test_real)
{
	check_real(0.1f, "0.1");
	check_real(1.0f / 3.0f, "0.33333334");
	check_real(16777216.0f, "16777216");
	check_real(3.4028235e38f, "3.4028235e+38");
	check_real(1e-45f, "1e-45");
	check_real(-2.5f, "-2.5");
	check_real(NAN, "null");
}
END_TEST

/* Random bit patterns read back exactly (or are null). */
START_TEST(test_float_roundtrip)
{
	uint64_t state = 7, bits;
	uint32_t bits32;
	double d, back;
	float f;
	size_t i;

	for (i = 0; i < 100000; i++) {
		bits = next_random(&state);
		memcpy(&d, &bits, sizeof(d));
		bits32 = bits >> 32;
		memcpy(&f, &bits32, sizeof(f));
		json_buf_reset(&buf);
		json_write_double(&buf, d);
		if (!isfinite(d))
			ck_assert_str_eq(text(), "null");
		else {
			back = strtod(text(), NULL);
			ck_assert_msg(memcmp(&back, &d, sizeof(d)) == 0,
			    "%.17g written as %s", d, text());
		}
		json_buf_reset(&buf);
		json_write_real(&buf, f);
		if (isfinite(f))
			ck_assert_msg(strtof(text(), NULL) == f &&
				signbit(strtof(text(), NULL)) == signbit(f),
			    "%.9g written as %s", f, text());
	}
}
END_TEST

/* Random values and powers of two get the shortest spelling. */
START_TEST(test_float_shortest)
{
	uint64_t state = 11, bits;
	uint32_t bits32;
	double d;
	float f;
	int i;

	for (i = 0; i < 5000; i++) {
		bits = next_random(&state);
		memcpy(&d, &bits, sizeof(d));
		if (isfinite(d))
			check_shortest(d, 0);
		bits32 = bits >> 32;
		memcpy(&f, &bits32, sizeof(f));
		if (isfinite(f))
			check_shortest(f, 1);
		check_shortest(
		    (double)(next_random(&state) % 1000000) / 1000, 0);
	}
	for (i = -1074; i <= 1023; i++)
		check_shortest(ldexp(1.0, i), 0);
	for (i = -149; i <= 127; i++)
		check_shortest(ldexpf(1.0f, i), 1);
	check_shortest(5e-324, 0);
	check_shortest(1.7976931348623157e308, 0);
}
END_TEST

/* Integers, booleans, null. */
START_TEST(test_scalars)
{
	json_write_int(&buf, INT64_MIN);
	json_add(&buf, ",", 1);
	json_write_int(&buf, INT64_MAX);
	json_add(&buf, ",", 1);
	json_write_uint(&buf, UINT64_MAX);
	json_add(&buf, ",", 1);
	json_write_bool(&buf, 1);
	json_add(&buf, ",", 1);
	json_write_bool(&buf, 0);
	json_add(&buf, ",", 1);
	json_write_null(&buf);
	ck_assert_str_eq(text(),
	    "-9223372036854775808,9223372036854775807,"
	    "18446744073709551615,true,false,null");
}
END_TEST

/* A CT insert from the backfill. */
START_TEST(test_event_ct_insert)
{
	struct frame_schema s;
	struct frame_events evs;
	struct frame_event *ev;
	uint8_t pos[16] = { 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t data[] = { 0, 1, 2, 0xff };
	json_t *j;

	make_schema(&s, FRAME_MODE_CT);
	frame_events_init(&evs, s.ncolumns);
	ev = frame_events_add(&evs, FRAME_OP_CREATE, 1, pos, sizeof(pos),
	    "2026-01-02T03:04:05.1234567Z");
	ev->values[0].type = FRAME_VALUE_INT;
	ev->values[0].v.i = 1;
	set_str(&ev->values[1], "caf\xc3\xa9 \"q\"");
	set_str(&ev->values[2], "-12.3400");
	ev->values[3].type = FRAME_VALUE_BIN;
	ev->values[3].v.s.ptr = data;
	ev->values[3].v.s.len = sizeof(data);
	ev->values[4].type = FRAME_VALUE_BOOL;
	ev->values[4].v.b = 1;
	ev->values[5].type = FRAME_VALUE_REAL;
	ev->values[5].v.real = 0.1f;
	ev->values[6].type = FRAME_VALUE_FLOAT;
	ev->values[6].v.flt = -1.5e-300;
	ev->values[7].type = FRAME_VALUE_NULL;
	json_write_event(&buf, &s, ev, 1, NULL);
	ck_assert_str_eq(text(),
	    "{\"_meta\":{\"op\":\"c\",\"seq\":1,\"source\":{\"db\":\"shop\","
	    "\"schema\":\"dbo\",\"table\":\"orders\",\"snapshot\":true,"
	    "\"version\":42,\"ts\":\"2026-01-02T03:04:05.1234567Z\"}},"
	    "\"id\":1,\"name\":\"caf\xc3\xa9 "
	    "\\\"q\\\"\",\"price\":\"-12.3400\","
	    "\"data\":\"AAEC/w==\",\"flag\":true,\"r\":0.1,\"f\":-1.5e-300,"
	    "\"note\":null}\n");
	j = parse_line();
	ck_assert(json_real_value(json_object_get(j, "r")) == 0.1);
	json_decref(j);
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

/* A CDC update with its before-image and a source tag. */
START_TEST(test_event_cdc_update)
{
	struct frame_schema s;
	struct frame_events evs;
	struct frame_event *ev;
	uint8_t pos[FRAME_POS_CDC_SIZE] = { 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00,
		0x01, 0xe8, 0x00, 0x03, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00,
		0x01, 0xe8, 0x00, 0x02, 0x04 };
	json_t *j;

	make_schema(&s, FRAME_MODE_CDC);
	frame_events_init(&evs, s.ncolumns);
	ev = frame_events_add(&evs, FRAME_OP_UPDATE, 0, pos, sizeof(pos),
	    "2026-01-02T03:04:05.1230000+02:00");
	ev->values[0].type = FRAME_VALUE_INT;
	ev->values[0].v.i = 7;
	set_str(&ev->values[1], "new");
	frame_events_add_before(&evs, ev);
	ev->before[0].type = FRAME_VALUE_INT;
	ev->before[0].v.i = 7;
	set_str(&ev->before[1], "old\n");
	ev->before[7].type = FRAME_VALUE_NULL;
	json_write_event(&buf, &s, ev, 9007199254740993ULL, "prod-1");
	ck_assert_str_eq(text(),
	    "{\"_meta\":{\"op\":\"u\",\"seq\":9007199254740993,\"source\":"
	    "{\"db\":\"shop\",\"schema\":\"dbo\",\"table\":\"orders\","
	    "\"snapshot\":false,\"lsn\":\"0000002a000001e80003\","
	    "\"seqval\":\"0000002a000001e80002\","
	    "\"ts\":\"2026-01-02T03:04:05.1230000+02:00\",\"tag\":\"prod-1\"}},"
	    "\"id\":7,\"name\":\"new\",\"_before\":{\"id\":7,"
	    "\"name\":\"old\\n\",\"note\":null}}\n");
	j = parse_line();
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "_before"), "name")),
	    "old\n");
	json_decref(j);
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

/* A CT delete carries only its key. */
START_TEST(test_event_ct_delete)
{
	struct frame_schema s;
	struct frame_events evs;
	struct frame_event *ev;
	uint8_t pos[16] = { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	make_schema(&s, FRAME_MODE_CT);
	frame_events_init(&evs, s.ncolumns);
	ev = frame_events_add(
	    &evs, FRAME_OP_DELETE, 0, pos, sizeof(pos), "2026-01-02T03:04:05Z");
	ev->values[0].type = FRAME_VALUE_INT;
	ev->values[0].v.i = -3;
	json_write_event(&buf, &s, ev, 3, "");
	ck_assert_str_eq(text(),
	    "{\"_meta\":{\"op\":\"d\",\"seq\":3,\"source\":{\"db\":\"shop\","
	    "\"schema\":\"dbo\",\"table\":\"orders\",\"snapshot\":false,"
	    "\"version\":9223372036854775807,\"ts\":\"2026-01-02T03:04:05Z\","
	    "\"tag\":\"\"}},\"id\":-3}\n");
	json_decref(parse_line());

	/* Lines append: two events, two lines. */
	json_write_event(&buf, &s, ev, 4, NULL);
	ck_assert_ptr_nonnull(strstr(text(),
	    "}\n{\"_meta\":{\"op\":\"d\","
	    "\"seq\":4,"));
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

/* Odd names and values still make one valid line. */
START_TEST(test_event_hostile)
{
	struct frame_schema s;
	struct frame_events evs;
	struct frame_event *ev;
	uint8_t pos[3] = { 1, 2, 3 };

	make_schema(&s, FRAME_MODE_BATCH);
	free(s.columns[1].name);
	s.columns[1].name = xstrdup("we\"ird\n\xff");
	free(s.table);
	s.table = xstrdup("t\\\x01");
	frame_events_init(&evs, s.ncolumns);
	ev = frame_events_add(
	    &evs, FRAME_OP_CREATE, 0, pos, sizeof(pos), "\x80");
	ev->values[0].type = FRAME_VALUE_INT;
	ev->values[0].v.i = 1;
	ev->values[1].type = FRAME_VALUE_STR;
	ev->values[1].v.s.ptr = (const uint8_t *)"\0\xc3\n";
	ev->values[1].v.s.len = 3;
	ev->values[6].type = FRAME_VALUE_FLOAT;
	ev->values[6].v.flt = NAN;
	json_write_event(&buf, &s, ev, 1, NULL);
	ck_assert_ptr_null(strstr(text(), "\"version\""));
	ck_assert_ptr_null(strstr(text(), "\"lsn\""));
	json_decref(parse_line());
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_random_strings);
	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_double);
	tcase_add_test(tc, test_real);
	tcase_add_test(tc, test_float_roundtrip);
	tcase_add_test(tc, test_float_shortest);
	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_event_ct_insert);
	tcase_add_test(tc, test_event_cdc_update);
	tcase_add_test(tc, test_event_ct_delete);
	tcase_add_test(tc, test_event_hostile);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
