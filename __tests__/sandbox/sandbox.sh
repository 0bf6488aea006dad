#!/usr/bin/env bash
# The local sandbox: a builder dockerd (the runner's daemon), a "remote" dockerd reached only over
# SSH as user `deployer`, and nginx run by `deployer` in front of the app's colors.
#   sandbox.sh up     install what is missing, start everything (idempotent)
#   sandbox.sh env    print the variables tests and the demo use (eval "$(sandbox.sh env)")
#   sandbox.sh down   stop everything (--purge also deletes the daemons' data)
set -euo pipefail

SB=${BGSB_DIR:-/tmp/bgsb}           # short: unix socket paths are limited to 108 bytes
SSH_PORT=${BGSB_SSH_PORT:-2222}
NGINX_PORT=${BGSB_NGINX_PORT:-8080}
USER_NAME=deployer
HOME_DIR=/home/$USER_NAME
NGX=$HOME_DIR/nginx
BASE_IMAGE=bgsb/busybox:1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[sandbox] %s\n' "$*" >&2; }
die() { printf '[sandbox] error: %s\n' "$*" >&2; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (it starts dockerd, sshd and adds a user)"; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v nginx >/dev/null || missing+=(nginx-light)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v tc >/dev/null || missing+=(iproute2)
  command -v ssh-keygen >/dev/null || missing+=(openssh-client)
  command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian's packages try to start their services; this sandbox runs its own instances.
  for svc in nginx ssh docker containerd; do (service "$svc" stop >/dev/null 2>&1 || true); done
}

# start_dockerd NAME [extra dockerd args...]
start_dockerd() {
  local name=$1; shift
  local sock=$SB/$name.sock pid=$SB/$name.pid data=${DATA_ROOT:-$SB/$name-data}
  if alive "$pid" && DOCKER_HOST=unix://$sock /usr/bin/docker version >/dev/null 2>&1; then return; fi
  mkdir -p "$data" "$SB/$name-exec"
  log "starting dockerd $name"
  nohup dockerd -H "unix://$sock" --data-root "$data" --exec-root "$SB/$name-exec" \
    --pidfile "$pid" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --userland-proxy=true "$@" >"$SB/$name.log" 2>&1 &
  for _ in $(seq 1 120); do
    DOCKER_HOST=unix://$sock /usr/bin/docker version >/dev/null 2>&1 && return
    sleep 0.25
  done
  tail -20 "$SB/$name.log" >&2
  die "dockerd $name did not start (log: $SB/$name.log)"
}

# stop_dockerd NAME: SIGTERM, wait up to 30 s, then SIGKILL: a daemon still shutting down must
# not answer the next start_dockerd (it would be taken for the new one, then vanish).
stop_dockerd() {
  local pid=$SB/$1.pid p
  alive "$pid" || return 0
  log "stopping dockerd $1"
  p=$(cat "$pid"); kill "$p" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.5; done
  log "dockerd $1 did not stop in 30 s: killing it"
  kill -9 "$p" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.25; done
}

setup_user() {
  getent group "$USER_NAME" >/dev/null || groupadd "$USER_NAME"
  id "$USER_NAME" >/dev/null 2>&1 || useradd -m -g "$USER_NAME" -s /bin/bash "$USER_NAME"
  # useradd leaves the account locked ('!'), and sshd without PAM refuses locked accounts.
  usermod -p '*' "$USER_NAME"
  mkdir -p "$HOME_DIR/.ssh"
  [ -f "$SB/deployer_key" ] || ssh-keygen -q -t ed25519 -N '' -C "bgsb-deployer" -f "$SB/deployer_key"
  cp "$SB/deployer_key.pub" "$HOME_DIR/.ssh/authorized_keys"
  chmod 700 "$HOME_DIR/.ssh"; chmod 600 "$HOME_DIR/.ssh/authorized_keys"
  chown -R "$USER_NAME:$USER_NAME" "$HOME_DIR/.ssh"
  chmod 755 "$SB"
}

start_sshd() {
  mkdir -p /run/sshd
  [ -f "$SB/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$SB/ssh_host_ed25519_key"
  cat >"$SB/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SB/ssh_host_ed25519_key
PidFile $SB/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers $USER_NAME
AllowTcpForwarding yes
Subsystem sftp internal-sftp
MaxStartups 50:30:100
LogLevel ERROR
Match User $USER_NAME
  SetEnv DOCKER_HOST=unix://$SB/remote.sock PATH=$NGX/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
CONF
  if alive "$SB/sshd.pid"; then kill -HUP "$(cat "$SB/sshd.pid")"; return; fi
  log "starting sshd on 127.0.0.1:$SSH_PORT"
  /usr/sbin/sshd -f "$SB/sshd_config" -E "$SB/sshd.log"
  for _ in $(seq 1 40); do alive "$SB/sshd.pid" && return; sleep 0.25; done
  die "sshd did not start (log: $SB/sshd.log)"
}

nginx_as_user() { su -s /bin/sh "$USER_NAME" -c "$*"; }

start_nginx() {
  mkdir -p "$NGX/conf.d" "$NGX/sites" "$NGX/tmp" "$NGX/bin"
  cat >"$NGX/nginx.conf" <<CONF
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  include $NGX/sites/*.conf;
}
CONF
  # The demo app's site: the action rewrites only conf.d/demo.upstream.
  [ -f "$NGX/conf.d/demo.upstream" ] || echo "server 127.0.0.1:3001;" >"$NGX/conf.d/demo.upstream"
  site demo "$NGINX_PORT" "$NGX/conf.d/demo.upstream" >"$NGX/sites/demo.conf"
  # `nginx` on the deployer's PATH uses this config, so the action's default test/reload commands work.
  cat >"$NGX/bin/nginx" <<CONF
#!/bin/sh
exec /usr/sbin/nginx -e $NGX/error.log -c $NGX/nginx.conf "\$@"
CONF
  chmod 755 "$NGX/bin/nginx"
  chown -R "$USER_NAME:$USER_NAME" "$NGX"
  if alive "$NGX/nginx.pid"; then nginx_as_user "$NGX/bin/nginx -s reload"; return; fi
  log "starting nginx as $USER_NAME on 127.0.0.1:$NGINX_PORT"
  nginx_as_user "$NGX/bin/nginx" || die "nginx did not start (log: $NGX/error.log)"
}

# site NAME PORT UPSTREAM_FILE: a server block whose upstream is the action's include file.
site() {
  cat <<CONF
upstream $1 {
  include $3;
  keepalive 16;
}
server {
  listen 127.0.0.1:$2;
  location / {
    proxy_pass http://$1;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_next_upstream error timeout http_502;
  }
}
CONF
}

base_image() {
  local dh=unix://$SB/builder.sock
  if DOCKER_HOST=$dh /usr/bin/docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return; fi
  log "importing $BASE_IMAGE (busybox-static rootfs) into the builder"
  local root=$SB/rootfs
  rm -rf "$root"; mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www"
  cp /bin/busybox "$root/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000:app:/app:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\n' >"$root/etc/group"
  tar -C "$root" -c . | DOCKER_HOST=$dh /usr/bin/docker import -c 'ENV PATH=/bin' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

up() {
  need_root
  mkdir -p "$SB"
  install_packages
  setup_user
  start_dockerd builder
  start_dockerd remote --group "$USER_NAME"
  start_sshd
  start_nginx
  base_image
  # A PATH whose `docker` builds with BuildKit, as a GitHub runner's does (see shared/FACTS.md).
  mkdir -p "$SB/bin"; ln -sf /usr/bin/docker "$SB/bin/docker"
  ssh-keyscan -p "$SSH_PORT" -t ed25519 127.0.0.1 2>/dev/null >"$SB/known_hosts"
  [ -s "$SB/known_hosts" ] || die "ssh-keyscan got no host key from 127.0.0.1:$SSH_PORT"
  log "up: builder=unix://$SB/builder.sock remote=deployer@127.0.0.1:$SSH_PORT nginx=127.0.0.1:$NGINX_PORT"
}

env_() {
  cat <<ENV
export BGSB_DIR=$SB
export BGSB_BUILDER_DOCKER_HOST=unix://$SB/builder.sock
export BGSB_REMOTE_DOCKER_HOST=unix://$SB/remote.sock
export BGSB_SSH_HOST=127.0.0.1
export BGSB_SSH_PORT=$SSH_PORT
export BGSB_SSH_USER=$USER_NAME
export BGSB_SSH_KEY_FILE=$SB/deployer_key
export BGSB_KNOWN_HOSTS_FILE=$SB/known_hosts
export BGSB_NGINX_PORT=$NGINX_PORT
export BGSB_NGINX_DIR=$NGX
export BGSB_BASE_IMAGE=$BASE_IMAGE
export BGSB_BIN=$SB/bin
export BGSB_SMALL_PORT=$SMALL_PORT
export BGSB_SMALL_DOCKER_HOST=unix://$SB/small.sock
export BGSB_SMALL_KNOWN_HOSTS_FILE=$SB/small_known_hosts
export BGSB_SMALL_DIR=$SB/small
ENV
}

# unmount_under PREFIX...: unmount every mount below the prefixes, deepest first (lazily if busy).
# awk, not grep: no mount left is not a failure under pipefail.
unmount_under() {
  awk -v prefixes="$*" 'BEGIN { n = split(prefixes, p, " ") }
    { for (i = 1; i <= n; i++) if (index($2, p[i]) == 1) { print $2; next } }' /proc/mounts |
    sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
}

# A "small host": a third dockerd whose data-root is a ~1 GB ext4 filesystem in a loop-mounted
# file, reached over SSH exactly like the sandbox host (sshd on its own port, same deployer).
SMALL_SIZE=${BGSB_SMALL_SIZE:-1G}
SMALL_PORT=${BGSB_SMALL_PORT:-2223}
small_up() {
  need_root
  [ -f "$SB/sshd_config" ] || up
  mkdir -p "$SB/small"
  if ! mountpoint -q "$SB/small"; then
    rm -f "$SB/small.img"
    truncate -s "$SMALL_SIZE" "$SB/small.img"
    mkfs.ext4 -q -F "$SB/small.img"
    mount -o loop "$SB/small.img" "$SB/small"
    # The deploy user reads free space with df on the Docker root, as on a real host.
    chmod 755 "$SB/small"
  fi
  DATA_ROOT=$SB/small/docker start_dockerd small --group "$USER_NAME"
  chmod 755 "$SB/small/docker" 2>/dev/null || true
  sed -e "s|^Port .*|Port $SMALL_PORT|" -e "s|^PidFile .*|PidFile $SB/small-sshd.pid|" \
      -e "s|DOCKER_HOST=unix://$SB/remote.sock|DOCKER_HOST=unix://$SB/small.sock|" "$SB/sshd_config" >"$SB/small-sshd_config"
  if ! alive "$SB/small-sshd.pid"; then
    /usr/sbin/sshd -f "$SB/small-sshd_config" -E "$SB/small-sshd.log"
    for _ in $(seq 1 40); do alive "$SB/small-sshd.pid" && break; sleep 0.25; done
  fi
  ssh-keyscan -p "$SMALL_PORT" -t ed25519 127.0.0.1 2>/dev/null >"$SB/small_known_hosts"
  [ -s "$SB/small_known_hosts" ] || die "no sshd answering on 127.0.0.1:$SMALL_PORT"
}

# Back to an empty small host: stop its daemon, wipe the filesystem, start again.
small_reset() {
  need_root
  stop_dockerd small
  # A container that outlived its daemon (its shim still running) keeps an overlay mount busy:
  # kill what still runs under the small daemon's exec root and unmount what it left.
  pkill -9 -f -- "$SB/small-exec" || true
  unmount_under "$SB/small/" "$SB/small-exec/"
  if mountpoint -q "$SB/small" && ! rm -rf "${SB:?}/small/docker" 2>/dev/null; then
    # Still busy: drop the whole filesystem (lazily) and let small_up make a fresh one.
    umount -l "$SB/small" || true
  fi
  small_up
}

down() {
  need_root
  if alive "$NGX/nginx.pid"; then kill "$(cat "$NGX/nginx.pid")" || true; fi
  for p in sshd small-sshd; do if alive "$SB/$p.pid"; then kill "$(cat "$SB/$p.pid")" || true; fi; done
  for p in bench-sshd; do if alive "$SB/$p.pid"; then kill "$(cat "$SB/$p.pid")" || true; fi; done
  for name in remote builder small bench; do stop_dockerd "$name"; done
  if [ "${1:-}" = "--purge" ]; then
    # dockerd leaves its netns mounts (and the small host its loop mount) behind: unmount, then delete.
    unmount_under "$SB/"
    rm -rf "$SB"
  fi
}

case "${1:-}" in
  up) up ;;
  env) env_ ;;
  down) shift; down "$@" ;;
  site) shift; site "$@" ;;
  small-up) small_up ;;
  small-reset) small_reset ;;
  *) echo "usage: $0 up|env|down [--purge]" >&2; exit 2 ;;
esac
