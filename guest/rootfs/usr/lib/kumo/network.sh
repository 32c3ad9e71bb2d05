#!/bin/sh
# Brings up every NIC: static IPv4 from the config drive's network_data.json
# when it has some for the NIC's MAC, DHCP otherwise. DHCP is bounded: each
# udhcpc tries 3 times 1 s, then keeps trying in the background.
. /usr/lib/kumo/json.sh
ND=/run/kumo/cd/network_data.json
ip link set lo up

nics=
for d in /sys/class/net/*; do
	[ -e "$d/device" ] || continue
	nics="$nics ${d##*/}"
	ip link set "${d##*/}" up
done
[ -n "$nics" ] || { echo "net: no NIC"; exit 0; }

# nic_by_mac MAC: the interface with that address.
nic_by_mac() {
	want=$(echo "$1" | tr A-F a-f)
	for n in $nics; do
		[ "$(cat /sys/class/net/$n/address)" = "$want" ] && { echo "$n"; return; }
	done
}
# prefix MASK: dotted netmask to prefix length (a prefix passes through).
prefix() {
	case $1 in *.*) ;; *) echo "${1:-32}"; return ;; esac
	bits=0
	for o in $(echo "$1" | tr . ' '); do
		case $o in
		255) bits=$((bits + 8)) ;; 254) bits=$((bits + 7)) ;; 252) bits=$((bits + 6)) ;;
		248) bits=$((bits + 5)) ;; 240) bits=$((bits + 4)) ;; 224) bits=$((bits + 3)) ;;
		192) bits=$((bits + 2)) ;; 128) bits=$((bits + 1)) ;;
		esac
	done
	echo "$bits"
}

static=
if [ -f "$ND" ]; then
	F=/run/kumo/cd/network.flat
	json_flat "$ND" >"$F"
	i=0
	while [ $i -lt 64 ] && [ -n "$(json_get "$F" ".networks[$i].type")" ]; do
		if [ "$(json_get "$F" ".networks[$i].type")" = ipv4 ]; then
			link=$(json_get "$F" ".networks[$i].link")
			j=0 k= mac=
			while [ $j -lt 64 ] && [ -n "$(json_get "$F" ".links[$j].id")" ]; do
				if [ "$(json_get "$F" ".links[$j].id")" = "$link" ]; then
					k=$j
					mac=$(json_get "$F" ".links[$j].ethernet_mac_address")
				fi
				j=$((j + 1))
			done
			nic=$(nic_by_mac "$mac")
			addr=$(json_get "$F" ".networks[$i].ip_address")
			if [ -n "$nic" ] && [ -n "$addr" ]; then
				case $addr in */*) ;; *) addr="$addr/$(prefix "$(json_get "$F" ".networks[$i].netmask")")" ;; esac
				ip addr add "$addr" dev "$nic"
				mtu=$(json_get "$F" ".links[$k].mtu")
				case $mtu in '' | null) ;; *) ip link set dev "$nic" mtu "$mtu" ;; esac
				r=0
				while [ $r -lt 32 ] && [ -n "$(json_get "$F" ".networks[$i].routes[$r].gateway")" ]; do
					net=$(json_get "$F" ".networks[$i].routes[$r].network")
					gw=$(json_get "$F" ".networks[$i].routes[$r].gateway")
					len=$(prefix "$(json_get "$F" ".networks[$i].routes[$r].netmask")")
					if [ "$net/$len" = 0.0.0.0/0 ]; then
						ip route add default via "$gw" dev "$nic"
					else
						ip route add "$net/$len" via "$gw" dev "$nic"
					fi
					r=$((r + 1))
				done
				static="$static $nic"
				echo "net: $nic static $addr"
			fi
		fi
		i=$((i + 1))
	done
	dns=$(awk -F'\t' '/^\.services\[[0-9]+\]\.address\t/ { print $2 }' "$F")
	if [ -n "$static" ] && [ -n "$dns" ]; then
		for d in $dns; do echo "nameserver $d"; done >/etc/resolv.conf
		: >/run/kumo/static-dns
	fi
fi

for n in $nics; do
	case " $static " in *" $n "*) continue ;; esac
	udhcpc -i "$n" -t 3 -T 1 -A 3 -b -x "hostname:$(hostname)" \
		-s /usr/share/udhcpc/default.script -p "/run/udhcpc.$n.pid" >/dev/null 2>&1 &
done
wait
exit 0
