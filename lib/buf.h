/*
 * buf.h - a growable byte buffer with a hard cap (like curl's dynbuf).
 *
 * Every buffer that file or network input can grow is created with a cap;
 * reaching it is an error (MM_ERR_TOOBIG) the caller sees, never a silent
 * truncation.  The contents are always NUL-terminated so they can be used as
 * a C string, but may also hold binary data (use mm_buf_len()).
 */
#ifndef MM_BUF_H
#define MM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct mm_buf {
	char *data;   /* NUL-terminated contents, NULL until first append */
	size_t len;   /* bytes used, excluding the terminating NUL */
	size_t alloc; /* bytes allocated */
	size_t cap;   /* maximum len allowed */
};

/* Initialises an empty buffer that may grow to at most cap bytes. */
void mm_buf_init(struct mm_buf *b, size_t cap);
/* Frees the contents and resets to empty; the cap is kept.  NULL is fine. */
void mm_buf_free(struct mm_buf *b);
/* Empties the buffer without freeing memory. */
void mm_buf_reset(struct mm_buf *b);
/* Appends n bytes.  Returns 0, MM_ERR_TOOBIG past the cap, MM_ERR_NOMEM. */
int mm_buf_add(struct mm_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int mm_buf_adds(struct mm_buf *b, const char *s);
/* Appends one byte. */
int mm_buf_addc(struct mm_buf *b, char c);
/* Appends printf-formatted text. */
int mm_buf_addf(struct mm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int mm_buf_vaddf(struct mm_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the contents ("" when empty); valid until the next change. */
const char *mm_buf_str(const struct mm_buf *b);
/* Hands the contents over to the caller (who frees them) and empties b.
 * Returns a malloc'ed "" when empty; NULL only on out-of-memory. */
char *mm_buf_take(struct mm_buf *b);

#endif
