#!/bin/sh
# Client comforts (warren(1)): the default configuration path
# ($XDG_CONFIG_HOME, then ~/.config, then /etc/warren), the error naming
# the paths tried; warren forward says where it listens at the default log
# level; a node whose port is unreachable (ICMP) is skipped at once and the
# next node serves, and when every node refused the dial ends long before
# its timeout, with one clear line; a new session starts at a random node
# (both nodes of a two-node cluster serve); warren pubkey refuses a public
# key.
. "$(dirname "$0")/lib.sh"
plan 23
make_keys
UDP=$(free_port); UDP2=$(free_port); ECHO=$(free_port); FWD=$(free_port)
DEAD=$(free_port); DEAD2=$(free_port)
start_echo "$ECHO"
server_conf "$T/server.conf" "$UDP" 31000 31499 echo=127.0.0.1:$ECHO
check "warrend starts" start_warrend "$T/server.conf"

# --- the default configuration path ---
client_conf "$T/client.conf" "$UDP"
mkdir -p "$T/xdg/warren" "$T/home/.config/warren"
cp "$T/client.conf" "$T/xdg/warren/client.conf"
cp "$T/client.conf" "$T/home/.config/warren/client.conf"
out=$(echo via-xdg | XDG_CONFIG_HOME=$T/xdg HOME=$T/nohome timeout 20 \
    "$BIN/warren" connect echo 2> "$T/xdg.err")
is "$out" "via-xdg" "no -c: \$XDG_CONFIG_HOME/warren/client.conf is used"
out=$(echo via-home | env -u XDG_CONFIG_HOME HOME=$T/home timeout 20 \
    "$BIN/warren" connect echo 2> "$T/home.err")
is "$out" "via-home" "no -c, XDG_CONFIG_HOME unset: ~/.config/warren/client.conf is used"
if [ -e /etc/warren/client.conf ]; then
	ok "# skip /etc/warren/client.conf exists on this machine"
	ok "# skip (the same)"
else
	out=$(echo x | XDG_CONFIG_HOME=$T/none timeout 20 "$BIN/warren" connect echo 2>&1)
	rc=$?
	is "$rc" 1 "no config anywhere: exit status 1"
	like "$out" "event=config msg=\"no configuration file: neither $T/none/warren/client.conf nor /etc/warren/client.conf exists; name one with -c FILE\"" \
	    "no config anywhere: the error names both paths tried"
fi
# -c still wins over the default.
sed "s/^nodes = .*/nodes = 127.0.0.1:$DEAD/" "$T/client.conf" > "$T/xdg/warren/client.conf"
out=$(echo via-c | XDG_CONFIG_HOME=$T/xdg timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2> "$T/c.err")
is "$out" "via-c" "-c FILE is used over the default"

# --- warren forward says where it listens, at the default log level ---
CLIENT_LOG="" client_conf "$T/quiet.conf" "$UDP"
check "the client config has no log_level (the default, warn)" \
    sh -c "! grep -q log_level '$T/quiet.conf'"
bg "$BIN/warren" forward -c "$T/quiet.conf" "127.0.0.1:$FWD" echo 2> "$T/forward.log"
check "warren forward listens" wait_port "$FWD"
check "it says where, once, at the default log level" \
    wait_for "$T/forward.log" "event=forwarding local=127.0.0.1:$FWD cluster=test service=echo msg=\"listening on 127.0.0.1:$FWD for test/echo\""
out=$(printf 'through forward\n' | socat -t 5 - TCP:127.0.0.1:$FWD)
is "$out" "through forward" "and forwards"
is "$(count "$T/forward.log" .)" 1 "nothing else was logged at the default level"

# --- an unreachable node is skipped at once, the next one serves ---
NODE_HOST="127.0.0.1:$DEAD, 127.0.0.1" CLIENT_LOG=debug \
    client_conf "$T/deadfirst.conf" "$UDP"
good=0; refused=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	out=$(echo "try $i" | timeout 20 "$BIN/warren" connect -c "$T/deadfirst.conf" echo 2> "$T/deadfirst.err")
	[ "$out" = "try $i" ] && good=$((good + 1))
	grep -q "event=node_refused peer=127.0.0.1:$DEAD" "$T/deadfirst.err" && refused=$((refused + 1))
done
is "$good" 12 "nodes = DEAD, GOOD: every session is served (by the good node)"
check "the dead node's ICMP port unreachable was seen (refused in $refused of 12 sessions that tried it first)" \
    [ "$refused" -ge 1 ]

# --- every node refused: the dial ends at once, not at its timeout ---
TIMEOUT=10 NODE_HOST="127.0.0.1:$DEAD, 127.0.0.1" client_conf "$T/alldead.conf" "$DEAD2"
t0=$(now_ms)
out=$(echo x | timeout 30 "$BIN/warren" connect -c "$T/alldead.conf" echo 2>&1); rc=$?
ms=$(( $(now_ms) - t0 ))
is "$rc" 1 "every node refused: exit status 1"
like "$out" "event=refused cluster=test peer=127.0.0.1:[0-9]* msg=\"every node of cluster test refused the handshake (ICMP port unreachable: nothing listens on their ports): is warrend running there?\"" \
    "one clear line says every node refused"
check "it ended after $ms ms, well before the 10 s timeout" [ "$ms" -lt 5000 ]

# warrend stopped: the one node refuses.
stop "$WARREND_PID"
TIMEOUT=10 client_conf "$T/stopped.conf" "$UDP"
t0=$(now_ms)
out=$(echo x | timeout 30 "$BIN/warren" connect -c "$T/stopped.conf" echo 2>&1); rc=$?
ms=$(( $(now_ms) - t0 ))
like "$out" "event=refused cluster=test peer=127.0.0.1:$UDP msg=\"the node of cluster test refused the handshake" \
    "warrend stopped: the client says the node refused"
check "and gives up after $ms ms, well before the 10 s timeout (exit $rc)" \
    sh -c "[ $ms -lt 5000 ] && [ $rc -eq 1 ]"

# --- node order: a new session starts at a random node ---
# Two nodes of one cluster (same key), each with its own store and grants.
server_conf "$T/a.conf" "$UDP" 31500 31749 echo=127.0.0.1:$ECHO
STORE=lmdb:$T/store2 server_conf "$T/b.conf" "$UDP2" 31750 31999 echo=127.0.0.1:$ECHO
bg "$BIN/warrend" -c "$T/a.conf" 2> "$T/a.log"
bg "$BIN/warrend" -c "$T/b.conf" 2> "$T/b.log"
wait_for "$T/a.log" "event=started" 10 && wait_for "$T/b.log" "event=started" 10
NODE_HOST="127.0.0.1:$UDP, 127.0.0.1" client_conf "$T/two.conf" "$UDP2"
good=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	out=$(echo "s$i" | timeout 20 "$BIN/warren" connect -c "$T/two.conf" echo 2>> "$T/two.err")
	[ "$out" = "s$i" ] && good=$((good + 1))
done
na=$(count "$T/a.log" "event=session_granted"); nb=$(count "$T/b.log" "event=session_granted")
is "$good" 16 "two nodes: every session is served"
check "both nodes serve new sessions (first node $na, second $nb of 16)" \
    sh -c "[ $na -ge 1 ] && [ $nb -ge 1 ]"

# --- warren pubkey ---
out=$("$BIN/warren" pubkey < "$T/client.key")
is "$out" "$(cat "$T/client.pub")" "warren pubkey < private key prints its public key"
# A public key is refused, unless it happens to look like a private key
# (1 in 16 do): find one of the keys made here that does not.
pub=""
for k in client server; do
	b=$(base64 -d < "$T/$k.pub" | od -An -tu1 | tr -s ' \n' ' ')
	set -- $b
	first=$1; shift 31; last=$1
	if [ $((first & 7)) -ne 0 ] || [ $((last & 192)) -ne 64 ]; then pub=$k; break; fi
done
if [ -z "$pub" ]; then
	ok "# skip both public keys look clamped (1 in 256)"
	ok "# skip (the same)"
else
	out=$("$BIN/warren" pubkey < "$T/$pub.pub" 2> "$T/pubkey.err"); rc=$?
	check "warren pubkey < public key: exit 1 and nothing on stdout" \
	    sh -c "[ $rc -eq 1 ] && [ -z '$out' ]"
	check "and says it is most likely a public key already" \
	    grep -q "event=pubkey msg=\"standard input is not a private key as warren genkey makes them .*most likely a public key already" "$T/pubkey.err"
fi
