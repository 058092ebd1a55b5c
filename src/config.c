/*
 * config: the INI files of warrend and warren.
 *
 * inih does the key = value splitting (trimming, inline ';' comments).  It
 * reads through cfg_reader below, which sees every raw line first: it
 * counts lines (Debian's inih does not pass line numbers to the handler),
 * parses section headers itself (inih truncates long section names),
 * strips leading whitespace (so inih's multi-line continuation never
 * applies), and reports malformed and over-long lines itself, handing inih
 * an empty line instead.  So every error is reported here, once, with its
 * line, and parsing goes on to collect the others.
 */
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "addr.h"
#include "config.h"
#include "wire.h"
#include "crypto.h"
#include "keyfile.h"
#include "log.h"

#define CFG_FILEMAX (1024 * 1024)   /* a config file larger than this is refused */
#define CFG_MSGMAX 1024
#define CFG_DEFAULT_LISTEN "0.0.0.0:7400"
#define CFG_REDIS_PORT ":6379"

enum cfg_kind { KIND_SERVER, KIND_CLIENT };

enum cfg_sec {
	SEC_NONE,       /* before any section */
	SEC_SKIP,       /* a bad section header, already reported */
	SEC_SERVER,     /* [server] */
	SEC_SERVICE,    /* [service NAME] */
	SEC_SCLIENT,    /* [client NAME] in the server file */
	SEC_CCLIENT,    /* [client] in the client file */
	SEC_CLUSTER     /* [cluster NAME] */
};

/* Key ids: bits of cfg_parser.seen. */
enum cfg_keyid {
	K_PRIVATE_KEY, K_LISTEN, K_GRANT_PORTS, K_GRANT_TIMEOUT, K_STORE,
	K_STALL_TIMEOUT, K_LINGER, K_DEAD_BUSY, K_RESUME_TIMEOUT,
	K_CLUSTER_SECRET, K_CONTROL, K_KEEPALIVE, K_LOG_LEVEL, K_TIMEOUT,
	K_CONNECT, K_EXEC, K_MODE, K_PUBLIC_KEY, K_SERVICES, K_PRESHARED_KEY,
	K_NODES, K_LOAD_THRESHOLD, K_HANDSHAKE_QUEUE, K_SOURCE_RATE,
	K_SOURCE_BURST, K_SOURCE_PENALTY, K_CLIENT_RATE, K_PENDING_PER_IP,
	K_PENDING_PER_IP_PORT, K_MAX_GRANTS, K_CLOCK_SKEW, K_CLIENT_RATE_LOAD,
	K_MAX_SESSIONS, K_CONTROL_GROUP, K_COUNT
};
_Static_assert(K_COUNT <= 64, "cfg_parser.seen has a bit per key");

struct cfg_keydef {
	const char *name;
	enum cfg_keyid id;
};

static const struct cfg_keydef keys_server[] = {
	{ "private_key", K_PRIVATE_KEY }, { "listen", K_LISTEN },
	{ "grant_ports", K_GRANT_PORTS }, { "grant_timeout", K_GRANT_TIMEOUT },
	{ "store", K_STORE }, { "cluster_secret", K_CLUSTER_SECRET },
	{ "control", K_CONTROL }, { "control_group", K_CONTROL_GROUP },
	{ "keepalive", K_KEEPALIVE },
	{ "stall_timeout", K_STALL_TIMEOUT },
	{ "linger", K_LINGER }, { "dead_busy", K_DEAD_BUSY },
	{ "log_level", K_LOG_LEVEL },
	{ "load_threshold", K_LOAD_THRESHOLD },
	{ "handshake_queue", K_HANDSHAKE_QUEUE },
	{ "source_rate", K_SOURCE_RATE }, { "source_burst", K_SOURCE_BURST },
	{ "source_penalty", K_SOURCE_PENALTY },
	{ "client_rate", K_CLIENT_RATE },
	{ "client_rate_load", K_CLIENT_RATE_LOAD },
	{ "pending_per_ip", K_PENDING_PER_IP },
	{ "pending_per_ip_port", K_PENDING_PER_IP_PORT },
	{ "max_grants", K_MAX_GRANTS }, { "clock_skew", K_CLOCK_SKEW },
	{ "max_sessions", K_MAX_SESSIONS },
	{ NULL, 0 }
};
static const struct cfg_keydef keys_service[] = {
	{ "connect", K_CONNECT }, { "exec", K_EXEC }, { "mode", K_MODE },
	{ NULL, 0 }
};
static const struct cfg_keydef keys_sclient[] = {
	{ "public_key", K_PUBLIC_KEY }, { "services", K_SERVICES },
	{ "preshared_key", K_PRESHARED_KEY },
	{ "max_sessions", K_MAX_SESSIONS }, { NULL, 0 }
};
static const struct cfg_keydef keys_cclient[] = {
	{ "private_key", K_PRIVATE_KEY },
	{ "timeout", K_TIMEOUT }, { "log_level", K_LOG_LEVEL },
	{ "stall_timeout", K_STALL_TIMEOUT }, { "dead_busy", K_DEAD_BUSY },
	{ "resume_timeout", K_RESUME_TIMEOUT }, { NULL, 0 }
};
static const struct cfg_keydef keys_cluster[] = {
	{ "public_key", K_PUBLIC_KEY }, { "nodes", K_NODES },
	{ "preshared_key", K_PRESHARED_KEY }, { NULL, 0 }
};

struct cfg_parser {
	const char *file;           /* the name in messages */
	char *dir;                  /* base of relative paths, or NULL */
	const char *pos;            /* the reader's place in the text */
	int lineno;                 /* the line being parsed */
	int nerr;                   /* errors reported */
	enum cfg_kind kind;
	enum cfg_sec sec;           /* the current section */
	char secname[8 + CFG_NAMELEN]; /* "service ssh", for messages */
	int sec_line;               /* the line of its header */
	uint64_t seen;              /* keys seen in it (1 << K_*) */
	int key_line[K_COUNT];      /* the line of each key seen in it */
	int toolong;                /* this line was too long: reported */
	int main_line;              /* line of [server] / [client], or 0 */
	int main_tried;             /* a [server] / [client] header was seen */
	int nokeys;                 /* cfg_server_control: read no key file */
	struct cfg_server *srv;
	size_t srv_svc_cap, srv_cli_cap;
	int *svc_lines;             /* line of services = of each client */
	struct cfg_client_file *cli;
	size_t cli_clu_cap;
};

/* Report one error at ${line} (0: the file as a whole). */
static void cfg_err(struct cfg_parser *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
cfg_err(struct cfg_parser *p, int line, const char *fmt, ...)
{
	char msg[CFG_MSGMAX], esc[2 * CFG_MSGMAX];
	va_list ap;
	size_t n, i, j;
	int r;

	p->nerr++;
	if (line > 0)
		r = snprintf(msg, sizeof(msg), "%s:%d: ", p->file, line);
	else
		r = snprintf(msg, sizeof(msg), "%s: ", p->file);
	n = (r < 0) ? 0 : ((size_t)r >= sizeof(msg) ? sizeof(msg) - 1 :
	    (size_t)r);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);

	/* msg="..." must stay one quoted value on one line. */
	for (i = j = 0; msg[i] != '\0' && j < sizeof(esc) - 5; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c == '"' || c == '\\') {
			esc[j++] = '\\';
			esc[j++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			j += (size_t)snprintf(esc + j, 5, "\\x%02x", c);
		} else {
			esc[j++] = (char)c;
		}
	}
	esc[j] = '\0';
	log_error("config", "msg=\"%s\"", esc);
}

/* Is ${s} a valid name: 1..63 of [A-Za-z0-9._-]? */
static int
cfg_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= CFG_NAMELEN)
		return (0);
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return (0);
	}
	return (1);
}

static int
cfg_space(char c)
{

	return (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f');
}

/* Parse the decimal ${s} into ${out} if it lies in ${lo}..${hi}. */
static int
cfg_int(const char *s, int lo, int hi, int *out)
{
	long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 9 || s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v < lo || v > hi)
		return (-1);
	*out = (int)v;
	return (0);
}

/* ${a}, ${b} and ${c} joined in a new string; NULL if no memory. */
static char *
cfg_join(const char *a, const char *b, const char *c)
{
	size_t len = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s;

	if ((s = malloc(len)) != NULL)
		snprintf(s, len, "%s%s%s", a, b, c);
	return (s);
}

/* ${path} made relative to the config file's directory; NULL if no memory. */
static char *
cfg_path(struct cfg_parser *p, const char *path)
{
	if (path[0] == '/' || p->dir == NULL)
		return (strdup(path));
	return (cfg_join(p->dir, p->dir[strlen(p->dir) - 1] == '/' ? "" : "/",
	    path));
}

/* Load the secret key file named by ${value} (key ${what}) into ${key}. */
static int
cfg_keyfile(struct cfg_parser *p, const char *what, const char *value,
    uint8_t key[32])
{
	char err[1024];    /* keyfile_read's reason may hold the path */
	char *path;
	int rc;

	if (p->nokeys)
		return (0);
	if ((path = cfg_path(p, value)) == NULL) {
		cfg_err(p, p->lineno, "out of memory");
		return (-1);
	}
	if ((rc = keyfile_read(path, key, 1, err, sizeof(err))) != 0)
		cfg_err(p, p->lineno, "%s %s: %s", what, path, err);
	free(path);
	return (rc);
}

/* Decode an inline public key; it must be a possible X25519 key. */
static int
cfg_pubkey(struct cfg_parser *p, const char *value, uint8_t key[32])
{
	static const uint8_t zero[32];

	/* Never echo the value: it might be a private key pasted by mistake. */
	if (keyfile_parse(value, key)) {
		crypto_wipe(key, 32);
		cfg_err(p, p->lineno, "public_key is not one base64 32-byte key");
		return (-1);
	}
	if (crypto_equal(key, zero, 32)) {
		cfg_err(p, p->lineno, "public_key is all zeros");
		return (-1);
	}
	return (0);
}

/*
 * Split the comma-separated ${value} into trimmed items and call ${fn} on
 * each; report empty items and more than ${max} of them.
 */
static int
cfg_list(struct cfg_parser *p, const char *what, const char *value,
    size_t max, int (*fn)(struct cfg_parser *, const char *, size_t, void *),
    void *arg)
{
	char *copy, *item, *next, *end;
	size_t n = 0;
	int rc = -1;

	if ((copy = strdup(value)) == NULL) {
		cfg_err(p, p->lineno, "out of memory");
		return (-1);
	}
	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		while (cfg_space(*item))
			item++;
		for (end = item + strlen(item); end > item &&
		    cfg_space(end[-1]); end--)
			continue;
		*end = '\0';
		if (*item == '\0') {
			cfg_err(p, p->lineno, "%s: empty item in the "
			    "comma-separated list", what);
			goto out;
		}
		if (n == max) {
			cfg_err(p, p->lineno, "%s: more than %zu items", what,
			    max);
			goto out;
		}
		if (fn(p, item, n++, arg))
			goto out;
	}
	rc = 0;

out:
	free(copy);
	return (rc);
}

/* Grow the array *${arr} of ${n} elements of ${size} bytes to hold n + 1. */
static int
cfg_grow(void **arr, size_t n, size_t *cap, size_t size)
{
	void *a;
	size_t ncap;

	if (n < *cap)
		return (0);
	ncap = *cap ? *cap * 2 : 4;
	if (ncap > SIZE_MAX / size || (a = calloc(ncap, size)) == NULL)
		return (-1);
	/* No realloc: the old copy may hold keys and must be wiped. */
	if (n > 0) {
		memcpy(a, *arr, n * size);
		crypto_wipe(*arr, n * size);
	}
	free(*arr);
	*arr = a;
	*cap = ncap;
	return (0);
}

/* List items. */

static int
cfg_listen_item(struct cfg_parser *p, const char *item, size_t i, void *arg)
{
	struct cfg_server *srv = p->srv;
	size_t j;

	if (addr_parse(item, 0, &srv->listen[i], &srv->listen_len[i])) {
		if (addr_syntax(item, 0) == 0)
			cfg_err(p, p->lineno, "listen: cannot resolve %s", item);
		else
			cfg_err(p, p->lineno, "listen: %s is not ADDR:PORT "
			    "(IPv6: [ADDR]:PORT; port 1..65535)", item);
		return (-1);
	}
	for (j = 0; j < i; j++) {
		if (addr_same_host((struct sockaddr *)&srv->listen[i],
		    (struct sockaddr *)&srv->listen[j]) &&
		    srv->listen[i].ss_family == srv->listen[j].ss_family &&
		    addr_port((struct sockaddr *)&srv->listen[i]) ==
		    addr_port((struct sockaddr *)&srv->listen[j])) {
			cfg_err(p, p->lineno, "listen: %s is listed twice",
			    item);
			return (-1);
		}
	}
	srv->nlisten = i + 1;
	return (0);
}

static int
cfg_services_item(struct cfg_parser *p, const char *item, size_t i, void *arg)
{
	struct cfg_client *c = arg;
	char **s;
	size_t j;

	if (!cfg_name_ok(item, strlen(item))) {
		cfg_err(p, p->lineno, "services: %s is not a service name "
		    "(1 to 63 letters, digits, '.', '_' or '-')", item);
		return (-1);
	}
	for (j = 0; j < c->nservices; j++) {
		if (strcmp(c->services[j], item) == 0) {
			cfg_err(p, p->lineno, "services: %s is listed twice",
			    item);
			return (-1);
		}
	}
	if ((s = realloc(c->services, (c->nservices + 1) * sizeof(*s))) ==
	    NULL) {
		cfg_err(p, p->lineno, "out of memory");
		return (-1);
	}
	c->services = s;
	if ((s[c->nservices] = strdup(item)) == NULL) {
		cfg_err(p, p->lineno, "out of memory");
		return (-1);
	}
	c->nservices++;
	return (0);
}

static int
cfg_nodes_item(struct cfg_parser *p, const char *item, size_t i, void *arg)
{
	struct cfg_cluster *cl = arg;
	size_t j;

	if (addr_syntax(item, 0)) {
		cfg_err(p, p->lineno, "nodes: %s is not HOST:PORT "
		    "(IPv6: [ADDR]:PORT; port 1..65535)", item);
		return (-1);
	}
	for (j = 0; j < cl->nnodes; j++) {
		if (strcmp(cl->nodes[j], item) == 0) {
			cfg_err(p, p->lineno, "nodes: %s is listed twice", item);
			return (-1);
		}
	}
	if ((cl->nodes[cl->nnodes] = strdup(item)) == NULL) {
		cfg_err(p, p->lineno, "out of memory");
		return (-1);
	}
	cl->nnodes++;
	return (0);
}

/* Values shared by several sections. */

/*
 * The directory that will hold the socket ${path} of key ${what} must
 * exist (warrend does not create it); 0, or -1 if it was reported.
 */
static int
cfg_dir_exists(struct cfg_parser *p, const char *what, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;

	if (slash == NULL || slash == path)
		return (0);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return (0);
	cfg_err(p, p->lineno, "%s: directory %s does not exist (create it "
	    "first, e.g. mkdir -m 700 %s)", what, dir, dir);
	return (-1);
}

static void
cfg_seconds(struct cfg_parser *p, const char *name, const char *value,
    int *out)
{

	if (cfg_int(value, 1, 3600, out))
		cfg_err(p, p->lineno, "%s must be a number of seconds from 1 "
		    "to 3600, not %s", name, value);
}

static void
cfg_count(struct cfg_parser *p, const char *name, const char *value, int lo,
    int hi, int *out)
{

	if (cfg_int(value, lo, hi, out))
		cfg_err(p, p->lineno, "%s must be a whole number from %d to %d, "
		    "not %s", name, lo, hi, value);
}

static void
cfg_loglevel(struct cfg_parser *p, const char *value, enum log_level *out)
{

	if (log_level_parse(value, out))
		cfg_err(p, p->lineno, "log_level must be debug, info, warn or "
		    "error, not %s", value);
}

/* [server] */
static void
cfg_server_key(struct cfg_parser *p, enum cfg_keyid id, const char *value)
{
	struct cfg_server *srv = p->srv;
	const char *dash, *rest;
	char lo[16], hi[16], *arg = NULL;
	struct sockaddr_un su;
	size_t n;

	switch (id) {
	case K_PRIVATE_KEY:
		(void)cfg_keyfile(p, "private_key", value, srv->private_key);
		break;
	case K_LISTEN:
		srv->nlisten = 0;
		(void)cfg_list(p, "listen", value, CFG_MAXLISTEN,
		    cfg_listen_item, NULL);
		break;
	case K_GRANT_PORTS:
		/* LO-HI, spaces allowed around the dash. */
		if ((dash = strchr(value, '-')) == NULL ||
		    (n = (size_t)(dash - value)) >= sizeof(lo))
			goto badports;
		memcpy(lo, value, n);
		while (n > 0 && cfg_space(lo[n - 1]))
			n--;
		lo[n] = '\0';
		for (rest = dash + 1; cfg_space(*rest); rest++)
			continue;
		if (strlen(rest) >= sizeof(hi))
			goto badports;
		strcpy(hi, rest);
		if (cfg_int(lo, 1024, 65535, &srv->grant_lo) ||
		    cfg_int(hi, 1024, 65535, &srv->grant_hi) ||
		    srv->grant_lo > srv->grant_hi)
			goto badports;
		srv->grant_ports_line = p->lineno;
		break;
badports:
		cfg_err(p, p->lineno, "grant_ports must be LO-HI with 1024 <= "
		    "LO <= HI <= 65535, not %s", value);
		break;
	case K_GRANT_TIMEOUT:
		cfg_seconds(p, "grant_timeout", value, &srv->grant_timeout);
		break;
	case K_STORE:
		if (strcasecmp(value, "memory") == 0) {
			srv->store = CFG_STORE_MEMORY;
		} else if (strncasecmp(value, "lmdb:", 5) == 0) {
			for (rest = value + 5; cfg_space(*rest); rest++)
				continue;
			if (*rest == '\0') {
				cfg_err(p, p->lineno, "store = lmdb:PATH needs "
				    "a PATH");
				break;
			}
			if ((arg = cfg_path(p, rest)) == NULL)
				goto oom;
			srv->store = CFG_STORE_LMDB;
		} else if (strncasecmp(value, "redis://", 8) == 0) {
			rest = value + 8;
			if (addr_syntax(rest, 0) == 0) {
				arg = strdup(rest);
			} else {
				if ((arg = cfg_join(rest, CFG_REDIS_PORT,
				    "")) == NULL)
					goto oom;
				if (addr_syntax(arg, 0)) {
					free(arg);
					arg = NULL;
					cfg_err(p, p->lineno, "store: %s is not "
					    "redis://HOST:PORT", value);
					break;
				}
			}
			if (arg == NULL)
				goto oom;
			srv->store = CFG_STORE_REDIS;
		} else {
			cfg_err(p, p->lineno, "store must be memory, lmdb:PATH "
			    "or redis://HOST:PORT, not %s", value);
			break;
		}
		free(srv->store_arg);
		srv->store_arg = arg;
		srv->store_line = p->lineno;
		break;
	case K_CLUSTER_SECRET:
		if (cfg_keyfile(p, "cluster_secret", value,
		    srv->cluster_secret) == 0)
			srv->has_cluster_secret = 1;
		break;
	case K_CONTROL:
		if ((arg = cfg_path(p, value)) == NULL)
			goto oom;
		if (strlen(arg) >= sizeof(su.sun_path)) {
			cfg_err(p, p->lineno, "control: socket path %s is "
			    "longer than %zu bytes", arg,
			    sizeof(su.sun_path) - 1);
			free(arg);
			break;
		}
		if (cfg_dir_exists(p, "control", arg) < 0) {
			free(arg);
			break;
		}
		free(srv->control);
		srv->control = arg;
		srv->control_line = p->lineno;
		break;
	case K_CONTROL_GROUP: {
		struct group *gr;

		if (!cfg_name_ok(value, strlen(value)) ||
		    (gr = getgrnam(value)) == NULL) {
			cfg_err(p, p->lineno, "control_group: no group %s on "
			    "this system (see getent group)", value);
			break;
		}
		srv->control_gid = gr->gr_gid;
		srv->has_control_group = 1;
		srv->control_group_line = p->lineno;
		break;
	}
	case K_KEEPALIVE:
		cfg_seconds(p, "keepalive", value, &srv->keepalive);
		break;
	case K_STALL_TIMEOUT:
		cfg_seconds(p, "stall_timeout", value, &srv->stall_timeout);
		break;
	case K_LINGER:
		cfg_seconds(p, "linger", value, &srv->linger);
		break;
	case K_DEAD_BUSY:
		cfg_seconds(p, "dead_busy", value, &srv->dead_busy);
		break;
	case K_LOG_LEVEL:
		cfg_loglevel(p, value, &srv->log_level);
		break;
	case K_LOAD_THRESHOLD:
		cfg_count(p, "load_threshold", value, 0, 1 << 20,
		    &srv->load_threshold);
		break;
	case K_HANDSHAKE_QUEUE:
		cfg_count(p, "handshake_queue", value, 16, 1 << 20,
		    &srv->handshake_queue);
		break;
	case K_SOURCE_RATE:
		cfg_count(p, "source_rate", value, 1, 1000000, &srv->source_rate);
		break;
	case K_SOURCE_BURST:
		cfg_count(p, "source_burst", value, 1, 1000000,
		    &srv->source_burst);
		break;
	case K_SOURCE_PENALTY:
		cfg_count(p, "source_penalty", value, 0, 3600,
		    &srv->source_penalty);
		break;
	case K_CLIENT_RATE:
		cfg_count(p, "client_rate", value, 1, 1000000, &srv->client_rate);
		break;
	case K_CLIENT_RATE_LOAD:
		cfg_count(p, "client_rate_load", value, 1, 1000000,
		    &srv->client_rate_load);
		break;
	case K_PENDING_PER_IP:
		cfg_count(p, "pending_per_ip", value, 1, 65535,
		    &srv->pending_per_ip);
		break;
	case K_PENDING_PER_IP_PORT:
		cfg_count(p, "pending_per_ip_port", value, 1, 65535,
		    &srv->pending_per_ip_port);
		break;
	case K_MAX_GRANTS:
		cfg_count(p, "max_grants", value, 1, 65535, &srv->max_grants);
		break;
	case K_CLOCK_SKEW:
		cfg_seconds(p, "clock_skew", value, &srv->clock_skew);
		break;
	case K_MAX_SESSIONS:
		cfg_count(p, "max_sessions", value, 1, CFG_MAX_SESSIONS_MAX,
		    &srv->max_sessions);
		break;
	default:
		break;
	}
	return;

oom:
	cfg_err(p, p->lineno, "out of memory");
}

/* [service NAME] */
static void
cfg_service_key(struct cfg_parser *p, enum cfg_keyid id, const char *value)
{
	struct cfg_service *s = &p->srv->services[p->srv->nservices - 1];

	switch (id) {
	case K_CONNECT:
		if (addr_parse(value, 0, &s->connect_addr, &s->connect_len)) {
			if (addr_syntax(value, 0) == 0)
				cfg_err(p, p->lineno, "connect: cannot resolve "
				    "%s", value);
			else
				cfg_err(p, p->lineno, "connect: %s is not "
				    "HOST:PORT (IPv6: [ADDR]:PORT; port "
				    "1..65535)", value);
			break;
		}
		if ((s->connect = strdup(value)) == NULL)
			cfg_err(p, p->lineno, "out of memory");
		break;
	case K_EXEC:
		s->exec_line = p->lineno;
		if ((s->exec = strdup(value)) == NULL)
			cfg_err(p, p->lineno, "out of memory");
		break;
	case K_MODE:
		s->mode_line = p->lineno;
		if (strcasecmp(value, "stream") == 0)
			s->mode = CFG_MODE_STREAM;
		else if (strcasecmp(value, "replay") == 0)
			s->mode = CFG_MODE_REPLAY;
		else
			cfg_err(p, p->lineno, "mode must be stream or replay, "
			    "not %s", value);
		break;
	default:
		break;
	}
}

/* [client NAME] of the server file. */
static void
cfg_sclient_key(struct cfg_parser *p, enum cfg_keyid id, const char *value)
{
	struct cfg_server *srv = p->srv;
	size_t idx = srv->nclients - 1, j;
	struct cfg_client *c = &srv->clients[idx];

	switch (id) {
	case K_PUBLIC_KEY:
		if (cfg_pubkey(p, value, c->public_key))
			break;
		for (j = 0; j < idx; j++) {
			if (crypto_equal(c->public_key,
			    srv->clients[j].public_key, 32)) {
				cfg_err(p, p->lineno, "public_key is also the "
				    "key of [client %s] at line %d",
				    srv->clients[j].name, srv->clients[j].line);
				crypto_wipe(c->public_key, 32);
				break;
			}
		}
		break;
	case K_SERVICES:
		p->svc_lines[idx] = p->lineno;
		(void)cfg_list(p, "services", value, SIZE_MAX,
		    cfg_services_item, c);
		break;
	case K_PRESHARED_KEY:
		if (cfg_keyfile(p, "preshared_key", value, c->psk) == 0)
			c->has_psk = 1;
		break;
	case K_MAX_SESSIONS:
		cfg_count(p, "max_sessions", value, 1, CFG_MAX_SESSIONS_MAX,
		    &c->max_sessions);
		c->max_sessions_line = p->lineno;
		break;
	default:
		break;
	}
}

/* [client] of the client file. */
static void
cfg_cclient_key(struct cfg_parser *p, enum cfg_keyid id, const char *value)
{
	struct cfg_client_file *cli = p->cli;

	switch (id) {
	case K_PRIVATE_KEY:
		(void)cfg_keyfile(p, "private_key", value, cli->private_key);
		break;
	case K_TIMEOUT:
		cfg_seconds(p, "timeout", value, &cli->timeout);
		break;
	case K_STALL_TIMEOUT:
		cfg_seconds(p, "stall_timeout", value, &cli->stall_timeout);
		break;
	case K_DEAD_BUSY:
		cfg_seconds(p, "dead_busy", value, &cli->dead_busy);
		break;
	case K_RESUME_TIMEOUT:
		cfg_seconds(p, "resume_timeout", value, &cli->resume_timeout);
		break;
	case K_LOG_LEVEL:
		cfg_loglevel(p, value, &cli->log_level);
		break;
	default:
		break;
	}
}

/* [cluster NAME] */
static void
cfg_cluster_key(struct cfg_parser *p, enum cfg_keyid id, const char *value)
{
	struct cfg_cluster *cl = &p->cli->clusters[p->cli->nclusters - 1];

	switch (id) {
	case K_PUBLIC_KEY:
		(void)cfg_pubkey(p, value, cl->public_key);
		break;
	case K_NODES:
		(void)cfg_list(p, "nodes", value, CFG_MAXNODES, cfg_nodes_item,
		    cl);
		break;
	case K_PRESHARED_KEY:
		if (cfg_keyfile(p, "preshared_key", value, cl->psk) == 0)
			cl->has_psk = 1;
		break;
	default:
		break;
	}
}

/* The inih handler: one key = value line of the current section. */
static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct cfg_parser *p = user;
	const struct cfg_keydef *keys = NULL, *k;

	switch (p->sec) {
	case SEC_SKIP:
		return (1);
	case SEC_NONE:
		if (!p->toolong)
			cfg_err(p, p->lineno, "%s is outside any section; put "
			    "it under %s", name[0] ? name : "the line",
			    p->kind == KIND_SERVER ? "[server], [service NAME] "
			    "or [client NAME]" : "[client] or [cluster NAME]");
		return (1);
	case SEC_SERVER:
		keys = keys_server;
		break;
	case SEC_SERVICE:
		keys = keys_service;
		break;
	case SEC_SCLIENT:
		keys = keys_sclient;
		break;
	case SEC_CCLIENT:
		keys = keys_cclient;
		break;
	case SEC_CLUSTER:
		keys = keys_cluster;
		break;
	}
	for (k = keys; k->name != NULL; k++) {
		if (strcasecmp(k->name, name) == 0)
			break;
	}
	if (name[0] == '\0') {
		if (!p->toolong)
			cfg_err(p, p->lineno, "expected KEY = VALUE");
		return (1);
	}
	if (p->toolong) {
		/* Only note the key, so it is not also reported missing. */
		if (k->name != NULL)
			p->seen |= (uint64_t)1 << k->id;
		return (1);
	}
	if (k->name == NULL) {
		cfg_err(p, p->lineno, "unknown key %s in [%s]", name,
		    p->secname);
		return (1);
	}
	if (p->seen & ((uint64_t)1 << k->id)) {
		cfg_err(p, p->lineno, "duplicate key %s in [%s]", k->name,
		    p->secname);
		return (1);
	}
	p->seen |= (uint64_t)1 << k->id;
	p->key_line[k->id] = p->lineno;
	if (value[0] == '\0') {
		cfg_err(p, p->lineno, "%s has an empty value", k->name);
		return (1);
	}

	switch (p->sec) {
	case SEC_SERVER:
		cfg_server_key(p, k->id, value);
		break;
	case SEC_SERVICE:
		cfg_service_key(p, k->id, value);
		break;
	case SEC_SCLIENT:
		cfg_sclient_key(p, k->id, value);
		break;
	case SEC_CCLIENT:
		cfg_cclient_key(p, k->id, value);
		break;
	case SEC_CLUSTER:
		cfg_cluster_key(p, k->id, value);
		break;
	default:
		break;
	}
	return (1);
}

/* Report the required keys that the section just ended lacks. */
static void
cfg_section_end(struct cfg_parser *p)
{
	const struct cfg_service *s;
	const char *n;
	int l = p->sec_line;

#define MISSING(k) ((p->seen & ((uint64_t)1 << (k))) == 0)
	switch (p->sec) {
	case SEC_SERVER:
		if (MISSING(K_PRIVATE_KEY))
			cfg_err(p, l, "[server] needs private_key = PATH");
		/* Name whichever of the two keys came last. */
		if (p->srv->load_threshold > p->srv->handshake_queue)
			cfg_err(p, p->key_line[K_LOAD_THRESHOLD] >
			    p->key_line[K_HANDSHAKE_QUEUE] ?
			    p->key_line[K_LOAD_THRESHOLD] :
			    p->key_line[K_HANDSHAKE_QUEUE], "load_threshold "
			    "(%d) is larger than handshake_queue (%d): the node "
			    "would never know it is under load",
			    p->srv->load_threshold, p->srv->handshake_queue);
		break;
	case SEC_SERVICE:
		s = &p->srv->services[p->srv->nservices - 1];
		if (MISSING(K_CONNECT) && MISSING(K_EXEC))
			cfg_err(p, l, "[service %s] needs connect = HOST:PORT "
			    "or exec = COMMAND", s->name);
		else if (!MISSING(K_CONNECT) && !MISSING(K_EXEC))
			cfg_err(p, l, "[service %s] has both connect and exec; "
			    "keep one", s->name);
		break;
	case SEC_SCLIENT:
		n = p->srv->clients[p->srv->nclients - 1].name;
		if (MISSING(K_PUBLIC_KEY))
			cfg_err(p, l, "[client %s] needs public_key = KEY", n);
		if (MISSING(K_SERVICES))
			cfg_err(p, l, "[client %s] needs services = NAME, ...",
			    n);
		break;
	case SEC_CCLIENT:
		if (MISSING(K_PRIVATE_KEY))
			cfg_err(p, l, "[client] needs private_key = PATH");
		break;
	case SEC_CLUSTER:
		n = p->cli->clusters[p->cli->nclusters - 1].name;
		if (MISSING(K_PUBLIC_KEY))
			cfg_err(p, l, "[cluster %s] needs public_key = KEY", n);
		if (MISSING(K_NODES))
			cfg_err(p, l, "[cluster %s] needs nodes = HOST:PORT, ...",
			    n);
		break;
	default:
		break;
	}
#undef MISSING
	p->sec = SEC_NONE;
}

/* Start a named section: ${kw} ${name}; 0, or -1 if it was reported. */
static int
cfg_section_named(struct cfg_parser *p, enum cfg_sec sec, const char *name)
{
	struct cfg_server *srv = p->srv;
	struct cfg_client_file *cli = p->cli;
	size_t i, n = 0;
	int first = 0;
	void *arr;

	switch (sec) {
	case SEC_SERVICE:
		for (i = 0; i < srv->nservices; i++)
			if (strcmp(srv->services[i].name, name) == 0)
				first = srv->services[i].line;
		break;
	case SEC_SCLIENT:
		for (i = 0; i < srv->nclients; i++)
			if (strcmp(srv->clients[i].name, name) == 0)
				first = srv->clients[i].line;
		break;
	default:
		for (i = 0; i < cli->nclusters; i++)
			if (strcmp(cli->clusters[i].name, name) == 0)
				first = cli->clusters[i].line;
		break;
	}
	if (first) {
		cfg_err(p, p->lineno, "duplicate section [%s %s] (first at "
		    "line %d)", p->secname, name, first);
		return (-1);
	}
	snprintf(p->secname + strlen(p->secname),
	    sizeof(p->secname) - strlen(p->secname), " %s", name);

	switch (sec) {
	case SEC_SERVICE:
		arr = srv->services;
		if (cfg_grow(&arr, srv->nservices, &p->srv_svc_cap,
		    sizeof(*srv->services)))
			goto oom;
		srv->services = arr;
		n = srv->nservices++;
		snprintf(srv->services[n].name, CFG_NAMELEN, "%s", name);
		srv->services[n].line = p->lineno;
		srv->services[n].mode = CFG_MODE_STREAM;
		break;
	case SEC_SCLIENT:
		n = srv->nclients;
		arr = p->svc_lines;
		i = p->srv_cli_cap;
		if (cfg_grow(&arr, n, &i, sizeof(*p->svc_lines)))
			goto oom;
		p->svc_lines = arr;
		arr = srv->clients;
		if (cfg_grow(&arr, n, &p->srv_cli_cap, sizeof(*srv->clients)))
			goto oom;
		srv->clients = arr;
		srv->nclients++;
		snprintf(srv->clients[n].name, CFG_NAMELEN, "%s", name);
		srv->clients[n].line = p->lineno;
		break;
	default:
		arr = cli->clusters;
		if (cfg_grow(&arr, cli->nclusters, &p->cli_clu_cap,
		    sizeof(*cli->clusters)))
			goto oom;
		cli->clusters = arr;
		n = cli->nclusters++;
		snprintf(cli->clusters[n].name, CFG_NAMELEN, "%s", name);
		cli->clusters[n].line = p->lineno;
		break;
	}
	return (0);

oom:
	cfg_err(p, p->lineno, "out of memory");
	return (-1);
}

/* A "[...]" line of ${len} bytes at ${s} (trimmed). */
static void
cfg_section(struct cfg_parser *p, const char *s, size_t len)
{
	static const struct {
		const char *kw;
		enum cfg_kind kind;
		enum cfg_sec sec;
		int named;
	} secs[] = {
		{ "server", KIND_SERVER, SEC_SERVER, 0 },
		{ "service", KIND_SERVER, SEC_SERVICE, 1 },
		{ "client", KIND_SERVER, SEC_SCLIENT, 1 },
		{ "client", KIND_CLIENT, SEC_CCLIENT, 0 },
		{ "cluster", KIND_CLIENT, SEC_CLUSTER, 1 },
	};
	const char *end, *kw, *name, *t;
	char namebuf[CFG_NAMELEN];
	size_t kwlen, namelen, i;

	cfg_section_end(p);
	p->sec = SEC_SKIP;

	/* "[" inner "]", then nothing but a comment. */
	if ((end = memchr(s, ']', len)) == NULL) {
		cfg_err(p, p->lineno, "section header without ']'");
		return;
	}
	for (t = end + 1; t < s + len && cfg_space(*t); t++)
		continue;
	if (t < s + len && *t != ';' && *t != '#') {
		cfg_err(p, p->lineno, "unexpected text after ']'");
		return;
	}
	for (kw = s + 1; kw < end && cfg_space(*kw); kw++)
		continue;
	for (t = kw; t < end && !cfg_space(*t); t++)
		continue;
	kwlen = (size_t)(t - kw);
	for (name = t; name < end && cfg_space(*name); name++)
		continue;
	for (t = end; t > name && cfg_space(t[-1]); t--)
		continue;
	namelen = (size_t)(t - name);

	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		if (secs[i].kind == p->kind && strlen(secs[i].kw) == kwlen &&
		    strncasecmp(secs[i].kw, kw, kwlen) == 0)
			break;
	}
	if (i == sizeof(secs) / sizeof(secs[0])) {
		cfg_err(p, p->lineno, "unknown section [%.*s]; expected %s",
		    (int)(end - s - 1), s + 1, p->kind == KIND_SERVER ?
		    "[server], [service NAME] or [client NAME]" :
		    "[client] or [cluster NAME]");
		return;
	}
	snprintf(p->secname, sizeof(p->secname), "%s", secs[i].kw);

	if (!secs[i].named) {
		p->main_tried = 1;
		if (namelen != 0) {
			cfg_err(p, p->lineno, "[%s] takes no name", p->secname);
			return;
		}
		if (p->main_line) {
			cfg_err(p, p->lineno, "duplicate section [%s] (first at "
			    "line %d)", p->secname, p->main_line);
			return;
		}
		p->main_line = p->lineno;
	} else {
		if (namelen == 0) {
			cfg_err(p, p->lineno, "[%s] needs a name: [%s NAME]",
			    p->secname, p->secname);
			return;
		}
		if (!cfg_name_ok(name, namelen)) {
			cfg_err(p, p->lineno, "[%s %.*s]: a name is 1 to 63 "
			    "letters, digits, '.', '_' or '-'", p->secname,
			    (int)namelen, name);
			return;
		}
		if (secs[i].sec == SEC_SERVICE && namelen > WIRE_SERVICE_MAX) {
			cfg_err(p, p->lineno, "[service %.*s]: a service name is "
			    "at most %d characters (it travels in the handshake)",
			    (int)namelen, name, WIRE_SERVICE_MAX);
			return;
		}
		memcpy(namebuf, name, namelen);
		namebuf[namelen] = '\0';
		if (cfg_section_named(p, secs[i].sec, namebuf))
			return;
	}
	p->sec = secs[i].sec;
	p->sec_line = p->lineno;
	p->seen = 0;
	memset(p->key_line, 0, sizeof(p->key_line));
}

/*
 * The inih reader: hand inih the next line, trimmed, or an empty line for
 * anything this function handles or reports itself.
 */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parser *p = stream;
	const char *s = p->pos, *e, *t;
	size_t len;

	if (s == NULL || *s == '\0')
		return (NULL);
	if ((e = strchr(s, '\n')) != NULL) {
		len = (size_t)(e - s);
		p->pos = e + 1;
	} else {
		len = strlen(s);
		p->pos = s + len;
	}
	p->lineno++;
	p->toolong = 0;

	if (p->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		len -= 3;
	}
	while (len > 0 && cfg_space(*s)) {
		s++;
		len--;
	}
	while (len > 0 && cfg_space(s[len - 1]))
		len--;

	str[0] = '\0';
	if (len == 0 || *s == ';' || *s == '#')
		return (str);
	if (*s == '[') {
		cfg_section(p, s, len);
		return (str);
	}

	/* KEY = VALUE (or KEY: VALUE) before any inline comment, as inih. */
	for (t = s; t < s + len; t++) {
		if (*t == '=' || *t == ':' ||
		    (*t == ';' && t > s && cfg_space(t[-1])))
			break;
	}
	if (t == s + len || *t == ';') {
		cfg_err(p, p->lineno, "expected KEY = VALUE, [SECTION] or a "
		    "comment");
		return (str);
	}
	if (num < 2 || len > (size_t)num - 2) {
		cfg_err(p, p->lineno, "line longer than %d characters",
		    num < 2 ? 0 : num - 2);
		/* Hand inih just "KEY =" so the key counts as given. */
		if ((size_t)(t - s) + 2 <= (size_t)num - 2) {
			memcpy(str, s, (size_t)(t - s) + 1);
			str[t - s + 1] = '\0';
			p->toolong = 1;
		}
		return (str);
	}
	memcpy(str, s, len);
	str[len] = '\0';
	return (str);
}

/* Parse ${text}; the caller has set up ${p} and its srv or cli. */
static int
cfg_parse(struct cfg_parser *p, const char *text)
{
	struct cfg_server *srv = p->srv;
	size_t i, j;
	int r;

	p->pos = text;
	p->sec = SEC_NONE;
	r = ini_parse_stream(cfg_reader, p, cfg_handler, p);
	cfg_section_end(p);
	if (r != 0 && p->nerr == 0)
		cfg_err(p, r > 0 ? r : 0, "cannot be parsed");

	if (!p->main_line && !p->main_tried)
		cfg_err(p, 0, "no [%s] section", p->kind == KIND_SERVER ?
		    "server" : "client");

	if (p->kind == KIND_SERVER) {
		for (i = 0; i < srv->nclients; i++) {
			/* [server]'s max_sessions, wherever it came. */
			if (srv->clients[i].max_sessions_line == 0)
				srv->clients[i].max_sessions = srv->max_sessions;
			for (j = 0; j < srv->clients[i].nservices; j++) {
				if (cfg_server_service(srv,
				    srv->clients[i].services[j]) != NULL)
					continue;
				cfg_err(p, p->svc_lines[i], "services: no "
				    "[service %s] for [client %s]",
				    srv->clients[i].services[j],
				    srv->clients[i].name);
			}
		}
		if (srv->nlisten == 0 && p->nerr == 0 &&
		    addr_parse(CFG_DEFAULT_LISTEN, 0, &srv->listen[0],
		    &srv->listen_len[0]) == 0)
			srv->nlisten = 1;
	}
	return (p->nerr ? -1 : 0);
}

/* Read ${path} into a NUL-terminated buffer; NULL after reporting. */
static char *
cfg_slurp(struct cfg_parser *p, const char *path)
{
	FILE *f;
	char *buf = NULL, *nul;
	size_t n = 0, r, i;
	int line;

	if ((f = fopen(path, "re")) == NULL) {
		cfg_err(p, 0, "cannot open: %s", strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(CFG_FILEMAX + 1)) == NULL) {
		cfg_err(p, 0, "out of memory");
		goto fail;
	}
	while ((r = fread(buf + n, 1, CFG_FILEMAX + 1 - n, f)) > 0) {
		n += r;
		if (n > CFG_FILEMAX) {
			cfg_err(p, 0, "larger than %d bytes", CFG_FILEMAX);
			goto fail;
		}
	}
	if (ferror(f)) {
		cfg_err(p, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if ((nul = memchr(buf, '\0', n)) != NULL) {
		for (i = 0, line = 1; buf + i < nul; i++)
			line += buf[i] == '\n';
		cfg_err(p, line, "NUL byte in a text file");
		goto fail;
	}
	buf[n] = '\0';
	fclose(f);
	return (buf);

fail:
	free(buf);
	fclose(f);
	return (NULL);
}

/* The directory of ${path}, made absolute if possible. */
static char *
cfg_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir != NULL && (real = realpath(dir, NULL)) != NULL) {
		free(dir);
		dir = real;
	}
	return (dir);
}

static struct cfg_server *
cfg_server_new(const char *name)
{
	struct cfg_server *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return (NULL);
	if ((srv->path = strdup(name)) == NULL) {
		free(srv);
		return (NULL);
	}
	srv->grant_lo = CFG_GRANT_LO;
	srv->grant_hi = CFG_GRANT_HI;
	srv->grant_timeout = 10;
	srv->store = CFG_STORE_LMDB;
	if ((srv->store_arg = strdup(CFG_STORE_DEFAULT)) == NULL) {
		free(srv->path);
		free(srv);
		return (NULL);
	}
	srv->keepalive = 10;
	srv->stall_timeout = 60;
	srv->linger = 600;
	srv->dead_busy = 3;       /* RELAY_DEAD_BUSY_DEFAULT */
	srv->load_threshold = 512;
	srv->handshake_queue = 4096;
	srv->source_rate = 20;
	srv->source_burst = 5;
	srv->source_penalty = 10;
	srv->client_rate = 4000;
	srv->client_rate_load = 50;
	srv->pending_per_ip = 64;     /* a 50-connection burst: warren.conf(5) */
	srv->pending_per_ip_port = 2;
	srv->max_grants = 1024;
	srv->clock_skew = 120;
	srv->max_sessions = 256;     /* a pool replaced at once: warren.conf(5) */
	srv->log_level = LOG_INFO;
	return (srv);
}

/* Parse ${text} (NULL: read ${name}) as a server file. */
/*
 * Parse ${text}, or if ${fromfile} the file ${name} (its text left in
 * *${buf} for the caller to free), with key paths relative to its
 * directory.  Returns 0, or -1 after reporting.
 */
static int
cfg_run(struct cfg_parser *p, const char *text, const char *name,
    int fromfile, char **buf)
{

	if (fromfile) {
		if ((*buf = cfg_slurp(p, name)) == NULL)
			return (-1);
		if ((p->dir = cfg_dir(name)) == NULL) {
			cfg_err(p, 0, "out of memory");
			return (-1);
		}
		text = *buf;
	}
	return (cfg_parse(p, text) ? -1 : 0);
}

static struct cfg_server *
cfg_server_do(const char *text, const char *name, int fromfile)
{
	struct cfg_parser p;
	char *buf = NULL;

	memset(&p, 0, sizeof(p));
	p.file = name;
	p.kind = KIND_SERVER;
	if ((p.srv = cfg_server_new(name)) == NULL) {
		cfg_err(&p, 0, "out of memory");
		goto out;
	}
	if (cfg_run(&p, text, name, fromfile, &buf))
		goto fail;
	goto out;

fail:
	cfg_server_free(p.srv);
	p.srv = NULL;
out:
	free(p.svc_lines);
	free(p.dir);
	free(buf);
	return (p.srv);
}

struct cfg_server *
cfg_server_load(const char *path)
{

	return (cfg_server_do(NULL, path, 1));
}

struct cfg_server *
cfg_server_parse_string(const char *text, const char *name)
{

	return (cfg_server_do(text, name, 0));
}

char *
cfg_server_control(const char *path)
{
	struct cfg_parser p;
	char *buf = NULL, *control = NULL;

	memset(&p, 0, sizeof(p));
	p.file = path;
	p.kind = KIND_SERVER;
	p.nokeys = 1;
	if ((p.srv = cfg_server_new(path)) == NULL) {
		cfg_err(&p, 0, "out of memory");
		goto out;
	}
	if (cfg_run(&p, NULL, path, 1, &buf))
		goto out;
	if (p.srv->control == NULL) {
		cfg_err(&p, 0, "[server] has no control = (warrend opens no "
		    "control socket)");
		goto out;
	}
	control = p.srv->control;
	p.srv->control = NULL;
out:
	cfg_server_free(p.srv);
	free(p.svc_lines);
	free(p.dir);
	free(buf);
	return (control);
}

const struct cfg_service *
cfg_server_service(const struct cfg_server *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nservices; i++) {
		if (strcmp(cfg->services[i].name, name) == 0)
			return (&cfg->services[i]);
	}
	return (NULL);
}

const struct cfg_client *
cfg_server_client(const struct cfg_server *cfg, const uint8_t public_key[32])
{
	const struct cfg_client *found = NULL;
	size_t i;

	/* Look at every client, so the time taken says nothing. */
	for (i = 0; i < cfg->nclients; i++) {
		if (crypto_equal(cfg->clients[i].public_key, public_key, 32))
			found = &cfg->clients[i];
	}
	return (found);
}

int
cfg_client_allows(const struct cfg_client *client, const char *service)
{
	size_t i;

	for (i = 0; i < client->nservices; i++) {
		if (strcmp(client->services[i], service) == 0)
			return (1);
	}
	return (0);
}

void
cfg_server_free(struct cfg_server *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nservices; i++) {
		free(cfg->services[i].connect);
		free(cfg->services[i].exec);
	}
	free(cfg->services);
	for (i = 0; i < cfg->nclients; i++) {
		for (j = 0; j < cfg->clients[i].nservices; j++)
			free(cfg->clients[i].services[j]);
		free(cfg->clients[i].services);
		crypto_wipe(&cfg->clients[i], sizeof(cfg->clients[i]));
	}
	free(cfg->clients);
	free(cfg->path);
	free(cfg->store_arg);
	free(cfg->control);
	crypto_wipe(cfg, sizeof(*cfg));
	free(cfg);
}

static struct cfg_client_file *
cfg_client_do(const char *text, const char *name, int fromfile)
{
	struct cfg_parser p;
	char *buf = NULL;

	memset(&p, 0, sizeof(p));
	p.file = name;
	p.kind = KIND_CLIENT;
	if ((p.cli = calloc(1, sizeof(*p.cli))) == NULL ||
	    (p.cli->path = strdup(name)) == NULL) {
		cfg_err(&p, 0, "out of memory");
		goto fail;
	}
	p.cli->timeout = 5;
	p.cli->stall_timeout = 60;
	p.cli->dead_busy = 3;       /* RELAY_DEAD_BUSY_DEFAULT */
	p.cli->resume_timeout = 600;
	p.cli->log_level = LOG_WARN;
	if (cfg_run(&p, text, name, fromfile, &buf))
		goto fail;
	goto out;

fail:
	cfg_client_free(p.cli);
	p.cli = NULL;
out:
	free(p.dir);
	free(buf);
	return (p.cli);
}

struct cfg_client_file *
cfg_client_load(const char *path)
{

	return (cfg_client_do(NULL, path, 1));
}

struct cfg_client_file *
cfg_client_parse_string(const char *text, const char *name)
{

	return (cfg_client_do(text, name, 0));
}

/* The names of the clusters of ${cfg}, comma-separated, into ${buf}. */
static void
cfg_cluster_names(const struct cfg_client_file *cfg, char *buf, size_t len)
{
	size_t i, n = 0;
	int r;

	buf[0] = '\0';
	for (i = 0; i < cfg->nclusters && n < len; i++) {
		r = snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
		    cfg->clusters[i].name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

const struct cfg_cluster *
cfg_client_cluster(const struct cfg_client_file *cfg, const char *target,
    const char **service)
{
	const struct cfg_cluster *cl = NULL;
	const char *slash = strchr(target, '/'), *svc = target;
	char names[512];
	size_t i, n;

	cfg_cluster_names(cfg, names, sizeof(names));
	if (slash != NULL) {
		n = (size_t)(slash - target);
		svc = slash + 1;
		for (i = 0; i < cfg->nclusters; i++) {
			if (strlen(cfg->clusters[i].name) == n &&
			    memcmp(cfg->clusters[i].name, target, n) == 0)
				cl = &cfg->clusters[i];
		}
		if (cl == NULL && cfg_name_ok(target, n)) {
			log_error("config", "msg=\"%s: no [cluster %.*s] "
			    "(clusters: %s)\"", cfg->path, (int)n, target,
			    cfg->nclusters ? names : "none");
			return (NULL);
		}
		if (cl == NULL) {
			log_error("config", "msg=\"the part before / is not a "
			    "cluster name (clusters in %s: %s)\"", cfg->path,
			    cfg->nclusters ? names : "none");
			return (NULL);
		}
	} else if (cfg->nclusters == 0) {
		log_error("config", "msg=\"%s: no [cluster NAME] section\"",
		    cfg->path);
		return (NULL);
	} else if (cfg->nclusters > 1) {
		log_error("config", "msg=\"%s: %zu clusters (%s); say which "
		    "one: CLUSTER/%s\"", cfg->path, cfg->nclusters, names,
		    cfg_name_ok(svc, strlen(svc)) ? svc : "SERVICE");
		return (NULL);
	} else {
		cl = &cfg->clusters[0];
	}
	if (!cfg_name_ok(svc, strlen(svc)) || strlen(svc) > WIRE_SERVICE_MAX) {
		log_error("usage", "msg=\"%s is not a service name (1 to %d "
		    "letters, digits, '.', '_' or '-')\"",
		    slash != NULL ? "the part after /" : "the target",
		    WIRE_SERVICE_MAX);
		return (NULL);
	}
	*service = svc;
	return (cl);
}

void
cfg_client_free(struct cfg_client_file *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nclusters; i++) {
		for (j = 0; j < cfg->clusters[i].nnodes; j++)
			free(cfg->clusters[i].nodes[j]);
		crypto_wipe(&cfg->clusters[i], sizeof(cfg->clusters[i]));
	}
	free(cfg->clusters);
	free(cfg->path);
	crypto_wipe(cfg, sizeof(*cfg));
	free(cfg);
}
