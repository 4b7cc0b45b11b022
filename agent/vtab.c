/*
 * vtab.c - turns every struct mm_table into an eponymous, read-only SQLite
 * virtual table, and implements the generator side of table.h (struct
 * mm_ctx: constraints in, rows out).
 *
 * Shape follows SQLite's ext/misc/series.c.  A scan runs the table's
 * generator once in xFilter, materialising the rows (as osquery does), then
 * xNext/xColumn walk them.  Rows live in memory from sqlite3_malloc64 so
 * the engine's heap limit covers them.
 *
 * The plan chosen in xBestIndex travels to xFilter in idxStr:
 *
 *     idxStr  = "<colUsed hex>" { ";" <col> <op> }
 *     <col>   = column index, decimal
 *     <op>    = 'e'  equality, one value            (argv[i] is the value)
 *             | 'i'  equality with a whole IN list  (argv[i] is the list:
 *                    read with sqlite3_vtab_in_first/next)
 *             | 'l'  LIKE pattern                   (argv[i] is the pattern)
 *
 * The n-th pushed constraint is argv[n].  No constraint is omitted: SQLite
 * re-checks every one on the rows produced, so a generator may return a
 * superset (a path normalised differently, say) and still be correct.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fileio.h"
#include "table.h"

/* One stored value. */
struct mm_val {
	unsigned char type; /* 0 = NULL, else SQLITE_INTEGER/FLOAT/TEXT */
	unsigned len;       /* text length */
	union {
		int64_t i;
		double d;
		const char *s; /* points into the arena */
	} u;
};

/* Arena chunk for text values. */
struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

/* Constraint values for one column. */
struct cvals {
	int n;          /* number of values; 0 = none of this kind */
	char **v;       /* sqlite3_malloc'ed strings */
};

struct mm_ctx {
	const struct mm_table *table;
	struct mm_engine *engine;
	int ncols;
	uint64_t col_used;     /* bitmask as given by xBestIndex (bit 63 = 63+) */
	int *eq_set;           /* per column: 1 if an eq/IN constraint applies */
	struct cvals *eq;      /* per column equality values */
	struct cvals *like;    /* per column LIKE patterns */
	struct mm_val *rows;   /* nrows * ncols values */
	size_t nrows, arows;   /* used and allocated rows */
	struct chunk *arena;
	int in_row;            /* between mm_row_begin and mm_row_end */
	int oom;               /* an allocation failed in a setter */
	char *errmsg;          /* set by mm_error */
};

struct vtab {
	sqlite3_vtab base;
	const struct mm_table *table;
	struct mm_engine *engine;
	int ncols;
};

struct cursor {
	sqlite3_vtab_cursor base;
	struct mm_ctx *ctx;
	size_t row;
};

/* ---- context life cycle -------------------------------------------------- */

static void cvals_free(struct cvals *c, int n)
{
	int i, j;

	if (c == NULL)
		return;
	for (i = 0; i < n; i++) {
		for (j = 0; j < c[i].n; j++)
			sqlite3_free(c[i].v[j]);
		sqlite3_free(c[i].v);
	}
	sqlite3_free(c);
}

static void ctx_free(struct mm_ctx *ctx)
{
	struct chunk *c, *next;

	if (ctx == NULL)
		return;
	cvals_free(ctx->eq, ctx->ncols);
	cvals_free(ctx->like, ctx->ncols);
	sqlite3_free(ctx->eq_set);
	sqlite3_free(ctx->rows);
	for (c = ctx->arena; c != NULL; c = next) {
		next = c->next;
		sqlite3_free(c);
	}
	sqlite3_free(ctx->errmsg);
	sqlite3_free(ctx);
}

static struct mm_ctx *ctx_new(const struct vtab *vt)
{
	struct mm_ctx *ctx = sqlite3_malloc64(sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	memset(ctx, 0, sizeof(*ctx));
	ctx->table = vt->table;
	ctx->engine = vt->engine;
	ctx->ncols = vt->ncols;
	ctx->eq_set = sqlite3_malloc64(sizeof(int) * (size_t)vt->ncols);
	ctx->eq = sqlite3_malloc64(sizeof(struct cvals) * (size_t)vt->ncols);
	ctx->like = sqlite3_malloc64(sizeof(struct cvals) * (size_t)vt->ncols);
	if (ctx->eq_set == NULL || ctx->eq == NULL || ctx->like == NULL) {
		ctx_free(ctx);
		return NULL;
	}
	memset(ctx->eq_set, 0, sizeof(int) * (size_t)vt->ncols);
	memset(ctx->eq, 0, sizeof(struct cvals) * (size_t)vt->ncols);
	memset(ctx->like, 0, sizeof(struct cvals) * (size_t)vt->ncols);
	return ctx;
}

static int cvals_add(struct cvals *c, const char *s)
{
	char **nv;
	char *copy;

	if ((copy = sqlite3_mprintf("%s", s)) == NULL)
		return MM_ERR_NOMEM;
	nv = sqlite3_realloc64(c->v, sizeof(char *) * (size_t)(c->n + 1));
	if (nv == NULL) {
		sqlite3_free(copy);
		return MM_ERR_NOMEM;
	}
	c->v = nv;
	c->v[c->n++] = copy;
	return 0;
}

/* ---- table.h: reading and diagnostics ------------------------------------ */

const char *mm_root(const struct mm_ctx *ctx)
{
	return mm_engine_root(ctx->engine);
}

int mm_rpath(const struct mm_ctx *ctx, const char *path, char *out, size_t outsz)
{
	return mm_path_join(out, outsz, mm_root(ctx), path);
}

int mm_read(const struct mm_ctx *ctx, const char *path, size_t cap, char **data, size_t *len)
{
	char full[4096];
	int r;

	*data = NULL;
	*len = 0;
	if ((r = mm_rpath(ctx, path, full, sizeof(full))) != 0)
		return r;
	return mm_read_file(full, cap, data, len);
}

void mm_warn(struct mm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	mm_engine_warn(ctx->engine, ctx->table->name, msg != NULL ? msg : "(out of memory)");
	sqlite3_free(msg);
}

void mm_error(struct mm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	sqlite3_free(ctx->errmsg);
	va_start(ap, fmt);
	ctx->errmsg = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
}

int mm_check(struct mm_ctx *ctx)
{
	return mm_engine_expired(ctx->engine) ? MM_ERR_LIMIT : 0;
}

/* ---- table.h: constraints ------------------------------------------------ */

int mm_eq_count(const struct mm_ctx *ctx, int col)
{
	if (col < 0 || col >= ctx->ncols || !ctx->eq_set[col])
		return -1;
	return ctx->eq[col].n;
}

const char *mm_eq_value(const struct mm_ctx *ctx, int col, int i)
{
	if (col < 0 || col >= ctx->ncols || i < 0 || i >= ctx->eq[col].n)
		return NULL;
	return ctx->eq[col].v[i];
}

int mm_eq_allows(const struct mm_ctx *ctx, int col, const char *v)
{
	int i;

	if (mm_eq_count(ctx, col) < 0)
		return 1;
	if (v == NULL)
		return 0;
	for (i = 0; i < ctx->eq[col].n; i++)
		if (strcmp(ctx->eq[col].v[i], v) == 0)
			return 1;
	return 0;
}

int mm_like_count(const struct mm_ctx *ctx, int col)
{
	if (col < 0 || col >= ctx->ncols)
		return 0;
	return ctx->like[col].n;
}

const char *mm_like_value(const struct mm_ctx *ctx, int col, int i)
{
	if (col < 0 || col >= ctx->ncols || i < 0 || i >= ctx->like[col].n)
		return NULL;
	return ctx->like[col].v[i];
}

int mm_col_used(const struct mm_ctx *ctx, int col)
{
	if (col < 0)
		return 0;
	if (col >= 63)
		return (ctx->col_used >> 63) & 1;
	return (ctx->col_used >> col) & 1;
}

/* ---- table.h: composing tables ------------------------------------------- */

int mm_subquery(struct mm_ctx *ctx, const char *sql, int (*row)(void *, sqlite3_stmt *),
		void *arg)
{
	sqlite3 *db = mm_engine_db(ctx->engine);
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		mm_error(ctx, "inner query failed: %s", sqlite3_errmsg(db));
		return MM_ERR_SQL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = row(arg, st)) != 0)
			break;
	if (r == 0 && rc != SQLITE_DONE) {
		if (rc == SQLITE_INTERRUPT || mm_engine_expired(ctx->engine)) {
			r = MM_ERR_LIMIT;
		} else {
			mm_error(ctx, "inner query failed: %s", sqlite3_errmsg(db));
			r = rc == SQLITE_NOMEM ? MM_ERR_NOMEM : MM_ERR_SQL;
		}
	}
	sqlite3_finalize(st);
	return r;
}

/* ---- table.h: rows ------------------------------------------------------- */

static struct mm_val *cur(struct mm_ctx *ctx, int col)
{
	if (!ctx->in_row || col < 0 || col >= ctx->ncols)
		return NULL;
	return &ctx->rows[(ctx->nrows) * (size_t)ctx->ncols + (size_t)col];
}

int mm_row_begin(struct mm_ctx *ctx)
{
	if (ctx->in_row)
		return MM_ERR_INTERNAL;
	if (ctx->nrows == ctx->arows) {
		size_t want = ctx->arows ? ctx->arows * 2 : 16;
		struct mm_val *nr = sqlite3_realloc64(ctx->rows,
						      want * (size_t)ctx->ncols * sizeof(struct mm_val));
		if (nr == NULL)
			return MM_ERR_NOMEM;
		ctx->rows = nr;
		ctx->arows = want;
	}
	memset(&ctx->rows[ctx->nrows * (size_t)ctx->ncols], 0,
	       sizeof(struct mm_val) * (size_t)ctx->ncols);
	ctx->in_row = 1;
	return 0;
}

static char *arena_alloc(struct mm_ctx *ctx, size_t n)
{
	struct chunk *c = ctx->arena;
	char *p;

	if (c == NULL || c->size - c->used < n) {
		size_t size = n > 32768 ? n : 32768;
		c = sqlite3_malloc64(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = ctx->arena;
		ctx->arena = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

void mm_set_textn(struct mm_ctx *ctx, int col, const char *s, size_t n)
{
	struct mm_val *v = cur(ctx, col);
	char *p;

	if (v == NULL)
		return;
	if (s == NULL) {
		v->type = 0;
		return;
	}
	if (n > 0x7fffffffu || (p = arena_alloc(ctx, n + 1)) == NULL) {
		ctx->oom = 1;
		return;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	v->type = SQLITE_TEXT;
	v->len = (unsigned)n;
	v->u.s = p;
}

void mm_set_text(struct mm_ctx *ctx, int col, const char *s)
{
	mm_set_textn(ctx, col, s, s != NULL ? strlen(s) : 0);
}

void mm_set_textf(struct mm_ctx *ctx, int col, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (s == NULL) {
		ctx->oom = 1;
		return;
	}
	mm_set_text(ctx, col, s);
	sqlite3_free(s);
}

void mm_set_int(struct mm_ctx *ctx, int col, int64_t i)
{
	struct mm_val *v = cur(ctx, col);

	if (v == NULL)
		return;
	v->type = SQLITE_INTEGER;
	v->u.i = i;
}

void mm_set_double(struct mm_ctx *ctx, int col, double d)
{
	struct mm_val *v = cur(ctx, col);

	if (v == NULL)
		return;
	v->type = SQLITE_FLOAT;
	v->u.d = d;
}

int mm_row_end(struct mm_ctx *ctx)
{
	if (!ctx->in_row)
		return MM_ERR_INTERNAL;
	ctx->in_row = 0;
	if (ctx->oom)
		return MM_ERR_NOMEM;
	ctx->nrows++;
	if ((ctx->nrows & 255) == 0 && mm_engine_expired(ctx->engine))
		return MM_ERR_LIMIT;
	return 0;
}

/* ---- the sqlite3_module -------------------------------------------------- */

int mm_table_ncols(const struct mm_table *t)
{
	int n = 0;

	while (t->columns[n].name != NULL)
		n++;
	return n;
}

static const char *type_name(enum mm_type t)
{
	switch (t) {
	case MM_TEXT: return "TEXT";
	case MM_INTEGER: return "INTEGER";
	case MM_BIGINT: return "BIGINT";
	case MM_DOUBLE: return "DOUBLE";
	}
	return "TEXT";
}

/* Module aux data: one per table, carrying the engine too. */
struct aux {
	const struct mm_table *table;
	struct mm_engine *engine;
};

static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
		     sqlite3_vtab **out, char **err)
{
	const struct aux *a = aux;
	const struct mm_table *t = a->table;
	struct vtab *vt;
	sqlite3_str *s;
	char *sql;
	int i, rc;

	(void)argc;
	(void)argv;
	s = sqlite3_str_new(db);
	sqlite3_str_appendf(s, "CREATE TABLE x(");
	for (i = 0; t->columns[i].name != NULL; i++)
		sqlite3_str_appendf(s, "%s\"%w\" %s%s", i ? ", " : "", t->columns[i].name,
				    type_name(t->columns[i].type),
				    (t->columns[i].flags & MM_COL_HIDDEN) ? " HIDDEN" : "");
	sqlite3_str_appendf(s, ")");
	if ((sql = sqlite3_str_finish(s)) == NULL)
		return SQLITE_NOMEM;
	mm_engine_declaring(a->engine, 1);
	rc = sqlite3_declare_vtab(db, sql);
	mm_engine_declaring(a->engine, 0);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		*err = sqlite3_mprintf("table %s: bad column declaration", t->name);
		return rc;
	}
	if ((vt = sqlite3_malloc64(sizeof(*vt))) == NULL)
		return SQLITE_NOMEM;
	memset(vt, 0, sizeof(*vt));
	vt->table = t;
	vt->engine = a->engine;
	vt->ncols = i;
	*out = &vt->base;
	return SQLITE_OK;
}

static int x_disconnect(sqlite3_vtab *base)
{
	sqlite3_free(base);
	return SQLITE_OK;
}

static int x_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
	struct vtab *vt = (struct vtab *)base;
	const struct mm_table *t = vt->table;
	sqlite3_str *s;
	int i, argn = 0, has_required = 0, required_usable = 0, required_seen = 0;
	uint64_t used = (uint64_t)info->colUsed;

	for (i = 0; i < vt->ncols; i++)
		if (t->columns[i].flags & MM_COL_REQUIRED)
			has_required = 1;
	s = sqlite3_str_new(NULL);
	sqlite3_str_appendf(s, "%llx", (unsigned long long)used);
	for (i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		unsigned flags;
		char op = 0;

		if (c->iColumn < 0 || c->iColumn >= vt->ncols)
			continue;
		flags = t->columns[c->iColumn].flags;
		if (c->op == SQLITE_INDEX_CONSTRAINT_EQ && (flags & (MM_COL_INDEX | MM_COL_REQUIRED)))
			op = 'e';
		else if (c->op == SQLITE_INDEX_CONSTRAINT_LIKE && (flags & MM_COL_LIKE))
			op = 'l';
		if (op == 0)
			continue;
		if (flags & MM_COL_REQUIRED)
			required_seen = 1;
		if (!c->usable)
			continue;
		if (op == 'e' && sqlite3_vtab_in(info, i, -1)) {
			sqlite3_vtab_in(info, i, 1);
			op = 'i';
		}
		if (flags & MM_COL_REQUIRED)
			required_usable = 1;
		info->aConstraintUsage[i].argvIndex = ++argn;
		info->aConstraintUsage[i].omit = 0;
		sqlite3_str_appendf(s, ";%d%c", c->iColumn, op);
	}
	if (has_required && !required_usable) {
		sqlite3_free(sqlite3_str_finish(s));
		if (required_seen)
			return SQLITE_CONSTRAINT; /* another plan can bind it */
		/* No plan of this call can bind a required column.  It may be one
		 * branch of an OR the planner tries on its own ("path = ? AND (a OR
		 * b)"), so refuse this plan only: when no plan at all works, SQLite
		 * fails with "no query solution" and the engine replaces that with
		 * the message kept here, naming the column. */
		sqlite3_str *m = sqlite3_str_new(NULL);
		int first = 1;
		const char *example = NULL;
		sqlite3_str_appendf(m, "table %s needs a constraint on ", t->name);
		for (i = 0; i < vt->ncols; i++) {
			if (!(t->columns[i].flags & MM_COL_REQUIRED))
				continue;
			sqlite3_str_appendf(m, "%s%s", first ? "" : " or ", t->columns[i].name);
			if (example == NULL)
				example = t->columns[i].name;
			first = 0;
		}
		sqlite3_str_appendf(m, " (for example WHERE %s = '...')", example);
		mm_engine_set_hint(vt->engine, sqlite3_str_finish(m));
		return SQLITE_CONSTRAINT;
	}
	info->idxStr = sqlite3_str_finish(s);
	if (info->idxStr == NULL)
		return SQLITE_NOMEM;
	info->needToFreeIdxStr = 1;
	info->idxNum = argn;
	info->estimatedCost = argn > 0 ? 10.0 : 100000.0;
	info->estimatedRows = argn > 0 ? 10 : 1000;
	return SQLITE_OK;
}

static int x_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
	struct cursor *c = sqlite3_malloc64(sizeof(*c));

	(void)base;
	if (c == NULL)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*out = &c->base;
	return SQLITE_OK;
}

static int x_close(sqlite3_vtab_cursor *base)
{
	struct cursor *c = (struct cursor *)base;

	ctx_free(c->ctx);
	sqlite3_free(c);
	return SQLITE_OK;
}

/* Adds the text of value v to cv; NULLs match nothing and are skipped. */
static int add_value(struct cvals *cv, sqlite3_value *v)
{
	const unsigned char *t;

	if (sqlite3_value_type(v) == SQLITE_NULL)
		return 0;
	t = sqlite3_value_text(v);
	if (t == NULL)
		return MM_ERR_NOMEM;
	return cvals_add(cv, (const char *)t);
}

static int x_filter(sqlite3_vtab_cursor *base, int idxNum, const char *idxStr, int argc,
		    sqlite3_value **argv)
{
	struct cursor *c = (struct cursor *)base;
	struct vtab *vt = (struct vtab *)base->pVtab;
	struct mm_ctx *ctx;
	const char *p = idxStr;
	char *end;
	int argi = 0, r;

	(void)idxNum;
	ctx_free(c->ctx);
	c->ctx = NULL;
	c->row = 0;
	if ((ctx = ctx_new(vt)) == NULL)
		return SQLITE_NOMEM;
	ctx->col_used = p != NULL ? strtoull(p, &end, 16) : ~0ull;
	p = p != NULL ? strchr(p, ';') : NULL;
	while (p != NULL && *p == ';' && argi < argc) {
		long col = strtol(p + 1, &end, 10);
		char op = *end;
		sqlite3_value *v = argv[argi++];
		int rc = 0;

		if (col < 0 || col >= vt->ncols) {
			ctx_free(ctx);
			return SQLITE_INTERNAL;
		}
		if (op == 'l') {
			rc = add_value(&ctx->like[col], v);
		} else if (op == 'i') {
			sqlite3_value *e;
			int src;
			ctx->eq_set[col] = 1;
			for (src = sqlite3_vtab_in_first(v, &e); src == SQLITE_OK && rc == 0;
			     src = sqlite3_vtab_in_next(v, &e))
				rc = add_value(&ctx->eq[col], e);
			if (src != SQLITE_OK && src != SQLITE_DONE)
				rc = MM_ERR_NOMEM;
		} else {
			/* Several '=' on one column: the generator yields the
			 * union, SQLite's re-check keeps the intersection. */
			ctx->eq_set[col] = 1;
			rc = add_value(&ctx->eq[col], v);
		}
		if (rc != 0) {
			ctx_free(ctx);
			return SQLITE_NOMEM;
		}
		p = strchr(end, ';');
	}
	c->ctx = ctx;
	r = vt->table->generate(ctx);
	if (r == 0 && ctx->in_row)
		r = MM_ERR_INTERNAL;
	if (r != 0) {
		sqlite3_free(base->pVtab->zErrMsg);
		if (r == MM_ERR_LIMIT) {
			/* Let the engine describe which limit. */
			base->pVtab->zErrMsg = sqlite3_mprintf("%s", "interrupted");
			return SQLITE_INTERRUPT;
		}
		if (r == MM_ERR_NOMEM) {
			base->pVtab->zErrMsg = NULL;
			return SQLITE_NOMEM;
		}
		base->pVtab->zErrMsg = sqlite3_mprintf("table %s: %s", vt->table->name,
						       ctx->errmsg != NULL ? ctx->errmsg
									   : mm_strerror(r));
		return SQLITE_ERROR;
	}
	return SQLITE_OK;
}

static int x_next(sqlite3_vtab_cursor *base)
{
	((struct cursor *)base)->row++;
	return SQLITE_OK;
}

static int x_eof(sqlite3_vtab_cursor *base)
{
	struct cursor *c = (struct cursor *)base;

	return c->ctx == NULL || c->row >= c->ctx->nrows;
}

static int x_column(sqlite3_vtab_cursor *base, sqlite3_context *sctx, int col)
{
	struct cursor *c = (struct cursor *)base;
	const struct mm_column *def;
	struct mm_val *v;

	if (c->ctx == NULL || col < 0 || col >= c->ctx->ncols || c->row >= c->ctx->nrows)
		return SQLITE_OK;
	v = &c->ctx->rows[c->row * (size_t)c->ctx->ncols + (size_t)col];
	def = &c->ctx->table->columns[col];
	switch (v->type) {
	case SQLITE_INTEGER:
		if (def->type == MM_TEXT)
			sqlite3_result_text(sctx, sqlite3_mprintf("%lld", (long long)v->u.i), -1,
					    sqlite3_free);
		else
			sqlite3_result_int64(sctx, v->u.i);
		break;
	case SQLITE_FLOAT:
		sqlite3_result_double(sctx, v->u.d);
		break;
	case SQLITE_TEXT:
		if (def->type == MM_INTEGER || def->type == MM_BIGINT) {
			/* Tolerate a table that stored digits as text. */
			char *e;
			long long i = strtoll(v->u.s, &e, 10);
			if (v->len > 0 && *e == '\0') {
				sqlite3_result_int64(sctx, i);
				break;
			}
		}
		sqlite3_result_text(sctx, v->u.s, (int)v->len, SQLITE_STATIC);
		break;
	default:
		sqlite3_result_null(sctx);
	}
	return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct cursor *)base)->row;
	return SQLITE_OK;
}

static const sqlite3_module mm_module = {
	.iVersion = 0,
	.xCreate = NULL, /* NULL xCreate: eponymous-only, no CREATE VIRTUAL TABLE */
	.xConnect = x_connect,
	.xBestIndex = x_best_index,
	.xDisconnect = x_disconnect,
	.xDestroy = x_disconnect,
	.xOpen = x_open,
	.xClose = x_close,
	.xFilter = x_filter,
	.xNext = x_next,
	.xEof = x_eof,
	.xColumn = x_column,
	.xRowid = x_rowid,
};


int mm_vtab_register(sqlite3 *db, struct mm_engine *e)
{
	int i, rc;

	for (i = 0; mm_tables[i] != NULL; i++) {
		struct aux *a = sqlite3_malloc64(sizeof(*a));
		if (a == NULL)
			return MM_ERR_NOMEM;
		a->table = mm_tables[i];
		a->engine = e;
		rc = sqlite3_create_module_v2(db, mm_tables[i]->name, &mm_module, a,
					      sqlite3_free);
		if (rc != SQLITE_OK)
			return MM_ERR_SQL;
	}
	return 0;
}

const struct mm_table *mm_table_find(const char *name)
{
	int i;

	for (i = 0; mm_tables[i] != NULL; i++)
		if (sqlite3_stricmp(mm_tables[i]->name, name) == 0)
			return mm_tables[i];
	return NULL;
}
