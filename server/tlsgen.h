/*
 * tlsgen.h - the coordinator's own small PKI for `mamori-server init`: an
 * ECDSA P-256 CA and a server certificate it signs (P-256 keeps TLS
 * handshakes several times cheaper than RSA-2048 for thousands of agents).
 * Agents trust the CA file (osquery: --tls_server_certs).
 */
#ifndef MM_TLSGEN_H
#define MM_TLSGEN_H

#include <stddef.h>

/* Creates a self-signed CA certificate (basicConstraints CA:TRUE,
 * keyCertSign) valid for days, with a new P-256 key.  The key file is
 * written with mode 0600, the certificate 0644; existing files are
 * replaced.  Returns 0 or MM_ERR_* with *err (malloc'ed). */
int mm_tls_make_ca(const char *cert_path, const char *key_path, const char *common_name, int days,
                   char **err);

/* Creates a server certificate signed by the CA: a new P-256 key,
 * subjectAltName with every name (a DNS name, or an IPv4/IPv6 address),
 * extendedKeyUsage serverAuth, valid for days; CN = names[0].  Returns 0,
 * MM_ERR_USAGE for a name that is neither (with *err naming it), or
 * MM_ERR_* with *err (malloc'ed). */
int mm_tls_make_server(const char *ca_cert_path, const char *ca_key_path, const char *cert_path,
                       const char *key_path, const char *const *names, size_t nnames, int days,
                       char **err);

#endif
