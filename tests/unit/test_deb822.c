/*
 * test_deb822.c - unit tests for the deb822 stanza parser (lib/deb822.h):
 * fields and stanzas, the folding rule, case-insensitive look-up, and the
 * error policy: each damaged line is reported with its line number and
 * skipped, and the stanzas after it survive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deb822.h"
#include "error.h"
#include "unit.h"

/* Collected "LINE: message" strings, joined by '|'. */
static void on_err(void *arg, int line, const char *msg)
{
	struct mm_buf *b = arg;

	if (b->len > 0)
		mm_buf_addc(b, '|');
	mm_buf_addf(b, "%d: %s", line, msg);
}

/* Parses buf and renders every stanza as "@LINE Name=value;Name=value"
 * joined by '\n' (newlines in values shown as "\n"), errors into errs. */
static char *render(const char *buf, size_t len, const struct mm_deb822_opts *base,
		    struct mm_buf *errs)
{
	struct mm_deb822_opts o = { 0 };
	struct mm_deb822 *p = NULL;
	const struct mm_deb822_stanza *st;
	struct mm_buf out;
	size_t i, k;
	int r;

	if (base != NULL)
		o = *base;
	o.on_error = on_err;
	o.arg = errs;
	mm_buf_init(&out, 1 << 20);
	if (mm_deb822_new(buf, len, &o, &p) != 0)
		return NULL;
	while ((r = mm_deb822_next(p, &st)) > 0) {
		if (out.len > 0)
			mm_buf_addc(&out, '\n');
		mm_buf_addf(&out, "@%d", st->line);
		for (i = 0; i < st->nfields; i++) {
			mm_buf_addf(&out, "%s%s=", i ? ";" : " ", st->fields[i].name);
			for (k = 0; k < st->fields[i].value_len; k++) {
				if (st->fields[i].value[k] == '\n')
					mm_buf_adds(&out, "\\n");
				else
					mm_buf_addc(&out, st->fields[i].value[k]);
			}
		}
	}
	ASSERT_INT_EQ(r, 0);
	mm_deb822_free(p);
	return mm_buf_take(&out);
}

static void check(const char *in, size_t len, const struct mm_deb822_opts *o, const char *want,
		  const char *want_errs)
{
	struct mm_buf errs;
	char *got;

	mm_buf_init(&errs, 1 << 16);
	got = render(in, len, o, &errs);
	ASSERT_STR_EQ(got, want);
	ASSERT_STR_EQ(mm_buf_str(&errs), want_errs);
	free(got);
	mm_buf_free(&errs);
}

#define CHECK(in, want, errs) check(in, sizeof(in) - 1, NULL, want, errs)

TEST(basic_stanzas)
{
	CHECK("Package: a\nVersion: 1.0\n\nPackage: b\nVersion:2\n",
	      "@1 Package=a;Version=1.0\n@4 Package=b;Version=2", "");
	/* Extra blank lines, white-space-only separator, CRLF, no final newline. */
	CHECK("\n\nPackage: a\r\n \t\n\n\nPackage: b  \r\nX: y",
	      "@3 Package=a\n@7 Package=b;X=y", "");
	CHECK("", "", "");
	CHECK("\n\n\n", "", "");
}

TEST(folding)
{
	CHECK("Description: short\n long line one\n .\n   indented\nConffiles:\n /etc/a 1f  \n "
	      "/etc/b 2e\nEmpty:\n",
	      "@1 Description=short\\nlong line one\\n.\\n  indented;Conffiles=/etc/a 1f\\n/etc/b "
	      "2e;Empty=",
	      "");
	/* Tab as continuation marker; colons inside values. */
	CHECK("Depends: a,\n\tb (>= 1:2)\nURIs: http://deb.debian.org/debian\n",
	      "@1 Depends=a,\\nb (>= 1:2);URIs=http://deb.debian.org/debian", "");
}

TEST(lookup)
{
	static const char in[] = "Package: a\nSOURCE: x (1.2-3)\n";
	struct mm_deb822 *p = NULL;
	const struct mm_deb822_stanza *st = NULL;

	ASSERT_INT_EQ(mm_deb822_new(in, sizeof(in) - 1, NULL, &p), 0);
	ASSERT_INT_EQ(mm_deb822_next(p, &st), 1);
	ASSERT_STR_EQ(mm_deb822_get(st, "source"), "x (1.2-3)");
	ASSERT_STR_EQ(mm_deb822_get(st, "Package"), "a");
	ASSERT_TRUE(mm_deb822_get(st, "Version") == NULL);
	ASSERT_INT_EQ(mm_deb822_find(st, "Source")->line, 2);
	ASSERT_INT_EQ(st->last_line, 2);
	ASSERT_INT_EQ(mm_deb822_next(p, &st), 0);
	ASSERT_INT_EQ(mm_deb822_errors(p), 0);
	mm_deb822_free(p);
	mm_deb822_free(NULL);
}

TEST(bad_lines_skipped)
{
	/* No colon, binary junk with a NUL, invalid UTF-8, a stray
	 * continuation, a bad name: each reported with its line, the good
	 * fields and the later stanzas kept. */
	static const char in[] = "Package: a\n"
				 "garbage line\n"
				 "Version: 1\n"
				 "\n"
				 "Package: b\n"
				 "Junk: \x01\x00\x7f\n"
				 " continuation of junk\n"
				 "Version: 2\n"
				 "Maintainer: Jos\xc3\xa9 <j@example.org>\n"
				 "Bad: \xff\xfe\n"
				 "\n"
				 " stray\n"
				 " stray again\n"
				 "Pack age: c\n"
				 "Package: c\n";
	check(in, sizeof(in) - 1, NULL,
	      "@1 Package=a;Version=1\n@5 Package=b;Version=2;Maintainer=Jos\xc3\xa9 <j@example.org>\n"
	      "@12 Package=c",
	      "2: not a field (no ':'): line skipped|"
	      "6: binary data (byte 0x01 at column 7): line skipped|"
	      "10: invalid UTF-8 (byte 0xff at column 6): line skipped|"
	      "12: continuation line with no field before it|"
	      "14: bad field name: line skipped");
}

TEST(duplicates_and_comments)
{
	static const char in[] = "# a comment\nTypes: deb\n# inside\nTypes: deb-src\n";
	struct mm_deb822_opts o = { 0 };

	o.flags = MM_DEB822_COMMENTS;
	check(in, sizeof(in) - 1, &o, "@2 Types=deb",
	      "4: duplicate field Types (first on line 2)");
	/* Without the flag, '#' starts a bad name. */
	CHECK("# x: y\nA: b\n", "@1 A=b", "1: bad field name: line skipped");
}

TEST(caps)
{
	struct mm_deb822_opts o = { 0 };
	static const char in[] = "A: 12345\nB: 123456789\nC: 1\n 2345\n 67\nD: x\n\nE: after\n";

	o.max_value = 8;
	check(in, sizeof(in) - 1, &o, "@1 A=12345;D=x\n@8 E=after",
	      "2: field B: value longer than 8 bytes|5: field C: value longer than 8 bytes");
	o.max_value = 0;
	o.max_fields = 2;
	check(in, sizeof(in) - 1, &o, "@1 A=12345;B=123456789\n@8 E=after",
	      "3: more than 2 fields in one stanza: rest of stanza skipped");
	o.max_fields = 0;
	o.max_stanza = 16;
	check(in, sizeof(in) - 1, &o, "@1 A=12345\n@8 E=after",
	      "2: stanza longer than 16 bytes: rest of stanza skipped");
}

TEST(stanza_errors_counted)
{
	static const char in[] = "Package: a\nbad\n\nPackage: b\n";
	struct mm_deb822 *p = NULL;
	const struct mm_deb822_stanza *st = NULL;

	ASSERT_INT_EQ(mm_deb822_new(in, sizeof(in) - 1, NULL, &p), 0);
	ASSERT_INT_EQ(mm_deb822_next(p, &st), 1);
	ASSERT_INT_EQ(st->nerrors, 1);
	ASSERT_INT_EQ(mm_deb822_next(p, &st), 1);
	ASSERT_INT_EQ(st->nerrors, 0);
	ASSERT_INT_EQ(mm_deb822_errors(p), 1);
	mm_deb822_free(p);
}

TEST(truncated_utf8_at_end)
{
	static const char in[] = "A: b\nC: d\xc3";

	check(in, sizeof(in) - 1, NULL, "@1 A=b",
	      "2: invalid UTF-8 (byte 0xc3 at column 5): line skipped");
}

UNIT_MAIN(T(basic_stanzas), T(folding), T(lookup), T(bad_lines_skipped),
	  T(duplicates_and_comments), T(caps), T(stanza_errors_counted), T(truncated_utf8_at_end))
