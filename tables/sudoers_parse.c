/*
 * sudoers_parse.c - sudoers(5) entry splitter; see sudoers_parse.h for the
 * rules.  Physical lines are gathered into one logical entry (joining '\'
 * continuations) in a capped buffer, then the entry is classified.
 */
#include <string.h>

#include "buf.h"
#include "error.h"
#include "strutil.h"
#include "sudoers_parse.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Returns 1 if word s (length n) is the directive d followed by white
 * space or the end. */
static int is_word(const char *s, size_t n, const char *d)
{
	size_t k = strlen(d);

	return n >= k && memcmp(s, d, k) == 0 && (n == k || is_space(s[k]));
}

/* Returns 1 if the line (left-trimmed) is a whole-line comment: '#' that
 * does not start "#include", "#includedir" or a "#<digits>" uid. */
static int is_comment_line(const char *s, size_t n)
{
	if (n == 0 || s[0] != '#')
		return 0;
	if (is_word(s, n, "#include") || is_word(s, n, "#includedir"))
		return 0;
	return !(n > 1 && is_digit(s[1]));
}

/* Cuts a trailing comment from s in place: a '#' outside double quotes at
 * the start of a word, not followed by a digit or "-digit" (sudo's uid
 * syntax). */
static void cut_comment(char *s)
{
	int quoted = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\\' && s[i + 1] != '\0') {
			i++;
			continue;
		}
		if (s[i] == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted || s[i] != '#' || (i > 0 && !is_space(s[i - 1])))
			continue;
		if (is_digit(s[i + 1]) || (s[i + 1] == '-' && is_digit(s[i + 2])))
			continue;
		s[i] = '\0';
		return;
	}
}

/* Classifies and reports one logical entry (modified in place). */
static int finish_entry(char *s, int line, mm_sudoers_fn fn, mm_sudoers_warn_fn warn, void *arg)
{
	struct mm_sudoers_entry e;
	char *hdr, *rest;
	size_t n;

	s = mm_trim(s);
	if (s[0] == '\0' || is_comment_line(s, strlen(s)))
		return 0;
	hdr = s;
	rest = s;
	while (*rest != '\0' && !is_space(*rest))
		rest++;
	if (*rest != '\0')
		*rest++ = '\0';
	e.line = line;
	e.header = hdr;
	e.kind = MM_SUDOERS_RULE;
	if (strcmp(hdr, "@include") == 0 || strcmp(hdr, "#include") == 0)
		e.kind = MM_SUDOERS_INCLUDE;
	else if (strcmp(hdr, "@includedir") == 0 || strcmp(hdr, "#includedir") == 0)
		e.kind = MM_SUDOERS_INCLUDEDIR;
	if (e.kind != MM_SUDOERS_RULE) {
		rest = mm_trim(rest);
		n = strlen(rest);
		if (n >= 2 && rest[0] == '"' && rest[n - 1] == '"') {
			rest[n - 1] = '\0';
			rest++;
		}
		if (rest[0] == '\0') {
			if (warn != NULL)
				warn(arg, line, e.kind == MM_SUDOERS_INCLUDE
							? "include directive without a file"
							: "includedir directive without a directory");
			return 0;
		}
		e.details = rest;
		return fn(arg, &e);
	}
	cut_comment(rest);
	rest = mm_trim(rest);
	if (mm_startswith(hdr, "Defaults")) {
		if (rest[0] == '\0') {
			if (warn != NULL)
				warn(arg, line, "Defaults without any setting");
			return 0;
		}
	} else if (strchr(rest, '=') == NULL) {
		if (warn != NULL)
			warn(arg, line, "not a Defaults, alias or user rule (no '=')");
		return 0;
	}
	e.details = rest;
	return fn(arg, &e);
}

int mm_sudoers_parse(const char *buf, size_t len, mm_sudoers_fn fn, mm_sudoers_warn_fn warn,
		     void *arg)
{
	struct mm_buf ent;
	size_t pos = 0, n, lead;
	const char *p, *nl;
	int lineno = 0, start = 0, cont = 0, bad = 0, r = 0;
	const char *why = NULL;

	mm_buf_init(&ent, MM_SUDOERS_LINE_MAX);
	while (pos < len) {
		p = buf + pos;
		nl = memchr(p, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - p) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (!cont) {
			mm_buf_reset(&ent);
			start = lineno;
			bad = 0;
			lead = 0;
			while (lead < n && is_space(p[lead]))
				lead++;
			if (is_comment_line(p + lead, n - lead))
				continue; /* a comment never continues on the next line */
		}
		else {
			/* A continuation: its indentation becomes the one joining space. */
			while (n > 0 && is_space(*p)) {
				p++;
				n--;
			}
		}
		if (!mm_is_text(p, n)) {
			bad = 1;
			why = "control characters in line";
		}
		/* Trailing white space, then a '\' continues the entry. */
		while (n > 0 && is_space(p[n - 1]))
			n--;
		cont = n > 0 && p[n - 1] == '\\';
		if (cont) {
			n--;
			while (n > 0 && is_space(p[n - 1]))
				n--;
		}
		if (!bad) {
			int e = mm_buf_add(&ent, p, n);
			if (e == 0 && cont)
				e = mm_buf_addc(&ent, ' ');
			if (e == MM_ERR_TOOBIG) {
				bad = 1;
				why = "entry longer than 65536 bytes";
			} else if (e != 0) {
				r = e;
				goto out;
			}
		}
		if (cont && pos < len)
			continue;
		if (cont && warn != NULL)
			warn(arg, start, "continuation '\\' at end of file");
		cont = 0;
		if (bad) {
			if (warn != NULL)
				warn(arg, start, why);
			continue;
		}
		if (ent.len == 0)
			continue;
		if ((r = finish_entry(ent.data, start, fn, warn, arg)) != 0)
			goto out;
	}
	r = 0;
out:
	mm_buf_free(&ent);
	return r;
}
