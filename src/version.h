/*
 * version: the version of warren and warrend, printed by --version and
 * reported on warrend's control socket.
 */
#ifndef WARREN_VERSION_H
#define WARREN_VERSION_H

#define WARREN_VERSION "0.1.0"

#endif
