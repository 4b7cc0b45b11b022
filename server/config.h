/*
 * config.h - the coordinator's configuration file (YAML), read by
 * `mamori-server run --config FILE` into struct mm_server_config (server.h).
 *
 *     listen: 127.0.0.1:8443          # ADDR:PORT, [v6]:PORT
 *     tls:
 *       enabled: true                 # false = plain HTTP (behind a TLS proxy)
 *       cert: server.pem              # paths are relative to the file's directory
 *       key: server.key
 *     database: mamori.db
 *     results_log: results.log        # optional: JSON lines for a SIEM
 *     enroll_secret_file: enroll_secret
 *     max_body: 8MiB                  # request body cap
 *     timeout: 60s                    # per-connection read/write timeout
 *     online_margin: 60s              # online = seen within interval + margin
 *     enroll_rate_per_min: 30         # bad enroll secrets per address and minute
 *     store_queue_max: 10000          # store jobs waiting before 503
 *     live_response:                  # remote shells over SSH (docs/live-response.md)
 *       enabled: true                 # false (the default) refuses every session
 *       ca_key: lr_ca.key             # SSH user CA, ECDSA P-256 (required when enabled)
 *       login: root                   # when the host reports none
 *       idle_timeout: 15m             # also max_duration, command_timeout,
 *                                     # connect_timeout, cert_validity
 *       max_sessions: 10
 *       output_cap: 1MiB              # and put_max: 4MiB (one file transfer)
 *     live:                           # live queries (docs/live-queries.md)
 *       long_poll: 30s                # longest a distributed read is parked, 0 = never
 *       label_interval: 5m            # dynamic labels re-evaluated on each host
 *       retention: 24h                # finished live queries are kept (up to 366 days)
 *       max_rows: 100000              # result rows kept per live query
 *       retention_rows: 1000000       # result rows kept over all live queries
 *
 * Unknown keys and bad values are errors "FILE:LINE: key.path: what".
 */
#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <stddef.h>

#include "server.h"

/* Fills cfg with the defaults (no paths set). */
void mm_config_defaults(struct mm_server_config *cfg);
/* Reads path into cfg (defaults first).  Returns 0, or MM_ERR_PARSE /
 * MM_ERR_IO / MM_ERR_NOMEM with *err (malloc'ed) "FILE:LINE: key: what".
 * On error cfg holds nothing to free. */
int mm_config_load(const char *path, struct mm_server_config *cfg, char **err);
/* The same on text already read; path names the file in messages and is
 * where relative paths start from. */
int mm_config_parse(const char *text, size_t len, const char *path, struct mm_server_config *cfg,
                    char **err);
/* Frees the strings in cfg.  NULL is fine. */
void mm_config_free(struct mm_server_config *cfg);
/* Parses "ADDR:PORT" / "[V6]:PORT" into a malloc'ed *addr and *port.
 * Returns 0, MM_ERR_PARSE or MM_ERR_NOMEM. */
int mm_config_parse_listen(const char *s, char **addr, int *port);

#endif
