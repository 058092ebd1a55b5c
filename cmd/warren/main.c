/*
 * warren: the client agent and admin CLI.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "version.h"
#include "warren.h"

#define VERSION WARREN_VERSION

static void
usage(FILE *f)
{
	fprintf(f, "usage: warren genkey > private.key\n"
	    "       warren pubkey < private.key\n"
	    "       warren forward [-c FILE] [ADDR:]PORT [CLUSTER/]SERVICE\n"
	    "       warren connect [-c FILE] [CLUSTER/]SERVICE\n"
	    "       warren status [-c WARREND_CONF | -s CONTROL_SOCKET] "
	    "[--json | --prometheus]\n"
	    "       warren reload [-s CONTROL_SOCKET]\n"
	    "       warren --version\n");
}

int
main(int argc, char **argv)
{
	const char *cfg = NULL, *sock = NULL, *args[3];
	enum status_format fmt = STATUS_TEXT;
	int nargs = 0, nfmt = 0;

	log_init("warren", LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("warren %s\n", VERSION);
		return 0;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfg = argv[++i];
		else if ((strcmp(argv[i], "-s") == 0 ||
		    strcmp(argv[i], "--control") == 0) && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--json") == 0 && ++nfmt)
			fmt = STATUS_JSON;
		else if (strcmp(argv[i], "--prometheus") == 0 && ++nfmt)
			fmt = STATUS_PROMETHEUS;
		else if (nargs < 3 && argv[i][0] != '-')
			args[nargs++] = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (nfmt > 0 && strcmp(argv[1], "status") != 0) {
		usage(stderr);    /* --json and --prometheus: status only */
		return 2;
	}
	if (strcmp(argv[1], "genkey") == 0 && nargs == 0 && cfg == NULL)
		return cmd_genkey();
	if (strcmp(argv[1], "pubkey") == 0 && nargs == 0 && cfg == NULL)
		return cmd_pubkey();
	/* No -c: cmd_conffile's default. */
	if (strcmp(argv[1], "forward") == 0 && nargs == 2)
		return cmd_forward(cfg, args[0], args[1]);
	if (strcmp(argv[1], "connect") == 0 && nargs == 1)
		return cmd_connect(cfg, args[0]);
	if (strcmp(argv[1], "status") == 0 && nargs == 0 && nfmt <= 1 &&
	    (cfg == NULL || sock == NULL))
		return cmd_status(sock, cfg, fmt);
	if (strcmp(argv[1], "reload") == 0 && nargs == 0 && nfmt == 0 &&
	    cfg == NULL)
		return cmd_reload(sock);

	usage(stderr);
	return 2;
}
