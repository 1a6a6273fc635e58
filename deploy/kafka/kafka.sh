#!/usr/bin/env bash
# Local Apache Kafka (single node, KRaft) from its Maven Central jars; no Docker engine needed.
#   kafka.sh fetch | start | stop | status | wait
# Jars are cached outside git (RELAIS_CACHE_DIR, default ~/.cache/relais); data lives in RELAIS_VAR_DIR/kafka and
# survives restarts (topics and committed offsets are kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${RELAIS_CACHE_DIR:-$HOME/.cache/relais}
var=${RELAIS_VAR_DIR:-$root/var}
port=${RELAIS_KAFKA_PORT:-19092}
controller_port=${RELAIS_KAFKA_CONTROLLER_PORT:-19093}
state="$var/kafka"
libs="$cache/kafka-libs"
pidfile="$state/kafka.pid"

fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v java >/dev/null || { echo "kafka.sh: java (17+) is required" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "kafka.sh: maven is required to fetch the Kafka jars" >&2; exit 1; }
  echo "kafka.sh: fetching Kafka jars from Maven Central into $libs" >&2
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >&2
  touch "$libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

ready() {
  # A metadata request, not a bare TCP connect: the port opens before the broker can serve clients.
  java -cp "$libs/*" org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$port" \
    >/dev/null 2>&1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready() {
  for _ in $(seq 1 120); do
    # Our process first: a broker of another checkout on the same port would answer the probe too.
    running || { echo "kafka.sh: broker exited; see $state/logs/server.log" >&2; tail -20 "$state/logs/server.log" >&2 || true; exit 1; }
    if ready; then return 0; fi
    sleep 0.5
  done
  echo "kafka.sh: broker not ready after 60 s; see $state/logs/server.log" >&2; exit 1
}

start() {
  fetch
  if running; then wait_ready; echo "kafka: running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return 0; fi
  for p in "$port" "$controller_port"; do
    if port_taken "$p"; then
      echo "kafka.sh: port $p is already used by another process (another checkout's broker?); set RELAIS_KAFKA_PORT / RELAIS_KAFKA_CONTROLLER_PORT" >&2
      exit 1
    fi
  done
  mkdir -p "$state/data" "$state/logs"
  sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$controller_port#g" -e "s#@DATA_DIR@#$state/data#g" \
    "$here/server.properties.in" > "$state/server.properties"
  if [ ! -f "$state/data/meta.properties" ]; then
    cluster_id=$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid)
    java -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" >/dev/null
  fi
  nohup java -Xms128m -Xmx${RELAIS_KAFKA_HEAP:-1g} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dkafka.logs.dir="$state/logs" -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >"$state/logs/stdout.log" 2>&1 &
  echo $! > "$pidfile"
  wait_ready
  echo "kafka: running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
}

stop() {
  if running; then
    pid=$(cat "$pidfile"); kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"; echo "kafka: stopped"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  wait) wait_ready ;;
  status) if running && ready; then echo "kafka: running on 127.0.0.1:$port"; else echo "kafka: down"; exit 1; fi ;;
  *) echo "usage: $0 fetch|start|stop|status|wait" >&2; exit 2 ;;
esac
