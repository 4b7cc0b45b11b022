/*
 * user_groups.c - osquery's `user_groups` table: which groups each local
 * account belongs to, from /etc/passwd and /etc/group under the root prefix.
 *
 * osquery calls getgrouplist() for each account; this computes the same
 * list from the files:
 *   - the primary gid (passwd field 4) comes first;
 *   - then the gid of every /etc/group line whose member list names the
 *     account, in file order;
 *   - a gid is listed once per account;
 *   - accounts sharing a uid are reported once, for the first of them (so
 *     a second uid 0 account's memberships are not shown, as in osquery).
 *
 * Membership lookups go through an index sorted by member name (built once
 * from /etc/group), so the cost is O((users + memberships) log memberships),
 * never users x groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"
#include "table.h"

enum { C_UID, C_GID };

static const struct mm_column cols[] = {
	{ "uid", MM_BIGINT, MM_COL_INDEX, "User ID" },
	{ "gid", MM_BIGINT, MM_COL_INDEX, "Group ID: the primary group or one naming the user" },
	{ NULL },
};

struct member {
	const char *name; /* points into the group file buffer */
	size_t len;       /* name length (names are not NUL-terminated) */
	int64_t gid;
	size_t order; /* position in the file, to keep file order among equals */
};

struct ug {
	struct mm_ctx *ctx;
	const char *path;    /* file being parsed, for warnings */
	struct member *m;    /* memberships, sorted by (name, order) once loaded */
	size_t n, cap;
	struct mm_idset uids; /* uids already reported */
	int64_t *gids;        /* the current account's gids */
	size_t ngids, capgids;
	struct mm_idset acct; /* the current account's gids, once it has many */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct ug *u = arg;

	mm_warn(u->ctx, "%s:%d: %s", u->path, line, why);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((q = realloc(*p, ncap * size)) == NULL)
		return MM_ERR_NOMEM;
	*p = q;
	*cap = ncap;
	return 0;
}

/* Records every member of a group line. */
static int on_group(void *arg, int line, const struct mm_group *gr)
{
	struct ug *u = arg;
	const char *list = gr->members, *name;
	size_t len;
	int r;

	(void)line;
	while (mm_group_next_member(&list, &name, &len)) {
		if ((r = grow((void **)&u->m, &u->cap, u->n + 1, sizeof(*u->m))) != 0)
			return r;
		u->m[u->n] = (struct member){ name, len, gr->gid, u->n };
		u->n++;
	}
	return 0;
}

/* Orders by member name (bytes, shorter first on a common prefix), then by
 * file order. */
static int cmp_name(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static int cmp_member(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	int c = cmp_name(a->name, a->len, b->name, b->len);

	if (c != 0)
		return c;
	return (a->order > b->order) - (a->order < b->order);
}

/* Index of the first membership of name, or u->n when there is none. */
static size_t first_member(const struct ug *u, const char *name)
{
	size_t lo = 0, hi = u->n, len = strlen(name);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_name(u->m[mid].name, u->m[mid].len, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds gid to the current account's list unless already there.  Lists are
 * short, so up to LINEAR_MAX gids are checked linearly; past that a set of
 * the account's gids takes over (freed after the account), so one account
 * in very many groups still costs O(k), not O(k^2). */
#define LINEAR_MAX 32
static int add_gid(struct ug *u, int64_t gid)
{
	size_t i;
	int r;

	if (u->ngids < LINEAR_MAX) {
		for (i = 0; i < u->ngids; i++)
			if (u->gids[i] == gid)
				return 0;
	} else {
		if (u->ngids == LINEAR_MAX && u->acct.n == 0)
			for (i = 0; i < u->ngids; i++)
				if ((r = mm_idset_add(&u->acct, u->gids[i])) < 0)
					return r;
		if ((r = mm_idset_add(&u->acct, gid)) <= 0)
			return r;
	}
	if ((r = grow((void **)&u->gids, &u->capgids, u->ngids + 1, sizeof(*u->gids))) != 0)
		return r;
	u->gids[u->ngids++] = gid;
	return 0;
}

static int on_user(void *arg, int line, const struct mm_passwd *pw)
{
	struct ug *u = arg;
	struct mm_ctx *ctx = u->ctx;
	char num[24];
	size_t i, len = strlen(pw->name);
	int r, gid_eq = mm_eq_count(ctx, C_GID) >= 0;

	(void)line;
	if ((r = mm_idset_add(&u->uids, pw->uid)) <= 0)
		return r; /* 0: uid already reported; <0: out of memory */
	if (mm_eq_count(ctx, C_UID) >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)pw->uid);
		if (!mm_eq_allows(ctx, C_UID, num))
			return 0;
	}
	u->ngids = 0;
	if ((r = add_gid(u, pw->gid)) != 0)
		return r;
	for (i = first_member(u, pw->name);
	     i < u->n && cmp_name(u->m[i].name, u->m[i].len, pw->name, len) == 0; i++)
		if ((r = add_gid(u, u->m[i].gid)) != 0)
			return r;
	mm_idset_free(&u->acct);
	for (i = 0; i < u->ngids; i++) {
		if (gid_eq) {
			snprintf(num, sizeof(num), "%lld", (long long)u->gids[i]);
			if (!mm_eq_allows(ctx, C_GID, num))
				continue;
		}
		if ((r = mm_row_begin(ctx)) != 0)
			return r;
		mm_set_int(ctx, C_UID, pw->uid);
		mm_set_int(ctx, C_GID, u->gids[i]);
		if ((r = mm_row_end(ctx)) != 0)
			return r;
	}
	return 0;
}

/* Reads one file; a missing file is an empty one.  *data is NULL then. */
static int load(struct mm_ctx *ctx, const char *path, char **data, size_t *len)
{
	int r = mm_read(ctx, path, MM_READ_CAP, data, len);

	if (r == MM_ERR_NOTFOUND) {
		*data = NULL;
		*len = 0;
		return 0;
	}
	if (r != 0)
		mm_warn(ctx, "%s: %s", path, mm_strerror(r));
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	struct ug u = { .ctx = ctx };
	char *grp = NULL, *pwd = NULL;
	size_t glen = 0, plen = 0;
	int r;

	if (load(ctx, "/etc/passwd", &pwd, &plen) != 0 || pwd == NULL) {
		r = 0; /* no accounts, no rows */
		goto out;
	}
	if (load(ctx, "/etc/group", &grp, &glen) == 0 && grp != NULL) {
		u.path = "/etc/group";
		if ((r = mm_group_parse(grp, glen, on_group, on_warn, &u)) != 0)
			goto out;
		if (u.n > 1)
			qsort(u.m, u.n, sizeof(*u.m), cmp_member);
	}
	u.path = "/etc/passwd";
	r = mm_passwd_parse(pwd, plen, on_user, on_warn, &u);
out:
	free(u.m);
	free(u.gids);
	mm_idset_free(&u.uids);
	mm_idset_free(&u.acct);
	free(grp);
	free(pwd);
	return r;
}

const struct mm_table mm_table_user_groups = {
	.name = "user_groups",
	.description = "Group memberships of local accounts: each account's primary group and "
		       "every group whose member list names it.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT u.username FROM user_groups ug JOIN users u USING (uid) "
		   "JOIN groups g ON g.gid = ug.gid WHERE g.groupname = 'sudo';",
	.notes = "Computed from /etc/passwd and /etc/group under the root prefix, as "
		 "getgrouplist() would from the files: primary group first, then member "
		 "lists in file order, each gid once per account. Accounts sharing a uid are "
		 "reported once, for the first of them, as osquery does.",
};
