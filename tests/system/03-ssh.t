#!/bin/sh
# An ssh session through "warren connect" as ProxyCommand to a throwaway
# sshd on loopback: a command, and a few MB each way with hash checks.
. "$(dirname "$0")/lib.sh"
plan 9
SSHD=${SSHD:-/usr/sbin/sshd}
make_keys
UDP=$(free_port); SSH=$(free_port)

ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" &&
ssh-keygen -q -t ed25519 -N '' -f "$T/id" &&
cp "$T/id.pub" "$T/authorized_keys" && chmod 600 "$T/authorized_keys" ||
    { echo "Bail out! ssh-keygen failed"; exit 1; }
mkdir -p /run/sshd   # sshd's privilege separation directory
cat > "$T/sshd_config" <<EOS
Port $SSH
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $(id -un)
MaxStartups 100
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOS
check "sshd accepts its config" "$SSHD" -t -f "$T/sshd_config"
bg "$SSHD" -D -f "$T/sshd_config" -E "$T/sshd.log"
wait_port "$SSH"

server_conf "$T/server.conf" "$UDP" 31000 31999 ssh=127.0.0.1:$SSH
client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"

# ssh ARGS...: ssh through warren, never touching ~/.ssh, bounded in time.
wssh() {
	timeout 60 ssh -F /dev/null -o BatchMode=yes \
	    -o ProxyCommand="$BIN/warren connect -c $T/client.conf ssh" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o LogLevel=ERROR -o ConnectTimeout=30 -i "$T/id" \
	    "$(id -un)@warren-test" "$@"
}

out=$(wssh 'echo ok-from-ssh; uname -s' < /dev/null 2> "$T/ssh.log")
is "$(echo $out)" "ok-from-ssh $(uname -s)" "ssh runs a command through warren connect"
like "$(cat "$T/sshd.log")" "Accepted publickey for $(id -un) from 127.0.0.1" \
    "sshd saw a public-key login from loopback"
like "$(cat "$T/warrend.log")" "event=carrier_up .*service=ssh" \
    "warrend carried the ssh session"

# A few MB each way.
head -c 8000000 /dev/urandom > "$T/up"
want=$(sha "$T/up")
got=$(wssh "cat > $T/up.copy && openssl dgst -sha256 -r $T/up.copy" < "$T/up" 2>> "$T/ssh.log" | cut -d' ' -f1)
is "$got" "$want" "ssh 'cat > file' of 8 MB: equal SHA-256 on the server"
got=$(wssh "cat $T/up.copy" < /dev/null 2>> "$T/ssh.log" | sha -)
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
