/*
 * warren: the client agent and admin CLI.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "warren.h"

#define VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(f, "usage: warren genkey > private.key\n"
	    "       warren pubkey < private.key\n"
	    "       warren forward [-c FILE] [ADDR:]PORT [CLUSTER/]SERVICE\n"
	    "       warren connect [-c FILE] [CLUSTER/]SERVICE\n"
	    "       warren status [-s CONTROL_SOCKET]\n"
	    "       warren --version\n");
}

int
main(int argc, char **argv)
{
	const char *cfg = NULL, *sock = NULL, *args[3];
	int nargs = 0;

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
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (nargs < 3 && argv[i][0] != '-')
			args[nargs++] = argv[i];
		else {
			usage(stderr);
			return 2;
		}
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
	if (strcmp(argv[1], "status") == 0 && nargs == 0 && cfg == NULL)
		return cmd_status(sock);
	usage(stderr);
	return 2;
}
