/*
 * hosts.h - the coordinator's in-memory index of enrolled hosts.
 *
 * Every agent request names its host by node key; looking it up must not
 * cost a database read, and a check-in must not cost a database write.  So
 * the hosts that hold a valid node key live in memory, indexed by the
 * SHA-256 (hex) of the key and by id.  The index is loaded at start
 * (mm_hosts_load), updated when a host enrolls (mm_hosts_put, from the
 * enroll job's done callback) or is revoked (mm_hosts_revoke), and keeps
 * each host's last_seen, written back to the hosts table by one store job
 * at most every MM_HOSTS_FLUSH_MS (a batch of UPDATEs) and once at exit.
 * A host whose stored last_seen is less than MM_HOSTS_PERSIST_S old is
 * not written again for a newer one (its address changing is): while the
 * coordinator runs, every reader takes last_seen from here (mm_seen in
 * SQL), so the stored value only has to survive a restart, and 10,000
 * agents checking in or holding long polls are not 2,000 UPDATEs a second.
 *
 * Everything here runs on the loop thread (the index is not locked).
 */
#ifndef MM_HOSTS_H
#define MM_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

struct mm_server;
struct mm_http_req;
struct mm_hosts;

#define MM_HOSTS_FLUSH_MS 5000
#define MM_HOSTS_PERSIST_S 60

/* One enrolled host with a valid node key.  Pointers stay valid until the
 * host is revoked, re-enrolled (mm_hosts_put with its id) or the index is
 * freed: do not keep them across loop callbacks, keep the id. */
struct mm_host {
	int64_t id;
	char key_hash[65]; /* SHA-256 hex of the node key */
	char *host_identifier;
	char *hostname;
	int64_t last_seen;    /* Unix s, as known in memory (fresher than the DB) */
	int checkin_interval; /* seconds */
	char address[64];     /* last peer address */
	/* internal */
	int dirty;                          /* in the list of entries to write */
	int64_t stored_seen;                /* last_seen as the hosts table has it */
	struct mm_host *next_key, *next_id; /* hash chains */
};

/* Creates an empty index.  Returns 0 or MM_ERR_NOMEM. */
int mm_hosts_new(struct mm_hosts **out);
/* Frees the index.  NULL is fine. */
void mm_hosts_free(struct mm_hosts *h);
/* Loads every host that has a node key and is not revoked.  Returns 0 or
 * MM_ERR_SQL / MM_ERR_NOMEM with *err (malloc'ed). */
int mm_hosts_load(struct mm_hosts *h, sqlite3 *db, char **err);

/* The host holding this node key (hashed here), or NULL. */
struct mm_host *mm_hosts_by_key(struct mm_hosts *h, const char *node_key, size_t len);
/* The host with this id, or NULL (unknown or revoked). */
struct mm_host *mm_hosts_by_id(struct mm_hosts *h, int64_t id);
/* Adds a host, or replaces the entry with the same id (re-enroll: the old
 * key stops working).  Returns 0 or MM_ERR_NOMEM. */
int mm_hosts_put(struct mm_hosts *h, int64_t id, const char *key_hash, const char *identifier,
                 const char *hostname, int64_t last_seen, int checkin_interval,
                 const char *address);
/* Drops the host (its node key stops working at once).  Call it when the
 * revoking job has committed.  Returns 0 or MM_ERR_NOTFOUND. */
int mm_hosts_revoke(struct mm_hosts *h, int64_t id);
/* Records a check-in at now (Unix s) from address (may be NULL). */
void mm_hosts_touch(struct mm_hosts *h, struct mm_host *host, int64_t now, const char *address);
/* The in-memory last_seen of a host, or -1 when it is not in the index
 * (revoked): use the hosts table's value then. */
int64_t mm_hosts_last_seen(struct mm_hosts *h, int64_t id);
/* Hosts in the index, and how many of them are online at now: seen within
 * their check-in interval plus margin_s. */
size_t mm_hosts_count(struct mm_hosts *h);
size_t mm_hosts_online(struct mm_hosts *h, int64_t now, int margin_s);

/* For agent endpoints (the agent API and Mamori's extensions): finds the
 * calling host from `Authorization: NodeKey KEY` or the body's "node_key"
 * (body may be NULL), records the check-in and returns it.  When the key is
 * missing or unknown it replies 401 {"node_invalid": true, "error": ...}
 * (what makes an agent enroll again), when "node_key" is not a string 400,
 * and returns NULL. */
struct mm_host *mm_hosts_auth(struct mm_server *srv, struct mm_http_req *req, const json_t *body);

/* Starts the periodic last_seen write-back on srv->http.  Returns 0. */
int mm_hosts_start_flush(struct mm_server *srv);
/* Queues the write-back of the entries marked to be written (a last_seen
 * MM_HOSTS_PERSIST_S newer than the stored one, or a new address).
 * Returns 0 or MM_ERR_*. */
int mm_hosts_flush(struct mm_server *srv);
/* The same for every entry whose last_seen is newer than the stored one:
 * at exit, before the store is closed. */
int mm_hosts_flush_all(struct mm_server *srv);

#endif
