#!/usr/bin/env bash
# Local stand-in for the DNUM SFTP server: Debian's OpenSSH on a loopback port serving DIAMANT/incoming.
#   sftp.sh start | stop | status | inbox [DIAMANT|FINESS]
# It makes, in RELAIS_VAR_DIR/sftp, its own host key, a client key pair for the fetcher and the known_hosts line
# that pins the host key; the chroot holding DIAMANT/incoming lives in a root-owned directory (see `safe`).
# The login is the system user
# `relais-dnum` (created when missing), key authentication only, SFTP only, confined to its chroot. The same
# account serves FINESS/incoming, where the referential files are dropped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
var=${RELAIS_VAR_DIR:-$root/var}
port=${RELAIS_SFTP_PORT:-12222}
user=relais-dnum
state="$var/sftp"
# sshd refuses a chroot or authorized_keys path with any group/world-writable or non-root component (a checkout
# under /tmp has one) and reads authorized keys as the login user (so not under /root): those live under
# /var/lib/relais, one directory per checkout.
safe="${RELAIS_SFTP_SAFE_DIR:-/var/lib/relais/sftp-$(printf %s "$root" | sha1sum | cut -c1-10)}"
chroot="$safe/chroot"
pidfile="$state/sshd.pid"

ensure_installed() {
  [ -x /usr/sbin/sshd ] && return 0
  echo "sftp.sh: installing openssh-server from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq openssh-server >&2
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  ensure_installed
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin -p '*' "$user"
  mkdir -p "$state" /run/sshd
  install -d -m 755 "$(dirname "$safe")" "$safe" "$safe/authorized_keys"
  # ChrootDirectory demands root-owned, non-group-writable directories; the inbox itself belongs to the login.
  install -d -m 755 -o root -g root "$chroot" "$chroot/DIAMANT" "$chroot/FINESS"
  install -d -m 775 -o "$user" -g root "$chroot/DIAMANT/incoming" "$chroot/FINESS/incoming"
  [ -f "$state/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C relais-sftp-host -f "$state/host_ed25519"
  [ -f "$state/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C relais-fetcher -f "$state/client_ed25519"
  cp "$state/client_ed25519.pub" "$safe/authorized_keys/$user"
  chmod 644 "$safe/authorized_keys/$user"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$state/host_ed25519.pub")" > "$state/known_hosts"
  cat > "$state/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $state/host_ed25519
PidFile $pidfile
AuthorizedKeysFile $safe/authorized_keys/%u
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers $user
AllowTcpForwarding no
X11Forwarding no
Subsystem sftp internal-sftp
Match User $user
  ChrootDirectory $chroot
  ForceCommand internal-sftp
CONF
  if ! running; then
    /usr/sbin/sshd -t -f "$state/sshd_config"
    /usr/sbin/sshd -f "$state/sshd_config" -E "$state/sshd.log"
    for _ in $(seq 1 40); do running && break; sleep 0.25; done
  fi
  running || { echo "sftp.sh: sshd did not start; see $state/sshd.log" >&2; exit 1; }
  echo "sftp: running on 127.0.0.1:$port, user $user, inbox $chroot/DIAMANT/incoming"
}

stop() {
  if running; then kill "$(cat "$pidfile")"; fi
  rm -f "$pidfile"; echo "sftp: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  inbox) echo "$chroot/${2:-DIAMANT}/incoming" ;;
  status) if running; then echo "sftp: running on 127.0.0.1:$port"; else echo "sftp: down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|inbox" >&2; exit 2 ;;
esac
