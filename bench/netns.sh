#!/usr/bin/env bash
# A "remote" behind a real, slow link for the shipping benchmark: a network namespace reached
# through a veth pair shaped to 80 Mbit/s with tc, an sshd inside it for the sandbox's deployer,
# and a dockerd of its own (its unix socket is reachable from both namespaces).
#   netns.sh up | down | env
set -euo pipefail
SB=${BGSB_DIR:-/tmp/bgsb}
NS=bgbench
HOST_IF=bgb-host
NS_IF=bgb-ns
HOST_IP=10.231.77.1
NS_IP=10.231.77.2
RATE=${BENCH_RATE:-80mbit}
PORT=2222

up() {
  [ -d "$SB" ] || { echo "run the sandbox first: bash __tests__/sandbox/sandbox.sh up" >&2; exit 1; }
  if ! ip netns list | grep -qw "$NS"; then
    ip netns add "$NS"
    ip link add "$HOST_IF" type veth peer name "$NS_IF"
    ip link set "$NS_IF" netns "$NS"
    ip addr add "$HOST_IP/24" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    ip netns exec "$NS" ip addr add "$NS_IP/24" dev "$NS_IF"
    ip netns exec "$NS" ip link set "$NS_IF" up
    ip netns exec "$NS" ip link set lo up
    # Both directions shaped: the image goes host → ns, acknowledgements and answers come back.
    tc qdisc add dev "$HOST_IF" root tbf rate "$RATE" burst 64kb latency 50ms
    ip netns exec "$NS" tc qdisc add dev "$NS_IF" root tbf rate "$RATE" burst 64kb latency 50ms
  fi
  # The bench host's own daemon: a clean image store, so what is "on the host" is under control.
  if ! DOCKER_HOST=unix://$SB/bench.sock /usr/bin/docker version >/dev/null 2>&1; then
    mkdir -p "$SB/bench-data" "$SB/bench-exec"
    nohup dockerd -H "unix://$SB/bench.sock" --data-root "$SB/bench-data" --exec-root "$SB/bench-exec" \
      --pidfile "$SB/bench.pid" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
      --group deployer >"$SB/bench.log" 2>&1 &
    for _ in $(seq 1 120); do DOCKER_HOST=unix://$SB/bench.sock /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.25; done
  fi
  sed -e "s|^ListenAddress .*|ListenAddress $NS_IP|" -e "s|^PidFile .*|PidFile $SB/bench-sshd.pid|" \
      -e "s|DOCKER_HOST=unix://$SB/remote.sock|DOCKER_HOST=unix://$SB/bench.sock|" "$SB/sshd_config" >"$SB/bench-sshd_config"
  if ! { [ -f "$SB/bench-sshd.pid" ] && kill -0 "$(cat "$SB/bench-sshd.pid")" 2>/dev/null; }; then
    ip netns exec "$NS" /usr/sbin/sshd -f "$SB/bench-sshd_config" -E "$SB/bench-sshd.log"
    sleep 0.5
  fi
  ssh-keyscan -p "$PORT" -t ed25519 "$NS_IP" 2>/dev/null >"$SB/bench_known_hosts"
  [ -s "$SB/bench_known_hosts" ] || { echo "no sshd answering on $NS_IP:$PORT" >&2; exit 1; }
}

down() {
  [ -f "$SB/bench-sshd.pid" ] && kill "$(cat "$SB/bench-sshd.pid")" 2>/dev/null || true
  [ -f "$SB/bench.pid" ] && kill "$(cat "$SB/bench.pid")" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$HOST_IF" 2>/dev/null || true
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) echo "BENCH_HOST=$NS_IP BENCH_PORT=$PORT BENCH_SOCKET=$SB/bench.sock BENCH_KNOWN_HOSTS=$SB/bench_known_hosts BENCH_RATE=$RATE" ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
