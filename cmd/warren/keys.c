/*
 * keys: "warren genkey" and "warren pubkey", WireGuard style.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "keyfile.h"
#include "log.h"
#include "warren.h"

/* Print ${key} as one line of base64. */
static int
print_key(const uint8_t key[32])
{
	char b64[64];
	int rc = 0;

	if (crypto_b64_encode(key, 32, b64, sizeof(b64)) ||
	    printf("%s\n", b64) < 0 || fflush(stdout) != 0)
		rc = -1;
	crypto_wipe(b64, sizeof(b64));
	return rc;
}

int
cmd_genkey(void)
{
	uint8_t priv[32], pub[32];
	struct stat st;
	int rc = 1;

	/* "warren genkey > k" must give a file that warrend will accept. */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 077) != 0 && fchmod(STDOUT_FILENO, 0600) != 0)
		log_warn("genkey", "msg=\"cannot make the output file private; chmod 600 it\"");
	if (crypto_x25519_keygen(priv, pub) || print_key(priv))
		log_error("genkey", "msg=\"cannot generate or write a key\"");
	else
		rc = 0;
	crypto_wipe(priv, sizeof(priv));
	return rc;
}

/*
 * Whether ${k} is clamped as RFC 7748 says (the low 3 bits clear, the top
 * bit clear, the next set), as warren genkey, wg genkey and OpenSSL make
 * private keys.  A public key looks so only by chance, 1 time in 16 (its
 * top bit is always clear), so an unclamped input is most likely one.
 */
static int
clamped(const uint8_t k[32])
{
	return (k[0] & 7) == 0 && (k[31] & 0xc0) == 0x40;
}

int
cmd_pubkey(void)
{
	char text[256];
	uint8_t priv[32], pub[32];
	size_t n = fread(text, 1, sizeof(text) - 1, stdin);
	int rc = 1;

	text[n] = '\0';
	if (keyfile_parse(text, priv) || crypto_x25519_pub(priv, pub))
		log_error("pubkey", "msg=\"standard input does not hold one base64 32-byte private key\"");
	else if (!clamped(priv))
		log_error("pubkey", "msg=\"standard input is not a private key "
		    "as warren genkey makes them (its bits are not clamped as "
		    "RFC 7748 says), so it is most likely a public key already; "
		    "nothing printed (warren pubkey reads a private key)\"");
	else if (print_key(pub) == 0)
		rc = 0;
	crypto_wipe(text, sizeof(text));
	crypto_wipe(priv, sizeof(priv));
	return rc;
}
