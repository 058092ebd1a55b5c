/*
 * test_compat_posix: test_compat against compat.c's POSIX fallbacks, as
 * macOS and the BSDs run them (COMPAT_POSIX_ONLY).
 */
#define COMPAT_POSIX_ONLY 1
#include "test_compat.c"
