# Shell functions shared by /init and the boot-environment commands of the nexus-init LiveCD
# initramfs (nexus-net-up, nexus-mount-root). Installed as /usr/lib/nexus/boot-lib.sh.

RUN_DIR=/run/nexus
TINYOS=/usr/share/nexus/tinyos

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
log() { echo "nexus-boot: [$(awk '{ printf "%7.2f", $1 }' /proc/uptime)] $*"; }

# The value of KEY=value on the kernel command line (last one wins), "" for a bare KEY, or $2.
karg() {
  value=$2
  for word in $(cat /proc/cmdline); do
    case "$word" in
      "$1") value="" ;;
      "$1="*) value=${word#*=} ;;
    esac
  done
  echo "$value"
}
