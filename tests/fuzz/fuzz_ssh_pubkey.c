/*
 * fuzz_ssh_pubkey.c - the OpenSSH public key line parser and base64 decoder
 * of Live Response (server/lrcert.c) on arbitrary bytes: agents report
 * their sshd's host keys in this form and the coordinator pins them.
 * Checks memory safety and the parser's promises: on success the type is
 * the one named inside the blob, the fingerprint has its fixed length, and
 * the blob encoded again parses to the same bytes; on failure nothing is
 * left allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/lrcert.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, type[64], type2[64], fp[MM_SSH_FP_LEN + 1], *enc, *again = NULL;
	unsigned char *blob = NULL, *blob2 = NULL, *dec = NULL;
	size_t blen = 0, blen2 = 0, dlen = 0;

	if (size > 65536)
		return 0;
	if (mm_b64_decode((const char *)data, size, &dec, &dlen) == 0 && dlen > size)
		abort();
	free(dec);
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (mm_ssh_pubkey_parse(line, type, &blob, &blen) != 0) {
		if (blob != NULL || type[0] != '\0')
			abort();
		free(line);
		return 0;
	}
	if (type[0] == '\0' || blen < 4 + strlen(type))
		abort();
	mm_ssh_fingerprint(blob, blen, fp);
	if (strlen(fp) != MM_SSH_FP_LEN || strncmp(fp, "SHA256:", 7) != 0)
		abort();
	if ((enc = mm_b64_encode(blob, blen)) != NULL &&
	    asprintf(&again, "%s %s", type, enc) >= 0) {
		if (mm_ssh_pubkey_parse(again, type2, &blob2, &blen2) != 0 ||
		    strcmp(type, type2) != 0 || blen2 != blen || memcmp(blob, blob2, blen) != 0)
			abort();
		free(again);
	}
	free(enc);
	free(blob2);
	free(blob);
	free(line);
	return 0;
}
