# Shell helpers shared by bench/run.sh and bench/flood.sh.  Only
# 127.0.0.1 is ever used.

# port VAR: a free TCP+UDP port in 20000-29999, never handed out twice.
USED=""
port() {
	while :; do
		_p=$(shuf -i 20000-29999 -n 1)
		case " $USED " in *" $_p "*) continue ;; esac
		ss -Hlntu "sport = :$_p" | grep -q . && continue
		break
	done
	USED="$USED $_p"
	eval "$1=$_p"
}

# wait_port PORT [tcp|udp]: wait up to 10 s until something listens there.
wait_port() {
	_n=100
	_f=-Hltn
	[ "${2:-tcp}" = udp ] && _f=-Hlun
	while [ $_n -gt 0 ]; do
		ss $_f "sport = :$1" | grep -q . && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}
