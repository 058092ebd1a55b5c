/*
 * Unit tests for cfgdiff: the difference a reload reports between two
 * parsed warrend configs, and the settings it keeps from the running one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgdiff.h"
#include "config.h"
#include "crypto.h"
#include "log.h"

/* base64 of "abcdefghijklmnopqrstuvwxyz123456" and friends. */
#define KEY_A "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY="
#define KEY_B "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo2NTQzMjE="
#define KEY_C "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY="
#define KEY_D "UFNLUFNLUFNLUFNLUFNLUFNLUFNLUFNLUFNLUFNLISE="

static char tmpdir[] = "/tmp/warren-test-cfgdiff-XXXXXX";
static char keypath[512], key2path[512];

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int
setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	snprintf(keypath, sizeof(keypath), "%s/server.key", tmpdir);
	snprintf(key2path, sizeof(key2path), "%s/other.key", tmpdir);
	put(keypath, KEY_A "\n");
	put(key2path, KEY_D "\n");
	log_init("test", LOG_ERROR);    /* a config the test meant valid */
	return (0);
}

static int
teardown(void **state)
{
	unlink(keypath);
	unlink(key2path);
	rmdir(tmpdir);
	return (0);
}

/*
 * A server config: [server] with ${server} lines added (after
 * private_key = ${key}), then ${rest} (services and clients).
 */
static struct cfg_server *
conf(const char *key, const char *server, const char *rest)
{
	static char text[70000];
	struct cfg_server *cfg;
	int n;

	n = snprintf(text, sizeof(text), "[server]\nprivate_key = %s\n%s%.65536s",
	    key, server, rest);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	cfg = cfg_server_parse_string(text, "t.conf");
	assert_non_null(cfg);
	return (cfg);
}

#define BASE \
	"[service echo]\nconnect = 127.0.0.1:7\n" \
	"[service ssh]\nconnect = 127.0.0.1:22\n" \
	"[client alice]\npublic_key = " KEY_B "\nservices = echo, ssh\n" \
	"[client bob]\npublic_key = " KEY_C "\nservices = echo\n"

static void
test_same(void **state)
{
	struct cfg_server *a = conf(keypath, "", BASE);
	struct cfg_server *b = conf(keypath, "", BASE);
	struct cfgdiff d;
	char buf[256];

	cfgdiff_compute(a, b, &d);
	assert_true(cfgdiff_empty(&d));
	cfgdiff_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "changes=none");
	cfg_server_free(a);
	cfg_server_free(b);
}

static void
test_sections(void **state)
{
	/*
	 * bob removed, carol added, alice's services reordered (the same
	 * set: unchanged) and her max_sessions changed; ssh's backend moved,
	 * echo removed, web added.
	 */
	struct cfg_server *a = conf(keypath, "", BASE);
	struct cfg_server *b = conf(keypath, "",
	    "[service ssh]\nconnect = 127.0.0.1:2222\n"
	    "[service web]\nconnect = 127.0.0.1:80\n"
	    "[client alice]\npublic_key = " KEY_B "\nservices = ssh\n"
	    "max_sessions = 2\n"
	    "[client carol]\npublic_key = " KEY_C "\nservices = web\n");
	struct cfgdiff d;
	char buf[2048];

	cfgdiff_compute(a, b, &d);
	assert_false(cfgdiff_empty(&d));
	assert_int_equal(d.clients_added, 1);
	assert_int_equal(d.clients_removed, 1);
	assert_int_equal(d.clients_changed, 1);
	assert_string_equal(d.clients_added_names, "carol");
	assert_string_equal(d.clients_removed_names, "bob");
	assert_string_equal(d.clients_changed_names, "alice");
	assert_int_equal(d.services_added, 1);
	assert_int_equal(d.services_removed, 1);
	assert_int_equal(d.services_changed, 1);
	assert_string_equal(d.services_added_names, "web");
	assert_string_equal(d.services_removed_names, "echo");
	assert_string_equal(d.services_changed_names, "ssh");
	assert_int_equal(d.nlimits, 0);
	assert_int_equal(d.nrestart, 0);
	cfgdiff_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "clients_added=carol clients_removed=bob "
	    "clients_changed=alice services_added=web services_removed=echo "
	    "services_changed=ssh");
	cfg_server_free(a);
	cfg_server_free(b);
}

static void
test_client_fields(void **state)
{
	/* Reordered services: the same client.  A new key or psk: changed. */
	struct cfg_server *a = conf(keypath, "", BASE);
	struct cfg_server *b = conf(keypath, "",
	    "[service echo]\nconnect = 127.0.0.1:7\n"
	    "[service ssh]\nconnect = 127.0.0.1:22\n"
	    "[client alice]\npublic_key = " KEY_B "\nservices = ssh, echo\n"
	    "[client bob]\npublic_key = " KEY_D "\nservices = echo\n");
	struct cfgdiff d;
	char psk[2048];

	cfgdiff_compute(a, b, &d);
	assert_int_equal(d.clients_changed, 1);
	assert_string_equal(d.clients_changed_names, "bob");
	cfg_server_free(b);
	snprintf(psk, sizeof(psk), "%s\npreshared_key = %s\n", BASE, keypath);
	b = conf(keypath, "", psk);
	cfgdiff_compute(a, b, &d);
	assert_int_equal(d.clients_changed, 1);
	assert_string_equal(d.clients_changed_names, "bob");
	cfg_server_free(a);
	cfg_server_free(b);
}

static void
test_limits_and_restart(void **state)
{
	struct cfg_server *a = conf(keypath,
	    "listen = 127.0.0.1:7400\ncontrol = /run/a.sock\n"
	    "grant_ports = 40000-40999\n", BASE);
	struct cfg_server *b = conf(key2path,
	    "listen = 127.0.0.1:7401\ncontrol = /run/b.sock\n"
	    "grant_ports = 41000-41999\nstall_timeout = 30\n"
	    "pending_per_ip = 50\nlog_level = debug\n"
	    "handshake_queue = 8192\n", BASE);
	struct cfgdiff d;
	char buf[2048];

	cfgdiff_compute(a, b, &d);
	assert_int_equal(d.clients_added + d.clients_removed +
	    d.clients_changed + d.services_added + d.services_removed +
	    d.services_changed, 0);
	assert_int_equal(d.nlimits, 3);
	assert_string_equal(d.limits, "stall_timeout=60->30,"
	    "pending_per_ip=64->50,log_level=info->debug");
	assert_int_equal(d.nrestart, 5);
	assert_string_equal(d.restart, "private_key,listen,grant_ports,"
	    "control,handshake_queue");
	assert_int_equal(b->handshake_queue, 8192);
	cfgdiff_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "limits=\"stall_timeout=60->30,"
	    "pending_per_ip=64->50,log_level=info->debug\" "
	    "restart_needed=\"private_key,listen,grant_ports,control,"
	    "handshake_queue\"");

	/* The running values stay; what applies live is the new file's. */
	cfgdiff_keep_restart(a, b);
	cfgdiff_compute(a, b, &d);
	/* Only control differs still: ${a} now holds the file's string. */
	assert_string_equal(d.restart, "control");
	assert_int_equal(d.nlimits, 3);
	assert_string_equal(b->control, "/run/a.sock");
	assert_string_equal(a->control, "/run/b.sock");   /* swapped, owned */
	assert_int_equal(b->grant_lo, 40000);
	assert_int_equal(b->stall_timeout, 30);
	assert_int_equal(b->handshake_queue, a->handshake_queue);
	assert_true(crypto_equal(a->private_key, b->private_key, 32));
	cfg_server_free(a);
	cfg_server_free(b);

	/*
	 * load_threshold above the running handshake_queue (a larger queue
	 * in the same file) waits for the restart too; below it, it is live.
	 */
	a = conf(keypath, "", BASE);
	b = conf(keypath, "handshake_queue = 8192\nload_threshold = 5000\n",
	    BASE);
	cfgdiff_compute(a, b, &d);
	assert_int_equal(d.nlimits, 0);
	assert_string_equal(d.restart, "handshake_queue,load_threshold");
	cfgdiff_keep_restart(a, b);
	assert_int_equal(b->load_threshold, a->load_threshold);
	assert_int_equal(b->handshake_queue, a->handshake_queue);
	cfg_server_free(b);
	b = conf(keypath, "load_threshold = 100\n", BASE);
	cfgdiff_compute(a, b, &d);
	assert_int_equal(d.nrestart, 0);
	assert_string_equal(d.limits, "load_threshold=512->100");
	cfg_server_free(a);
	cfg_server_free(b);
}

/*
 * What a later worker gets from the keeper: the settings warrend started
 * with survive a copy through plain bytes (no pointers), win over the
 * file's, and the ones the file changed are named.
 */
static void
test_pinned(void **state)
{
	struct cfg_server *a = conf(keypath, "listen = 127.0.0.1:7400\n"
	    "control = /run/a.sock\nstore = memory\n"
	    "grant_ports = 40000-40999\n", BASE);
	struct cfg_server *b = conf(key2path, "listen = 127.0.0.1:7400\n"
	    "control = /run/b.sock\nstore = memory\n"
	    "grant_ports = 41000-41999\nlinger = 30\n", BASE);
	struct cfg_pinned *p = malloc(sizeof(*p)), *copy = malloc(sizeof(*p));
	struct cfgdiff d;
	char longpath[CFGDIFF_PIN_STR + 8];

	assert_non_null(p);
	assert_non_null(copy);
	assert_int_equal(cfgdiff_pin(a, p), 0);
	assert_null(p->cfg.control);
	assert_null(p->cfg.clients);
	memcpy(copy, p, sizeof(*p));    /* as the socket carries it */
	crypto_wipe(p, sizeof(*p));
	assert_int_equal(cfgdiff_keep_pinned(b, copy, &d), 0);
	assert_string_equal(d.restart, "private_key,grant_ports,control");
	assert_string_equal(b->control, "/run/a.sock");
	assert_int_equal(b->grant_lo, 40000);
	assert_int_equal(b->grant_hi, 40999);
	assert_true(crypto_equal(a->private_key, b->private_key, 32));
	assert_int_equal(b->linger, 30);            /* live: the file's */
	assert_int_equal(b->nclients, a->nclients);

	/* The same file again: nothing to report. */
	assert_int_equal(cfgdiff_keep_pinned(b, copy, &d), 0);
	assert_int_equal(d.nrestart, 0);

	/* A path too long to pin is refused, not cut. */
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	free(a->control);
	assert_non_null(a->control = strdup(longpath));
	assert_int_equal(cfgdiff_pin(a, p), -1);
	crypto_wipe(copy, sizeof(*copy));
	free(p);
	free(copy);
	cfg_server_free(a);
	cfg_server_free(b);
}

static void
test_long_lists(void **state)
{
	/* 40 new clients with long names: the list is cut with "...". */
	static char rest[60000];
	struct cfg_server *a = conf(keypath, "", BASE);
	struct cfg_server *b;
	struct cfgdiff d;
	uint8_t pub[32];
	char b64[64], buf[4096];
	size_t off;
	int i;

	off = (size_t)snprintf(rest, sizeof(rest), "%s", BASE);
	for (i = 0; i < 40; i++) {
		memset(pub, 0, sizeof(pub));
		pub[0] = (uint8_t)(i + 1);
		pub[31] = 0x40;
		assert_int_equal(crypto_b64_encode(pub, 32, b64, sizeof(b64)), 0);
		off += (size_t)snprintf(rest + off, sizeof(rest) - off,
		    "[client client-with-a-rather-long-name-for-a-list-%02d]\n"
		    "public_key = %s\nservices = echo\n", i, b64);
		assert_true(off < sizeof(rest));
	}
	b = conf(keypath, "", rest);
	cfgdiff_compute(a, b, &d);
	assert_int_equal(d.clients_added, 40);
	assert_true(strlen(d.clients_added_names) < CFGDIFF_TEXT);
	assert_non_null(strstr(d.clients_added_names, "list-00,"));
	assert_string_equal(d.clients_added_names +
	    strlen(d.clients_added_names) - 3, "...");
	cfgdiff_format(&d, buf, sizeof(buf));
	assert_true(strncmp(buf, "clients_added=client-with", 25) == 0);
	/* A short buffer is cut, and still terminated. */
	cfgdiff_format(&d, buf, 16);
	assert_int_equal(strlen(buf), 15);
	cfg_server_free(a);
	cfg_server_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_client_fields),
		cmocka_unit_test(test_limits_and_restart),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_long_lists),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
