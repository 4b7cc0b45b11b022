/*
 * config.h - mamorictl's settings file (YAML, written by `mamorictl login`):
 *
 *     server: "https://mamori.example:8443"
 *     ca: "/home/me/.config/mamori/ca.pem"
 *     token: "mmt_..."
 *
 * It holds a token, so it is written mode 0600 in directories created 0700,
 * and reading it warns when group or others may read it.
 */
#ifndef MM_CTL_CONFIG_H
#define MM_CTL_CONFIG_H

struct ctl_config {
	char *server; /* NULL when absent */
	char *ca;     /* as written in the file, NULL when absent */
	char *token;  /* NULL when absent; wiped by ctl_config_clear */
};

/* The default path: $XDG_CONFIG_HOME/mamori/mamorictl.yaml, else
 * $HOME/.config/mamori/mamorictl.yaml.  malloc'ed; NULL when neither
 * variable is set. */
char *ctl_config_default_path(void);

/* Reads the file at path into cfg (zeroed first).  Keys other than server,
 * ca and token are errors, as are non-scalar values.  Returns 0,
 * MM_ERR_NOTFOUND when the file does not exist (*err NULL), or
 * MM_ERR_IO / MM_ERR_PARSE / MM_ERR_TOOBIG with *err (malloc'ed) naming the
 * file and line.  Prints a warning when the file holds a token and is
 * group/other readable. */
int ctl_config_read(const char *path, struct ctl_config *cfg, char **err);

/* Writes cfg to path atomically (temporary file + rename), mode 0600,
 * creating missing parent directories with mode 0700.  NULL fields are left
 * out.  Returns 0 or MM_ERR_IO / MM_ERR_NOMEM with *err. */
int ctl_config_write(const char *path, const struct ctl_config *cfg, char **err);

/* Frees the fields (the token wiped) and zeroes cfg. */
void ctl_config_clear(struct ctl_config *cfg);

#endif
