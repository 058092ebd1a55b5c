/*
 * Unit tests for config (and keyfile): valid files, defaults, and every
 * kind of error with its FILE:LINE message, reported once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "keyfile.h"
#include "log.h"

/* base64 of "abcdefghijklmnopqrstuvwxyz123456" and friends. */
#define KEY_A "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY="
#define KEY_B "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo2NTQzMjE="
#define KEY_C "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY="
#define KEY_P "UFNLUFNLUFNLUFNLUFNLUFNLUFNLUFNLUFNLUFNLISE="
#define ZERO_KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static char tmpdir[] = "/tmp/warren-test-config-XXXXXX";
static char captured[65536];

/* Write ${text} to ${name} in the temp dir with ${mode}. */
static void
put(const char *name, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	char path[512];

	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	put("server.key", KEY_A "\n", 0600);
	put("client.key", "  " KEY_B "\n\n", 0400);
	put("psk", KEY_P, 0600);
	put("open.key", KEY_A "\n", 0644);
	put("junk.key", "not a key\n", 0600);
	put("short.key", "YWJj\n", 0600);
	snprintf(path, sizeof(path), "%s/dir.key", tmpdir);
	if (mkdir(path, 0700))
		return (-1);
	log_init("test", LOG_DEBUG);
	return (0);
}

static int
teardown(void **state)
{
	static const char *files[] = { "server.key", "client.key", "psk",
	    "open.key", "junk.key", "short.key", "s.conf", "c.conf",
	    "sub/s.conf", "sub/keys/server.key", "sub/keys/psk", NULL };
	static const char *dirs[] = { "dir.key", "sub/keys", "sub", NULL };
	char path[512];
	size_t i;

	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	for (i = 0; dirs[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, dirs[i]);
		rmdir(path);
	}
	rmdir(tmpdir);
	return (0);
}

/* Replace each '@' of ${tmpl} with the temp dir; the result is static. */
static const char *
expand(const char *tmpl)
{
	static char buf[16384];
	size_t n = 0;

	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl == '@') {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
			    tmpdir);
		} else {
			buf[n++] = *tmpl;
		}
		assert_true(n < sizeof(buf) - 1);
	}
	buf[n] = '\0';
	return (buf);
}

/* Send stderr to a temp file until capture_end(), which reads it back. */
static int saved_stderr = -1;

static void
capture_begin(void)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	unlink(path);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(saved_stderr != -1);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

static const char *
capture_end(void)
{
	ssize_t n;

	assert_int_equal(lseek(2, 0, SEEK_SET), 0);
	n = read(2, captured, sizeof(captured) - 1);
	assert_true(n >= 0);
	captured[n] = '\0';
	assert_int_equal(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	return (captured);
}

/* How many config errors were logged. */
static int
nerrors(const char *log)
{
	int n = 0;

	while ((log = strstr(log, "event=config")) != NULL) {
		n++;
		log++;
	}
	return (n);
}

/* Parse server ${tmpl} as "t.conf"; return the log. */
static const char *
server_err(const char *tmpl)
{
	struct cfg_server *cfg;

	capture_begin();
	cfg = cfg_server_parse_string(expand(tmpl), "t.conf");
	capture_end();
	if (cfg != NULL)
		fail_msg("accepted:\n%s", tmpl);
	return (captured);
}

static const char *
client_err(const char *tmpl)
{
	struct cfg_client_file *cfg;

	capture_begin();
	cfg = cfg_client_parse_string(expand(tmpl), "c.conf");
	capture_end();
	if (cfg != NULL)
		fail_msg("accepted:\n%s", tmpl);
	return (captured);
}

/* Assert that ${log} holds exactly one error, and that it has ${want}. */
static void
assert_one(const char *log, const char *want)
{

	if (strstr(log, want) == NULL)
		fail_msg("wanted \"%s\" in:\n%s", want, log);
	if (nerrors(log) != 1)
		fail_msg("wanted one error, got %d:\n%s", nerrors(log), log);
}

#define SERVER_HEAD "[server]\nprivate_key = @/server.key\n"
#define SVC_SSH "[service ssh]\nconnect = 127.0.0.1:22\n"

static void
test_server_full(void **state)
{
	struct cfg_server *cfg;
	const struct cfg_service *svc;
	const struct cfg_client *cl;
	char buf[ADDR_STRLEN], want[600];
	uint8_t key[32];

	/* Relative key paths resolve against the file's own directory. */
	snprintf(buf, sizeof(buf), "%s/sub", tmpdir);
	assert_int_equal(mkdir(buf, 0700), 0);
	snprintf(buf, sizeof(buf), "%s/sub/keys", tmpdir);
	assert_int_equal(mkdir(buf, 0700), 0);
	put("sub/keys/server.key", KEY_A "\n", 0600);
	put("sub/keys/psk", KEY_P "\n", 0600);
	put("sub/s.conf",
	    "\xEF\xBB\xBF; warrend config\n"
	    "# comment\n"
	    "[server]\n"
	    "  private_key = keys/server.key   ; inline comment\n"
	    "listen = 127.0.0.1:7400, [::1]:7401 ,:7402\n"
	    "grant_ports = 2000 - 2999\n"
	    "grant_timeout = 30\r\n"
	    "store = lmdb:db\n"
	    "cluster_secret = keys/psk\n"
	    "control = warrend.sock\n"
	    "keepalive = 25\n"
	    "log_level = debug\n"
	    "\n"
	    "[service ssh]\n"
	    "connect = 127.0.0.1:22\n"
	    "[service kv]\n"
	    "exec = /usr/bin/kv --port 0\n"
	    "mode = replay\n"
	    "[service v6]\n"
	    "connect = [::1]:8080\n"
	    "[client alice]\n"
	    "public_key = " KEY_B "\n"
	    "services = ssh, kv\n"
	    "preshared_key = keys/psk\n"
	    "[client bob.laptop]\n"
	    "public_key = " KEY_C "\n"
	    "services = v6\n", 0644);

	snprintf(want, sizeof(want), "%s/sub/s.conf", tmpdir);
	capture_begin();
	cfg = cfg_server_load(want);
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);

	assert_string_equal(cfg->path, want);
	assert_int_equal(keyfile_parse(KEY_A, key), 0);
	assert_memory_equal(cfg->private_key, key, 32);
	assert_int_equal(cfg->nlisten, 3);
	assert_string_equal(addr_str((struct sockaddr *)&cfg->listen[0], buf),
	    "127.0.0.1:7400");
	assert_string_equal(addr_str((struct sockaddr *)&cfg->listen[1], buf),
	    "[::1]:7401");
	assert_int_equal(cfg->listen_len[1], sizeof(struct sockaddr_in6));
	assert_string_equal(addr_str((struct sockaddr *)&cfg->listen[2], buf),
	    "0.0.0.0:7402");
	assert_int_equal(cfg->grant_lo, 2000);
	assert_int_equal(cfg->grant_hi, 2999);
	assert_int_equal(cfg->grant_timeout, 30);
	assert_int_equal(cfg->store, CFG_STORE_LMDB);
	snprintf(want, sizeof(want), "%s/sub/db", tmpdir);
	assert_string_equal(cfg->store_arg, want);
	assert_int_equal(cfg->has_cluster_secret, 1);
	assert_int_equal(keyfile_parse(KEY_P, key), 0);
	assert_memory_equal(cfg->cluster_secret, key, 32);
	snprintf(want, sizeof(want), "%s/sub/warrend.sock", tmpdir);
	assert_string_equal(cfg->control, want);
	assert_int_equal(cfg->keepalive, 25);
	assert_int_equal(cfg->log_level, LOG_DEBUG);

	assert_int_equal(cfg->nservices, 3);
	svc = cfg_server_service(cfg, "ssh");
	assert_non_null(svc);
	assert_string_equal(svc->connect, "127.0.0.1:22");
	assert_null(svc->exec);
	assert_int_equal(svc->mode, CFG_MODE_STREAM);
	assert_string_equal(addr_str((struct sockaddr *)&svc->connect_addr,
	    buf), "127.0.0.1:22");
	assert_int_equal(svc->line, 14);
	svc = cfg_server_service(cfg, "kv");
	assert_non_null(svc);
	assert_null(svc->connect);
	assert_string_equal(svc->exec, "/usr/bin/kv --port 0");
	assert_int_equal(svc->mode, CFG_MODE_REPLAY);
	svc = cfg_server_service(cfg, "v6");
	assert_non_null(svc);
	assert_string_equal(addr_str((struct sockaddr *)&svc->connect_addr,
	    buf), "[::1]:8080");
	assert_null(cfg_server_service(cfg, "nope"));

	assert_int_equal(cfg->nclients, 2);
	assert_int_equal(keyfile_parse(KEY_B, key), 0);
	cl = cfg_server_client(cfg, key);
	assert_non_null(cl);
	assert_string_equal(cl->name, "alice");
	assert_int_equal(cl->has_psk, 1);
	assert_int_equal(cl->nservices, 2);
	assert_true(cfg_client_allows(cl, "ssh"));
	assert_true(cfg_client_allows(cl, "kv"));
	assert_false(cfg_client_allows(cl, "v6"));
	assert_int_equal(keyfile_parse(KEY_C, key), 0);
	cl = cfg_server_client(cfg, key);
	assert_non_null(cl);
	assert_string_equal(cl->name, "bob.laptop");
	assert_int_equal(cl->has_psk, 0);
	assert_true(cfg_client_allows(cl, "v6"));
	assert_false(cfg_client_allows(cl, "ssh"));
	assert_int_equal(keyfile_parse(KEY_A, key), 0);
	assert_null(cfg_server_client(cfg, key));

	cfg_server_free(cfg);
	cfg_server_free(NULL);
}

static void
test_server_defaults(void **state)
{
	struct cfg_server *cfg;
	char buf[ADDR_STRLEN];

	capture_begin();
	cfg = cfg_server_parse_string(expand(SERVER_HEAD), "t.conf");
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);
	assert_string_equal(cfg->path, "t.conf");
	assert_int_equal(cfg->nlisten, 1);
	assert_string_equal(addr_str((struct sockaddr *)&cfg->listen[0], buf),
	    "0.0.0.0:7400");
	/* Above Linux's default ephemeral ports, 32768-60999. */
	assert_int_equal(cfg->grant_lo, 61000);
	assert_int_equal(cfg->grant_hi, 63999);
	assert_int_equal(cfg->grant_ports_line, 0);
	assert_int_equal(cfg->max_sessions, 256);
	assert_int_equal(cfg->grant_timeout, 10);
	assert_int_equal(cfg->store, CFG_STORE_LMDB);
	assert_string_equal(cfg->store_arg, CFG_STORE_DEFAULT);
	assert_int_equal(cfg->has_cluster_secret, 0);
	assert_null(cfg->control);
	assert_int_equal(cfg->keepalive, 10);
	assert_int_equal(cfg->log_level, LOG_INFO);
	assert_int_equal(cfg->source_rate, 20);
	assert_int_equal(cfg->source_burst, 5);
	assert_int_equal(cfg->source_penalty, 10);
	/* A 50-connection burst opens 50 grants at once: warren.conf(5). */
	assert_int_equal(cfg->pending_per_ip, 64);
	assert_int_equal(cfg->has_control_group, 0);
	assert_int_equal(cfg->nservices, 0);
	assert_int_equal(cfg->nclients, 0);
	cfg_server_free(cfg);
}

/* control_group = NAME: a group of this system, by name. */
static void
test_server_control_group(void **state)
{
	struct cfg_server *cfg;

	capture_begin();
	cfg = cfg_server_parse_string(expand(SERVER_HEAD
	    "control_group = root\n"), "t.conf");
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);
	assert_int_equal(cfg->has_control_group, 1);
	assert_int_equal(cfg->control_gid, 0);
	assert_int_equal(cfg->control_group_line, 3);
	cfg_server_free(cfg);
	assert_one(server_err(SERVER_HEAD "control_group = no-such-group-x\n"),
	    "t.conf:3: control_group: no group no-such-group-x on this system");
	assert_one(server_err(SERVER_HEAD "control_group = a b\n"),
	    "t.conf:3: control_group: no group a b");
}

static void
test_server_values(void **state)
{
	struct cfg_server *cfg;
	char buf[ADDR_STRLEN];

	capture_begin();
	cfg = cfg_server_parse_string(expand(
	    "[Server]\n"
	    "Private_Key: @/server.key\n"
	    "listen = [::]:7400\n"
	    "store = redis://10.0.0.5:6380\n"
	    "grant_ports = 1024-65535\n"
	    "[service s]\n"
	    "connect = localhost:22\n"
	    "mode = stream\n"), "t.conf");
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);
	assert_string_equal(addr_str((struct sockaddr *)&cfg->listen[0], buf),
	    "[::]:7400");
	assert_int_equal(cfg->store, CFG_STORE_REDIS);
	assert_string_equal(cfg->store_arg, "10.0.0.5:6380");
	assert_int_equal(cfg->grant_lo, 1024);
	assert_int_equal(cfg->grant_hi, 65535);
	assert_int_equal(addr_port((struct sockaddr *)
	    &cfg_server_service(cfg, "s")->connect_addr), 22);
	cfg_server_free(cfg);

	/* The longest line inih takes: 198 characters. */
	{
		char text[512];
		int n;

		n = snprintf(text, sizeof(text), "%s", expand(SERVER_HEAD
		    "[service long]\n"));
		memcpy(text + n, "exec = ", 7);
		memset(text + n + 7, 'x', 198 - 7);
		text[n + 198] = '\0';
		cfg = cfg_server_parse_string(text, "t.conf");
		assert_non_null(cfg);
		assert_int_equal(strlen(cfg_server_service(cfg, "long")->exec),
		    198 - 7);
		cfg_server_free(cfg);
		text[n + 198] = 'x';
		text[n + 199] = '\0';
		capture_begin();
		cfg = cfg_server_parse_string(text, "t.conf");
		capture_end();
		assert_null(cfg);
		assert_one(captured, "t.conf:4: line longer than 198 characters");
	}

	/* Redis's port defaults to 6379; relative lmdb paths stay relative. */
	cfg = cfg_server_parse_string(expand(SERVER_HEAD
	    "store = redis://[::1]\n"), "t.conf");
	assert_non_null(cfg);
	assert_string_equal(cfg->store_arg, "[::1]:6379");
	cfg_server_free(cfg);
	cfg = cfg_server_parse_string(expand(SERVER_HEAD
	    "store = lmdb: var/db\n"), "t.conf");
	assert_non_null(cfg);
	assert_string_equal(cfg->store_arg, "var/db");
	cfg_server_free(cfg);
}

/*
 * max_sessions: a [client]'s own value, else [server]'s (wherever in the
 * file [server] sets it), else 64; and the line of grant_ports.
 */
static void
test_server_max_sessions(void **state)
{
	struct cfg_server *cfg;
	const struct cfg_client *a, *b;
	uint8_t key[32];

	capture_begin();
	cfg = cfg_server_parse_string(expand(SVC_SSH
	    "[client a]\npublic_key = " KEY_B "\nservices = ssh\n"
	    "max_sessions = 3\n"
	    "[client b]\npublic_key = " KEY_C "\nservices = ssh\n"
	    "[server]\nprivate_key = @/server.key\nmax_sessions = 7\n"
	    "grant_ports = 20000-20999\n"), "t.conf");
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);
	assert_int_equal(cfg->max_sessions, 7);
	assert_int_equal(cfg->grant_ports_line, 13);
	assert_int_equal(keyfile_parse(KEY_B, key), 0);
	assert_non_null(a = cfg_server_client(cfg, key));
	assert_int_equal(keyfile_parse(KEY_C, key), 0);
	assert_non_null(b = cfg_server_client(cfg, key));
	assert_int_equal(a->max_sessions, 3);
	assert_int_equal(a->max_sessions_line, 6);
	assert_int_equal(b->max_sessions, 7);
	assert_int_equal(b->max_sessions_line, 0);
	cfg_server_free(cfg);

	cfg = cfg_server_parse_string(expand(SERVER_HEAD SVC_SSH
	    "[client b]\npublic_key = " KEY_C "\nservices = ssh\n"), "t.conf");
	assert_non_null(cfg);
	assert_int_equal(cfg->clients[0].max_sessions, 256);
	cfg_server_free(cfg);

	cfg = cfg_server_parse_string(expand(SERVER_HEAD SVC_SSH
	    "[client b]\npublic_key = " KEY_C "\nservices = ssh\n"
	    "max_sessions = 1000000\n"), "t.conf");
	assert_non_null(cfg);
	assert_int_equal(cfg->clients[0].max_sessions, 1000000);
	cfg_server_free(cfg);
}

static void
test_server_errors(void **state)
{
	static const struct {
		const char *conf;
		const char *want;
	} cases[] = {
		/* Structure. */
		{ SERVER_HEAD "[foo]\nx = 1\n",
		    "t.conf:3: unknown section [foo]" },
		{ SERVER_HEAD "[cluster x]\n",
		    "t.conf:3: unknown section [cluster x]" },
		{ SERVER_HEAD "bogus = 1\n", "t.conf:3: unknown key bogus in "
		    "[server]" },
		{ SERVER_HEAD SVC_SSH "port = 1\n", "t.conf:5: unknown key "
		    "port in [service ssh]" },
		{ SERVER_HEAD "private_key = @/server.key\n",
		    "t.conf:3: duplicate key private_key" },
		{ SERVER_HEAD "[server]\n", "t.conf:3: duplicate section "
		    "[server] (first at line 1)" },
		{ SERVER_HEAD SVC_SSH "\n" SVC_SSH, "t.conf:6: duplicate "
		    "section [service ssh] (first at line 3)" },
		{ "listen = :1\n" SERVER_HEAD, "t.conf:1: listen is outside "
		    "any section" },
		{ SERVER_HEAD "just words\n", "t.conf:3: expected KEY = VALUE" },
		{ SERVER_HEAD "= 5\n", "t.conf:3: expected KEY = VALUE" },
		{ SERVER_HEAD "[service ssh\n", "t.conf:3: section header "
		    "without ']'" },
		{ SERVER_HEAD "[service ssh] x\n", "t.conf:3: unexpected text "
		    "after ']'" },
		{ SERVER_HEAD "[service]\n", "t.conf:3: [service] needs a name" },
		{ SERVER_HEAD "[service a b]\n", "t.conf:3: [service a b]: a "
		    "name is 1 to 63" },
		{ SERVER_HEAD "[client bad/name]\n", "t.conf:3: [client "
		    "bad/name]: a name is 1 to 63" },
		{ SERVER_HEAD "[service "
		    "a123456789012345678901234567890123456789012345678901234567890123]\n",
		    "t.conf:3: [service a12" },
		{ SERVER_HEAD "[server x]\n", "t.conf:3: [server] takes no "
		    "name" },
		{ "[service ssh]\nconnect = 127.0.0.1:22\n",
		    "t.conf: no [server] section" },
		{ "", "t.conf: no [server] section" },
		{ SERVER_HEAD "exec = "
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
		    "t.conf:3: line longer than" },
		/* Values. */
		{ SERVER_HEAD "grant_ports = 80-90\n", "t.conf:3: grant_ports "
		    "must be LO-HI with 1024 <= LO <= HI <= 65535, not 80-90" },
		{ SERVER_HEAD "grant_ports = 5000-4000\n", "t.conf:3: "
		    "grant_ports must be" },
		{ SERVER_HEAD "grant_ports = 5000\n", "t.conf:3: grant_ports "
		    "must be" },
		{ SERVER_HEAD "grant_ports = 5000-65536\n", "t.conf:3: "
		    "grant_ports must be" },
		{ SERVER_HEAD "grant_timeout = 0\n", "t.conf:3: grant_timeout "
		    "must be a number of seconds from 1 to 3600, not 0" },
		{ SERVER_HEAD "grant_timeout = 10s\n", "t.conf:3: "
		    "grant_timeout must be" },
		{ SERVER_HEAD "keepalive = 3601\n", "t.conf:3: keepalive must "
		    "be" },
		{ SERVER_HEAD "source_penalty = 3601\n", "t.conf:3: "
		    "source_penalty must be" },
		{ SERVER_HEAD "source_penalty = -1\n", "t.conf:3: "
		    "source_penalty must be" },
		{ SERVER_HEAD "log_level = loud\n", "t.conf:3: log_level must "
		    "be debug, info, warn or error, not loud" },
		{ SERVER_HEAD "store = mysql\n", "t.conf:3: store must be "
		    "memory, lmdb:PATH or redis://HOST:PORT, not mysql" },
		{ SERVER_HEAD "store = lmdb:\n", "t.conf:3: store = lmdb:PATH "
		    "needs a PATH" },
		{ SERVER_HEAD "store = redis://a:b:c\n", "t.conf:3: store: "
		    "redis://a:b:c is not redis://HOST:PORT" },
		{ SERVER_HEAD "listen = 127.0.0.1\n", "t.conf:3: listen: "
		    "127.0.0.1 is not ADDR:PORT" },
		{ SERVER_HEAD "listen = ::1:7400\n", "t.conf:3: listen: "
		    "::1:7400 is not ADDR:PORT (IPv6: [ADDR]:PORT" },
		{ SERVER_HEAD "listen = [::1]7400\n", "t.conf:3: listen: "
		    "[::1]7400 is not ADDR:PORT" },
		{ SERVER_HEAD "listen = 127.0.0.1:99999\n", "t.conf:3: listen: "
		    "127.0.0.1:99999 is not ADDR:PORT" },
		{ SERVER_HEAD "listen = :1, , :2\n", "t.conf:3: listen: empty "
		    "item" },
		{ SERVER_HEAD "listen = :1, :1\n", "t.conf:3: listen: :1 is "
		    "listed twice" },
		{ SERVER_HEAD "listen = :1,:2,:3,:4,:5,:6,:7,:8,:9\n",
		    "t.conf:3: listen: more than 8 items" },
		{ SERVER_HEAD "listen =\n", "t.conf:3: listen has an empty "
		    "value" },
		{ SERVER_HEAD "control = @/"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock\n",
		    "t.conf:3: control: socket path" },
		{ SERVER_HEAD "control = /nonexistent-warren/w.sock\n",
		    "t.conf:3: control: directory /nonexistent-warren does not "
		    "exist" },
		{ SERVER_HEAD "[service s]\nconnect = 127.0.0.1\n",
		    "t.conf:4: connect: 127.0.0.1 is not HOST:PORT" },
		{ SERVER_HEAD "[service s]\nconnect = :22\nmode = fast\n",
		    "t.conf:5: mode must be stream or replay, not fast" },
		{ SERVER_HEAD "[service s]\nconnect = no-such-host.invalid:22\n",
		    "t.conf:4: connect: cannot resolve "
		    "no-such-host.invalid:22" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = nope\n"
		    "services = ssh\n", "t.conf:6: public_key is not one base64 "
		    "32-byte key" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " ZERO_KEY "\n"
		    "services = ssh\n", "t.conf:6: public_key is all zeros" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " KEY_B "\n"
		    "services = ssh, bad name\n", "t.conf:7: services: bad name "
		    "is not a service name" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " KEY_B "\n"
		    "services = ssh,ssh\n", "t.conf:7: services: ssh is listed "
		    "twice" },
		{ SERVER_HEAD "max_sessions = 0\n", "t.conf:3: max_sessions "
		    "must be a whole number from 1 to 1000000, not 0" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " KEY_B "\n"
		    "services = ssh\nmax_sessions = many\n", "t.conf:8: "
		    "max_sessions must be a whole number from 1 to 1000000, not "
		    "many" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " KEY_B "\n"
		    "services = ssh\nmax_sessions = 1000001\n", "t.conf:8: "
		    "max_sessions must be" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " KEY_B "\n"
		    "services = ssh\nmax_sessions = 2\nmax_sessions = 3\n",
		    "t.conf:9: duplicate key max_sessions in [client c]" },
		/* Missing required keys: at the section's line. */
		{ "[server]\nlisten = :1\n", "t.conf:1: [server] needs "
		    "private_key = PATH" },
		{ SERVER_HEAD "[service s]\nmode = replay\n", "t.conf:3: "
		    "[service s] needs connect = HOST:PORT or exec = COMMAND" },
		{ SERVER_HEAD "[service s]\nconnect = :1\nexec = x\n",
		    "t.conf:3: [service s] has both connect and exec" },
		{ SERVER_HEAD SVC_SSH "\n[client c]\nservices = ssh\n",
		    "t.conf:6: [client c] needs public_key = KEY" },
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " KEY_B "\n",
		    "t.conf:5: [client c] needs services = NAME, ..." },
		/* Cross references. */
		{ SERVER_HEAD SVC_SSH "[client c]\npublic_key = " KEY_B "\n"
		    "services = ssh, web\n", "t.conf:7: services: no [service "
		    "web] for [client c]" },
		{ SERVER_HEAD SVC_SSH "[client a]\npublic_key = " KEY_B "\n"
		    "services = ssh\n[client b]\nservices = ssh\npublic_key = "
		    KEY_B "\n", "t.conf:10: public_key is also the key of "
		    "[client a] at line 5" },
		/* Keys that must agree: the later one is named. */
		{ SERVER_HEAD "load_threshold = 9000\n", "t.conf:3: "
		    "load_threshold (9000) is larger than handshake_queue "
		    "(4096)" },
		{ SERVER_HEAD "load_threshold = 100\nhandshake_queue = 64\n",
		    "t.conf:4: load_threshold (100) is larger than "
		    "handshake_queue (64)" },
		/* Key files. */
		{ "[server]\nprivate_key = @/missing.key\n", "t.conf:2: "
		    "private_key @/missing.key: not found" },
		{ "[server]\nprivate_key = @/open.key\n", "t.conf:2: "
		    "private_key @/open.key: permissions 0644 are too open: it "
		    "must not be accessible by group or others (chmod 600)" },
		{ "[server]\nprivate_key = @/dir.key\n", "t.conf:2: "
		    "private_key @/dir.key: is not a regular file" },
		{ "[server]\nprivate_key = @/junk.key\n", "t.conf:2: "
		    "private_key @/junk.key: does not hold one base64 32-byte "
		    "key" },
		{ "[server]\nprivate_key = @/short.key\n", "t.conf:2: "
		    "private_key @/short.key: does not hold one base64" },
		{ SERVER_HEAD "cluster_secret = @/open.key\n", "t.conf:3: "
		    "cluster_secret @/open.key: permissions 0644" },
		{ SERVER_HEAD SVC_SSH "[client a]\npublic_key = " KEY_B "\n"
		    "services = ssh\npreshared_key = @/nope\n", "t.conf:8: "
		    "preshared_key @/nope: not found" },
	};
	char *want;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want = strdup(expand(cases[i].want));
		assert_non_null(want);
		assert_one(server_err(cases[i].conf), want);
		free(want);
	}
}

static void
test_server_many_errors(void **state)
{
	const char *log;

	/* All problems are reported in one pass, each once, in order. */
	log = server_err(
	    "[server]\n"
	    "private_key = @/open.key\n"
	    "grant_timeout = 0\n"
	    "bogus = 1\n"
	    "[service s]\n"
	    "[client c]\n"
	    "public_key = " KEY_B "\n"
	    "services = s, t\n");
	assert_int_equal(nerrors(log), 5);
	assert_non_null(strstr(log, "t.conf:2: private_key"));
	assert_non_null(strstr(log, "t.conf:3: grant_timeout"));
	assert_non_null(strstr(log, "t.conf:4: unknown key bogus"));
	assert_non_null(strstr(log, "t.conf:5: [service s] needs"));
	assert_non_null(strstr(log, "t.conf:8: services: no [service t]"));
	assert_true(strstr(log, "t.conf:2:") < strstr(log, "t.conf:8:"));
	/* The log line format. */
	assert_non_null(strstr(log, " test level=error event=config "
	    "msg=\"t.conf:"));

	/* Keys under a bad section header are not reported again. */
	log = server_err(SERVER_HEAD "[srvice ssh]\nconnect = x\nfoo = y\n");
	assert_int_equal(nerrors(log), 1);

	/* A message cannot break out of its quotes or its line. */
	log = server_err(SERVER_HEAD "bad\"key = 1\n");
	assert_non_null(strstr(log, "unknown key bad\\\"key in [server]\""));
}

static void
test_server_load_errors(void **state)
{
	char path[512];
	struct cfg_server *cfg;

	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	capture_begin();
	cfg = cfg_server_load(path);
	capture_end();
	assert_null(cfg);
	assert_one(captured, ": cannot open: No such file or directory");
	assert_non_null(strstr(captured, "none.conf: cannot open"));

	put("s.conf", "[server]\nprivate_key = server.key\nx\0y\n", 0644);
	/* put() wrote only up to the NUL; add it by hand. */
	snprintf(path, sizeof(path), "%s/s.conf", tmpdir);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fwrite("[server]\nprivate_key = server.key\nx\0y\n", 1, 38, f);
		fclose(f);
	}
	capture_begin();
	cfg = cfg_server_load(path);
	capture_end();
	assert_null(cfg);
	assert_one(captured, "s.conf:3: NUL byte");
}

#define CLIENT_HEAD "[client]\nprivate_key = @/client.key\n"
#define CLUSTER_A "[cluster prod]\npublic_key = " KEY_A "\n" \
    "nodes = 10.0.0.1:7400, node2.example.com:7400, [2001:db8::1]:7400\n"

static void
test_client_full(void **state)
{
	struct cfg_client_file *cfg;
	const struct cfg_cluster *cl;
	const char *svc = NULL;
	uint8_t key[32];

	capture_begin();
	cfg = cfg_client_parse_string(expand(CLIENT_HEAD
	    "timeout = 3\nlog_level = error\n"
	    CLUSTER_A "preshared_key = @/psk\n"), "c.conf");
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);
	assert_string_equal(cfg->path, "c.conf");
	assert_int_equal(keyfile_parse(KEY_B, key), 0);
	assert_memory_equal(cfg->private_key, key, 32);
	assert_int_equal(cfg->timeout, 3);
	assert_int_equal(cfg->log_level, LOG_ERROR);
	assert_int_equal(cfg->nclusters, 1);
	cl = &cfg->clusters[0];
	assert_string_equal(cl->name, "prod");
	assert_int_equal(cl->line, 5);
	assert_int_equal(keyfile_parse(KEY_A, key), 0);
	assert_memory_equal(cl->public_key, key, 32);
	assert_int_equal(cl->has_psk, 1);
	assert_int_equal(cl->nnodes, 3);
	assert_string_equal(cl->nodes[0], "10.0.0.1:7400");
	assert_string_equal(cl->nodes[1], "node2.example.com:7400");
	assert_string_equal(cl->nodes[2], "[2001:db8::1]:7400");

	/* One cluster: "SERVICE" and "CLUSTER/SERVICE" both work. */
	assert_ptr_equal(cfg_client_cluster(cfg, "ssh", &svc), cl);
	assert_string_equal(svc, "ssh");
	assert_ptr_equal(cfg_client_cluster(cfg, "prod/kv", &svc), cl);
	assert_string_equal(svc, "kv");

	capture_begin();
	assert_null(cfg_client_cluster(cfg, "test/ssh", &svc));
	capture_end();
	assert_one(captured, "c.conf: no [cluster test] (clusters: prod)");
	capture_begin();
	assert_null(cfg_client_cluster(cfg, "prod/", &svc));
	capture_end();
	/* A command-line mistake, not a config one. */
	assert_non_null(strstr(captured, "event=usage"));
	assert_non_null(strstr(captured, "is not a service name (1 to 32 "));
	capture_begin();
	assert_null(cfg_client_cluster(cfg,
	    "prod/a23456789012345678901234567890123", &svc));
	capture_end();
	assert_non_null(strstr(captured, "is not a service name (1 to 32 "));
	cfg_client_free(cfg);
	cfg_client_free(NULL);
}

static void
test_client_defaults(void **state)
{
	struct cfg_client_file *cfg;
	const char *svc = NULL;

	capture_begin();
	cfg = cfg_client_parse_string(expand(CLIENT_HEAD), "c.conf");
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);
	assert_int_equal(cfg->timeout, 5);
	assert_int_equal(cfg->log_level, LOG_WARN);
	assert_int_equal(cfg->nclusters, 0);
	capture_begin();
	assert_null(cfg_client_cluster(cfg, "ssh", &svc));
	capture_end();
	assert_one(captured, "c.conf: no [cluster NAME] section");
	cfg_client_free(cfg);
}

static void
test_client_two_clusters(void **state)
{
	struct cfg_client_file *cfg;
	const char *svc = NULL;
	const struct cfg_cluster *cl;

	cfg = cfg_client_parse_string(expand(CLIENT_HEAD CLUSTER_A
	    "[cluster test]\npublic_key = " KEY_C "\nnodes = 127.0.0.1:7400\n"),
	    "c.conf");
	assert_non_null(cfg);
	assert_int_equal(cfg->nclusters, 2);
	capture_begin();
	assert_null(cfg_client_cluster(cfg, "ssh", &svc));
	capture_end();
	assert_one(captured, "c.conf: 2 clusters (prod, test); say which "
	    "one: CLUSTER/ssh");
	cl = cfg_client_cluster(cfg, "test/ssh", &svc);
	assert_non_null(cl);
	assert_string_equal(cl->name, "test");
	assert_string_equal(cl->nodes[0], "127.0.0.1:7400");
	assert_string_equal(svc, "ssh");
	cfg_client_free(cfg);
}

static void
test_client_errors(void **state)
{
	static const struct {
		const char *conf;
		const char *want;
	} cases[] = {
		{ CLIENT_HEAD "[server]\n", "c.conf:3: unknown section "
		    "[server]; expected [client] or [cluster NAME]" },
		{ CLIENT_HEAD "[client x]\n", "c.conf:3: [client] takes no "
		    "name" },
		{ CLIENT_HEAD "[client]\n", "c.conf:3: duplicate section "
		    "[client] (first at line 1)" },
		{ "[client]\ntimeout = 5\n", "c.conf:1: [client] needs "
		    "private_key = PATH" },
		{ CLUSTER_A, "c.conf: no [client] section" },
		{ CLIENT_HEAD "timeout = 0\n", "c.conf:3: timeout must be a "
		    "number of seconds from 1 to 3600, not 0" },
		{ CLIENT_HEAD "services = x\n", "c.conf:3: unknown key services "
		    "in [client]" },
		{ CLIENT_HEAD CLUSTER_A CLUSTER_A, "c.conf:6: duplicate section "
		    "[cluster prod] (first at line 3)" },
		{ CLIENT_HEAD "[cluster a]\nnodes = 127.0.0.1:1\n",
		    "c.conf:3: [cluster a] needs public_key = KEY" },
		{ CLIENT_HEAD "[cluster a]\npublic_key = " KEY_A "\n",
		    "c.conf:3: [cluster a] needs nodes = HOST:PORT, ..." },
		{ CLIENT_HEAD "[cluster a]\npublic_key = " KEY_A "\n"
		    "nodes = 127.0.0.1:1, host\n", "c.conf:5: nodes: host is not "
		    "HOST:PORT" },
		{ CLIENT_HEAD "[cluster a]\npublic_key = " KEY_A "\n"
		    "nodes = a:1, a:1\n", "c.conf:5: nodes: a:1 is listed twice" },
		{ CLIENT_HEAD "[cluster a]\npublic_key = " KEY_A "\n"
		    "nodes = a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1,j:1,k:1,l:1,"
		    "m:1,n:1,o:1,p:1,q:1\n", "c.conf:5: nodes: more than 16 "
		    "items" },
		{ CLIENT_HEAD "[cluster a]\npublic_key = " KEY_A "x\n"
		    "nodes = a:1\n", "c.conf:4: public_key is not one base64" },
		{ CLIENT_HEAD "[cluster a]\npublic_key = " KEY_A "\n"
		    "nodes = a:1\npreshared_key = @/open.key\n", "c.conf:6: "
		    "preshared_key @/open.key: permissions 0644 are too open" },
		{ "[client]\nprivate_key = @/missing\n", "c.conf:2: private_key "
		    "@/missing: not found" },
	};
	char *want;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want = strdup(expand(cases[i].want));
		assert_non_null(want);
		assert_one(client_err(cases[i].conf), want);
		free(want);
	}
}

static void
test_client_load_relative(void **state)
{
	struct cfg_client_file *cfg;
	char path[512];

	/* The key path is relative to the config file, not the cwd. */
	put("c.conf", "[client]\nprivate_key = client.key\n"
	    "[cluster x]\npublic_key = " KEY_A "\nnodes = n:1\n", 0644);
	snprintf(path, sizeof(path), "%s/c.conf", tmpdir);
	capture_begin();
	cfg = cfg_client_load(path);
	capture_end();
	assert_string_equal(captured, "");
	assert_non_null(cfg);
	assert_string_equal(cfg->path, path);
	cfg_client_free(cfg);
}

static void
test_keyfile(void **state)
{
	char path[512], err[256];
	uint8_t key[32], want[32];

	snprintf(path, sizeof(path), "%s/client.key", tmpdir);
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), 0);
	assert_int_equal(keyfile_parse(KEY_B, want), 0);
	assert_memory_equal(key, want, 32);
	assert_memory_equal(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ654321", 32);

	/* Public files may be readable by anyone. */
	snprintf(path, sizeof(path), "%s/open.key", tmpdir);
	assert_int_equal(keyfile_read(path, key, 0, err, sizeof(err)), 0);
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "permissions 0644 are too open: it must not "
	    "be accessible by group or others (chmod 600)");

	put("g.key", KEY_A, 0620);
	snprintf(path, sizeof(path), "%s/g.key", tmpdir);
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "permissions 0620 are too open: it must not "
	    "be accessible by group or others (chmod 600)");
	unlink(path);

	snprintf(path, sizeof(path), "%s/junk.key", tmpdir);
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "does not hold one base64 32-byte key");
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "not found");
	assert_int_equal(keyfile_read("/dev/null", key, 0, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "is not a regular file");

	assert_int_equal(keyfile_parse(" " KEY_A "\n", key), 0);
	assert_int_equal(keyfile_parse(KEY_A KEY_A, key), -1);
	assert_int_equal(keyfile_parse("", key), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_full),
		cmocka_unit_test(test_server_defaults),
		cmocka_unit_test(test_server_values),
		cmocka_unit_test(test_server_max_sessions),
		cmocka_unit_test(test_server_control_group),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_server_many_errors),
		cmocka_unit_test(test_server_load_errors),
		cmocka_unit_test(test_client_full),
		cmocka_unit_test(test_client_defaults),
		cmocka_unit_test(test_client_two_clusters),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_client_load_relative),
		cmocka_unit_test(test_keyfile),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
