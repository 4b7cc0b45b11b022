/*
 * util.c - small helpers the coordinator's modules share: random tokens,
 * SHA-256 in hex, constant-time comparison and the wall clock.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "error.h"
#include "server.h"

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int mm_random_hex(char *buf, size_t n)
{
	unsigned char raw[64];
	size_t done = 0, k;

	while (done < n) {
		k = n - done < sizeof(raw) ? n - done : sizeof(raw);
		if (RAND_bytes(raw, (int)k) != 1) {
			OPENSSL_cleanse(raw, sizeof(raw));
			buf[0] = '\0';
			return MM_ERR_INTERNAL;
		}
		to_hex(raw, k, buf + 2 * done);
		done += k;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	buf[2 * n] = '\0';
	return 0;
}

/* EVP_Digest with a SHA-256 implementation fetched once: fetching the
 * algorithm by name on every call costs more than hashing a node key. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void mm_sha256_hex(const void *s, size_t len, char out[65])
{
	unsigned char d[32];
	unsigned int dl = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (EVP_Digest(s, len, d, &dl, sha256_md != NULL ? sha256_md : EVP_sha256(), NULL) != 1 ||
	    dl != 32) {
		/* Cannot happen short of a broken libcrypto; never return a
		 * hash that could match a stored one. */
		memset(out, 'x', 64);
		out[64] = '\0';
		return;
	}
	to_hex(d, 32, out);
}

int mm_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	/* Compare over the longer length against itself when the lengths
	 * differ, so the time depends on neither secret's content. */
	if (alen != blen) {
		(void)CRYPTO_memcmp(a, a, alen);
		return 0;
	}
	if (alen == 0)
		return 1;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int64_t mm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}
