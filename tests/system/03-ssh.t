#!/bin/sh
# An ssh session through "warren connect" as ProxyCommand to a throwaway
# sshd on loopback: a command, and a few MB each way with hash checks;
# then a 200 MB stream whose carrier is reset 5 times (ss -K) at random
# moments: the session resumes each time, ssh never notices, and the
# bytes are exact.
. "$(dirname "$0")/lib.sh"
plan 13
# This test's own grant ports, above the ephemeral range (32768-60999) so
# that ss -K by port kills carriers only, never warrend's own connection
# to sshd.
GLO=61000; GHI=61999
make_keys
UDP=$(free_port); SSH=$(free_port)

check "sshd accepts its config" sshd_setup "$SSH"
start_sshd

server_conf "$T/server.conf" "$UDP" $GLO $GHI ssh=127.0.0.1:$SSH
client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"

out=$(wssh "$T/client.conf" 'echo ok-from-ssh; uname -s' < /dev/null 2> "$T/ssh.log")
is "$(echo $out)" "ok-from-ssh $(uname -s)" "ssh runs a command through warren connect"
like "$(cat "$T/sshd.log")" "Accepted publickey for $(id -un) from 127.0.0.1" \
    "sshd saw a public-key login from loopback"
like "$(cat "$T/warrend.log")" "event=carrier_up .*service=ssh" \
    "warrend carried the ssh session"

# A few MB each way.
head -c 8000000 /dev/urandom > "$T/up"
want=$(sha "$T/up")
got=$(wssh "$T/client.conf" "cat > $T/up.copy && openssl dgst -sha256 -r $T/up.copy" < "$T/up" 2>> "$T/ssh.log" | cut -d' ' -f1)
is "$got" "$want" "ssh 'cat > file' of 8 MB: equal SHA-256 on the server"
got=$(wssh "$T/client.conf" "cat $T/up.copy" < /dev/null 2>> "$T/ssh.log" | sha -)
is "$got" "$want" "ssh 'cat file' of 8 MB back: equal SHA-256 on the client"
rm -f "$T/up.copy"
timeout 60 scp -q -F /dev/null -o BatchMode=yes \
    -o ProxyCommand="$BIN/warren connect -c $T/client.conf ssh" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -i "$T/id" \
    "$T/up" "$(id -un)@warren-test:$T/up.scp" 2>> "$T/ssh.log"
is "$(sha "$T/up.scp" 2>/dev/null)" "$want" "scp of 8 MB: equal SHA-256"

# ssh ends its ProxyCommand with SIGHUP when it is done, so how the
# carrier ended is not asserted; that all 4 sessions ended is.
check "warrend ended the 4 ssh sessions" \
    wait_count "$T/warrend.log" "event=session_end.*service=ssh" 4 10

# A 200 MB stream over ssh while the carrier is reset 5 times.
openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" \
    -iv "$(openssl rand -hex 16)" < /dev/zero 2>/dev/null |
    head -c 200000000 > "$T/big"
want=$(sha "$T/big")
r0=$(count "$T/warrend.log" "event=session_resumed")
(
	sleep 1
	for i in 1 2 3 4 5; do
		sleep "0.$(shuf -i 2-6 -n 1)"
		ss -K "sport >= :$GLO" "sport <= :$GHI" > /dev/null 2>&1
	done
) &
KILLER=$!
got=$(wssh "$T/client.conf" "cat $T/big" < /dev/null 2> "$T/ssh-resume.log" | sha -)
rc=$?
wait "$KILLER"
is "$got" "$want" "ssh 'cat' of 200 MB through 5 carrier resets: equal SHA-256"
# The only lines are warren's own info lines (carrier_lost, resumed).
is "$(grep -v ' warren level=info ' "$T/ssh-resume.log")" "" \
    "ssh reported nothing, and warren no warning or error"
r1=$(count "$T/warrend.log" "event=session_resumed")
diag "the session resumed $((r1 - r0)) times"
check "warrend resumed the session at least once" [ "$r1" -gt "$r0" ]
is "$(count "$T/warrend.log" 'level=error')" 0 "warrend logged no error"
