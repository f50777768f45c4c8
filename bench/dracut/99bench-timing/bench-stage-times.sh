#!/bin/bash
# Prints "bench-boot: init U s" (kernel → the initramfs's PID 1), one
# "bench-boot: stage NAME N ms" per first-boot unit that ran (its ExecStart's run time,
# process start included, as systemd measured it) and "bench-boot: provisioned U s" (uptime
# when the last of them finished).
seconds() { printf '%d.%02d' $(($1 / 1000000)) $((($1 / 10000) % 100)); }
prop() { systemctl show -P "$2" "$1" 2>/dev/null; }
echo "bench-boot: init $(seconds "$(systemctl show -P UserspaceTimestampMonotonic)") s"
last=0
for stage in fetch-offline fetch kargs disks mount files; do
    unit=ignition-$stage.service
    start=$(prop "$unit" ExecMainStartTimestampMonotonic)
    end=$(prop "$unit" ExecMainExitTimestampMonotonic)
    [ -n "$start" ] && [ "$start" -gt 0 ] && [ -n "$end" ] && [ "$end" -ge "$start" ] || continue
    echo "bench-boot: stage $stage $(((end - start) / 1000)) ms"
    [ "$end" -gt "$last" ] && last=$end
done
echo "bench-boot: provisioned $(seconds "$last") s"
