#!/bin/sh
# Stages the tiny test OS into DIR: a merged-/usr busybox system whose /sbin/init reports
# what provisioning left and powers off. Used by the base disk image and the LiveCD root.
set -eu
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}

rm -rf "$dir"
mkdir -p "$dir"/usr/bin "$dir"/usr/sbin "$dir"/usr/lib
ln -s usr/bin "$dir"/bin
ln -s usr/sbin "$dir"/sbin
ln -s usr/lib "$dir"/lib
for d in proc sys dev run tmp var home root mnt srv opt etc/systemd/system etc/skel; do
  mkdir -p "$dir/$d"
done
chmod 1777 "$dir"/tmp
chmod 0700 "$dir"/root

cp "$busybox" "$dir"/usr/bin/busybox
for applet in $("$busybox" --list); do
  case "$applet" in init | linuxrc | '[[') continue ;; esac
  [ -e "$dir/usr/bin/$applet" ] || ln -s busybox "$dir/usr/bin/$applet"
done

cp -R "$here"/tinyos/etc/. "$dir"/etc/
install -m 0755 "$here"/tinyos/sbin/init "$dir"/usr/sbin/init
chmod 0600 "$dir"/etc/shadow "$dir"/etc/gshadow
