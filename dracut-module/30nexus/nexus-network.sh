#!/bin/sh
# Brings the first wired interface up with DHCP (busybox udhcpc) when the fetch stage needs
# the network, and takes it down again before switch-root: `nexus-network.sh up|down`.
bb=/usr/lib/nexus/busybox
state=/run/nexus/network-iface
ip() { "$bb" ip "$@"; }

case "$1" in
  up)
    ip link set lo up
    for path in /sys/class/net/*; do
      iface=${path##*/}
      [ -e "$path/device" ] || continue
      ip link set "$iface" up
      if "$bb" udhcpc -i "$iface" -s /usr/lib/nexus/nexus-udhcpc.script -f -q -n -t 10 -T 1 -A 1 >/dev/null 2>&1; then
        echo "$iface" >"$state"
        echo "<6>nexus-network: $iface $(ip -4 -o addr show dev "$iface" | "$bb" awk '{ print $4 }')"
        exit 0
      fi
      ip link set "$iface" down
    done
    echo "<3>nexus-network: Cannot bring up networking: no interface got a DHCP lease"
    exit 1
    ;;
  down)
    [ -s "$state" ] || exit 0
    iface=$(cat "$state")
    ip addr flush dev "$iface"
    ip link set "$iface" down
    rm -f "$state"
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
