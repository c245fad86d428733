#!/usr/bin/env bash
# Install (if missing) and run Natter's test infrastructure on loopback, without Docker.
#
#   scripts/engines.sh up     [engine...]   install what is missing, start, wait until each answers
#   scripts/engines.sh down   [engine...]   stop (SIGTERM, wait, SIGKILL) and delete runtime data
#   scripts/engines.sh status [engine...]   show state; exit 0 only if every engine asked for answers
#   scripts/engines.sh env                  print `export NATTER_...=` lines: eval "$(scripts/engines.sh env)"
#   scripts/engines.sh verify [engine...]   client smoke tests (kafkajs, mongodb driver, ES REST) against running engines
#   scripts/engines.sh clean                `down` everything and delete the download/build cache
#
# Engines: redis kafka elasticsearch ferretdb (default: all). See docs/engines.md.
#
# Downloads and builds go to ${NATTER_ENGINES_HOME:-$HOME/.cache/natter-engines} (reused by later runs);
# runtime data, pid files and logs go to ${NATTER_ENGINES_RUN:-/tmp/natter-engines} ($RUN/logs/<engine>.log).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: no '&' expansion in ${var//pat/rep}

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$SCRIPT_DIR/engines"

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }
CACHE="$(abspath "${NATTER_ENGINES_HOME:-$HOME/.cache/natter-engines}")"
RUN="$(abspath "${NATTER_ENGINES_RUN:-/tmp/natter-engines}")"

HOST=127.0.0.1
REDIS_PORT="${NATTER_REDIS_PORT:-6390}"
KAFKA_PORT="${NATTER_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${NATTER_KAFKA_CONTROLLER_PORT:-9093}"
ES_PORT="${NATTER_ELASTICSEARCH_PORT:-9200}"
ES_TRANSPORT_PORT="${NATTER_ELASTICSEARCH_TRANSPORT_PORT:-9300}"
FERRETDB_PORT="${NATTER_FERRETDB_PORT:-${NATTER_MONGODB_PORT:-27017}}"

KAFKA_VERSION="${NATTER_KAFKA_VERSION:-4.1.1}"
ES_VERSION="${NATTER_ELASTICSEARCH_VERSION:-8.19.21}"
KAFKA_HEAP="${NATTER_KAFKA_HEAP:-512m}"
ES_HEAP="${NATTER_ELASTICSEARCH_HEAP:-512m}"
ES_USER="${NATTER_ELASTICSEARCH_USER:-natter-es}" # only used when running as root
MAVEN_REPO_URL="${NATTER_MAVEN_REPO_URL:-https://repo1.maven.org/maven2}"
START_TIMEOUT="${NATTER_ENGINES_TIMEOUT:-180}"     # seconds per engine to become ready
STOP_TIMEOUT="${NATTER_ENGINES_STOP_TIMEOUT:-30}"  # seconds between SIGTERM and SIGKILL
MAVEN_DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
MIN_GO=1.22

ALL_ENGINES=(redis kafka elasticsearch ferretdb)

# ---------------------------------------------------------------------------------------------
# helpers

log() { printf '[engines %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  printf '[engines] ERROR: %s\n' "$*" >&2
  exit 1
}

# render TEMPLATE OUT KEY=VALUE... : replace @KEY@ with VALUE
render() {
  local tpl=$1 out=$2 content kv
  shift 2
  content=$(<"$tpl")
  for kv in "$@"; do content=${content//@${kv%%=*}@/${kv#*=}}; done
  printf '%s\n' "$content" >"$out"
}

# pid_alive PID [MARKER]: process exists, is not a zombie, and its command line contains MARKER
pid_alive() {
  local pid=$1 marker=${2:-} state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state && $state != Z && $state != X ]] || return 1
  [[ -z $marker ]] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# shellcheck disable=SC2016 # $1/$2 expand in the inner bash
port_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" 2>/dev/null; }

# require_port_free ENGINE PORT VAR
require_port_free() {
  if port_open "$2"; then
    die "$1: $HOST:$2 is already in use by a process that engines.sh did not start" \
      "(see: ss -ltnp 'sport = :$2'). Stop it, or pick another port with $3=..."
  fi
}

engine_log() { printf '%s/logs/%s.log\n' "$RUN" "$1"; }
pid_file() { printf '%s/pids/%s.pid\n' "$RUN" "$1"; }

marker_of() {
  case $1 in
  redis) echo redis-server ;;
  kafka) echo kafka.Kafka ;;
  elasticsearch) echo org.elasticsearch ;;
  ferretdb) echo ferretdb-natter ;;
  esac
}

# engine_pids ENGINE: live pids, main process first (for elasticsearch: server JVM, then CLI launcher)
engine_pids() {
  local e=$1 f pid out=()
  local files=("$(pid_file "$e")")
  [[ $e != elasticsearch ]] || files=("$RUN/elasticsearch/run/server.pid" "${files[@]}")
  for f in "${files[@]}"; do
    [[ -r $f ]] || continue
    pid=$(tr -dc '0-9' <"$f")
    if pid_alive "$pid" "$(marker_of "$e")"; then out+=("$pid"); fi
  done
  echo "${out[*]}"
}
is_running() { [[ -n $(engine_pids "$1") ]]; }
# launched_alive ENGINE: the process we launched still exists (no command-line check: right after
# the launch it may still be exec'ing through setsid/setpriv/env/launcher scripts)
launched_alive() {
  local f
  f=$(pid_file "$1")
  [[ -r $f ]] && pid_alive "$(tr -dc '0-9' <"$f")"
}

fail_engine() { # ENGINE MESSAGE
  local lf
  lf=$(engine_log "$1")
  printf '[engines] ERROR: %s: %s\n' "$1" "$2" >&2
  if [[ -s $lf ]]; then
    printf -- '---- last 40 lines of %s ----\n' "$lf" >&2
    tail -n 40 "$lf" >&2
    printf -- '---- end of %s ----\n' "$lf" >&2
  fi
  printf '[engines] the engine was left as is for inspection; "%s down %s" cleans up.\n' "$0" "$1" >&2
  exit 1
}

LOCK_FDS=()
with_lock() { # LOCKFILE TIMEOUT CMD...: run CMD while holding an exclusive flock
  local lf=$1 to=$2 fd
  shift 2
  mkdir -p "$(dirname "$lf")"
  exec {fd}>"$lf"
  flock -w "$to" "$fd" || die "could not lock $lf within ${to}s (another engines.sh running?)"
  LOCK_FDS+=("$fd")
  "$@"
  unset 'LOCK_FDS[-1]'
  exec {fd}>&-
}

# spawn DIR LOGFILE CMD...: run CMD detached (own session, lock fds closed) in DIR,
# appending stdout/stderr to LOGFILE; sets SPAWNED_PID (the pid of CMD itself: setsid
# does not fork because the subshell is not a process group leader).
SPAWNED_PID=
spawn() {
  local dir=$1 lf=$2
  shift 2
  (
    for fd in "${LOCK_FDS[@]}"; do eval "exec $fd>&-"; done
    cd "$dir"
    exec setsid "$@" >>"$lf" 2>&1 </dev/null
  ) &
  SPAWNED_PID=$!
}

parse_engines() { # sets ENGINES from args (default: all)
  ENGINES=()
  local e ok
  [[ $# -gt 0 ]] || set -- "${ALL_ENGINES[@]}"
  for e in "$@"; do
    ok=0
    for a in "${ALL_ENGINES[@]}"; do [[ $e == "$a" ]] && ok=1; done
    [[ $ok == 1 ]] || die "unknown engine '$e' (known: ${ALL_ENGINES[*]})"
    ENGINES+=("$e")
  done
}

has_engine() { # NAME: is NAME in ENGINES
  local e
  for e in "${ENGINES[@]}"; do [[ $e == "$1" ]] && return 0; done
  return 1
}

# ---------------------------------------------------------------------------------------------
# prerequisites

APT_UPDATED=0
apt_install() {
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: $*"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || die "apt-get not found; install manually: $*"
  if [[ $APT_UPDATED == 0 ]]; then
    log "apt-get update"
    "${sudo[@]}" apt-get update -qq >&2
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >&2
}

JAVA=
JAVA_HOME_DETECTED=
detect_java() {
  [[ -z $JAVA ]] || return 0
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    JAVA="$JAVA_HOME/bin/java"
  else
    JAVA=$(command -v java || true)
  fi
  [[ -n $JAVA ]] || return 1
  JAVA=$(readlink -f "$JAVA")
  JAVA_HOME_DETECTED=$(dirname "$(dirname "$JAVA")")
  local spec
  spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  [[ ${spec%%.*} =~ ^[0-9]+$ && ${spec%%.*} -ge 17 ]] || die "Java >= 17 required (found '$spec' at $JAVA)"
}

go_ok() {
  command -v go >/dev/null || return 1
  local v
  v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  printf '%s\n%s\n' "$MIN_GO" "$v" | sort -V -C
}

ensure_prereqs() { # engines...
  local pkgs=() e
  for e; do
    case $e in
    redis) command -v redis-server >/dev/null && command -v redis-cli >/dev/null || pkgs+=(redis-server redis-tools) ;;
    kafka | elasticsearch)
      detect_java || pkgs+=(openjdk-17-jre-headless)
      if [[ $e == kafka ]] && ! kafka_installed; then command -v mvn >/dev/null || pkgs+=(maven); fi
      if [[ $e == elasticsearch ]] && ! es_installed; then
        command -v unzip >/dev/null || pkgs+=(unzip)
        command -v curl >/dev/null || pkgs+=(curl ca-certificates)
      fi
      ;;
    ferretdb)
      if ! ferretdb_installed && ! go_ok; then
        die "ferretdb: building it needs Go >= $MIN_GO on PATH (found: $(go version 2>/dev/null || echo none))"
      fi
      ;;
    esac
  done
  if [[ ${#pkgs[@]} -gt 0 ]]; then
    # shellcheck disable=SC2207
    pkgs=($(printf '%s\n' "${pkgs[@]}" | sort -u))
    apt_install "${pkgs[@]}"
  fi
  for e; do
    [[ $e == kafka || $e == elasticsearch ]] && { detect_java || die "java not found after install"; }
  done
  return 0
}

# ---------------------------------------------------------------------------------------------
# installation (into $CACHE)

kafka_dir() { printf '%s/kafka-%s\n' "$CACHE" "$KAFKA_VERSION"; }
kafka_installed() { [[ -f $(kafka_dir)/.complete ]]; }
install_kafka() {
  local d tmp
  d=$(kafka_dir)
  tmp="$d.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  render "$SRC/kafka/pom.xml.in" "$tmp/pom.xml" KAFKA_VERSION="$KAFKA_VERSION"
  (cd "$tmp" && mvn -B -ntp -Dmaven.repo.local="$CACHE/m2" "$MAVEN_DEP_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory=jars)
  [[ -f $tmp/jars/kafka_2.13-$KAFKA_VERSION.jar ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  touch "$tmp/.complete"
  rm -rf "$d"
  mv "$tmp" "$d"
  echo "kafka $KAFKA_VERSION: $(find "$d/jars" -name '*.jar' | wc -l) jars in $d/jars"
}

es_dir() { printf '%s/elasticsearch-%s\n' "$CACHE" "$ES_VERSION"; }
es_installed() { [[ -f $(es_dir)/.complete ]]; }
install_elasticsearch() {
  local d tmp zip url want got
  d=$(es_dir)
  tmp="$d.tmp"
  zip="$CACHE/downloads/elasticsearch-integ-test-zip-$ES_VERSION.zip"
  url="$MAVEN_REPO_URL/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip"
  mkdir -p "$CACHE/downloads"
  echo "downloading $url"
  curl -fsSL --retry 3 --retry-delay 2 -o "$zip.part" "$url"
  want=$(curl -fsSL --retry 3 "$url.sha1" | awk '{print $1}')
  got=$(sha1sum "$zip.part" | awk '{print $1}')
  [[ -n $want && $want == "$got" ]] || die "sha1 mismatch for $url (want '$want', got '$got')"
  mv "$zip.part" "$zip"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  unzip -q "$zip" -d "$tmp"
  [[ -x $tmp/elasticsearch-$ES_VERSION/bin/elasticsearch ]] || die "unexpected zip layout in $zip"
  chmod -R a+rX "$tmp"
  rm -rf "$d"
  mv "$tmp/elasticsearch-$ES_VERSION" "$d"
  rm -rf "$tmp" "$zip"
  touch "$d/.complete"
  echo "elasticsearch $ES_VERSION unpacked in $d"
}

ferretdb_bin() { printf '%s/bin/ferretdb-natter\n' "$CACHE"; }
ferretdb_stamp() { cat "$SRC/ferretdb/go.mod" "$SRC/ferretdb/go.sum" "$SRC/ferretdb/main.go" | sha256sum | cut -c1-16; }
ferretdb_installed() {
  local b
  b=$(ferretdb_bin)
  [[ -x $b && -f $b.stamp && "$(<"$b.stamp")" == "$(ferretdb_stamp)" ]]
}
install_ferretdb() {
  local src="$CACHE/ferretdb-src" bin
  bin=$(ferretdb_bin)
  rm -rf "$src"
  mkdir -p "$src" "$(dirname "$bin")"
  cp "$SRC/ferretdb/go.mod" "$SRC/ferretdb/go.sum" "$SRC/ferretdb/main.go" "$src/"
  go version
  # Self-contained module/build caches; go.sum pins every module; no toolchain downloads.
  (cd "$src" && GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/cache" GOFLAGS="-mod=readonly -buildvcs=false" \
    GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" .)
  mv "$bin.tmp" "$bin"
  ferretdb_stamp >"$bin.stamp"
  rm -rf "$CACHE/go/cache" # ~300 MB of build cache; only needed again if the wrapper sources change
  echo "built $bin"
}

install_missing() { # engines...
  local e need=()
  declare -A pids=() t0=()
  for e; do
    case $e in
    kafka) kafka_installed || need+=(kafka) ;;
    elasticsearch) es_installed || need+=(elasticsearch) ;;
    ferretdb) ferretdb_installed || need+=(ferretdb) ;;
    esac
  done
  [[ ${#need[@]} -gt 0 ]] || return 0
  mkdir -p "$RUN/logs" "$CACHE"
  # Installs run in parallel (Maven download, ES download, Go build).
  for e in "${need[@]}"; do
    log "$e: installing into $CACHE (log: $RUN/logs/install-$e.log)"
    t0[$e]=$SECONDS
    (
      s0=$SECONDS
      "install_$e"
      echo "$((SECONDS - s0))" >"$RUN/logs/.install-$e.seconds"
    ) >"$RUN/logs/install-$e.log" 2>&1 &
    pids[$e]=$!
  done
  local failed=()
  for e in "${need[@]}"; do
    if wait "${pids[$e]}"; then
      log "$e: installed in $(cat "$RUN/logs/.install-$e.seconds" 2>/dev/null || echo "$((SECONDS - t0[$e]))")s"
      rm -f "$RUN/logs/.install-$e.seconds"
    else
      failed+=("$e")
      printf '[engines] ERROR: installing %s failed; last lines of %s:\n' "$e" "$RUN/logs/install-$e.log" >&2
      tail -n 30 "$RUN/logs/install-$e.log" >&2
    fi
  done
  [[ ${#failed[@]} -eq 0 ]] || die "installation failed: ${failed[*]}"
}

# ---------------------------------------------------------------------------------------------
# readiness probes

ready_redis() { [[ "$(timeout 5 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

ready_kafka() {
  port_open "$KAFKA_PORT" || return 1
  local lf
  lf=$(engine_log kafka)
  # Cheap gate first: every probe below costs a JVM start, which slows the other engines' startup.
  if [[ -f $lf ]] && ! grep -q 'Kafka Server started' "$lf"; then return 1; fi
  detect_java || return 1
  local cls=org.apache.kafka.tools.BrokerApiVersionsCommand
  [[ $KAFKA_VERSION != 3.* ]] || cls=kafka.admin.BrokerApiVersionsCommand
  # Admin-client round trip: bootstrap metadata + ApiVersions from the broker.
  timeout 30 "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
    -cp "$(kafka_dir)/jars/*" "$cls" --bootstrap-server "$HOST:$KAFKA_PORT" 2>/dev/null |
    grep -q 'ApiVersions(18)'
}

ready_elasticsearch() {
  curl -fsS -m 10 "http://$HOST:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=3s" 2>/dev/null |
    grep -Eq '"status":"(green|yellow)"'
}

# MongoDB wire protocol: OP_MSG {hello: 1, $db: "admin"}, expect a hello reply.
# shellcheck disable=SC2016 # $1/$2 expand in the inner bash
ready_ferretdb() {
  port_open "$FERRETDB_PORT" || return 1
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1f\x00\x00\x00\x10hello\x00\x01\x00\x00\x00\x02\$db\x00\x06\x00\x00\x00admin\x00\x00" >&3
    dd bs=65536 count=1 status=none <&3
  ' _ "$HOST" "$FERRETDB_PORT" 2>/dev/null | tr -d '\0' | grep -aq isWritablePrimary
}

# ---------------------------------------------------------------------------------------------
# start

prepare_run_dir() { # ENGINE: fresh data dir, rotate the log
  local e=$1 lf
  lf=$(engine_log "$e")
  rm -rf "${RUN:?}/$e"
  mkdir -p "$RUN/$e" "$RUN/logs" "$RUN/pids"
  chmod 755 "$RUN" "$RUN/$e"
  rm -f "$(pid_file "$e")"
  [[ ! -f $lf ]] || mv -f "$lf" "$lf.prev"
  printf '==== %s: started by engines.sh at %s ====\n' "$e" "$(date -Is)" >"$lf"
}

start_redis() {
  require_port_free redis "$REDIS_PORT" NATTER_REDIS_PORT
  prepare_run_dir redis
  mkdir -p "$RUN/redis/data"
  render "$SRC/redis/redis.conf.in" "$RUN/redis/redis.conf" HOST="$HOST" PORT="$REDIS_PORT" \
    PID_FILE="$(pid_file redis)" LOG_FILE="$(engine_log redis)" DATA_DIR="$RUN/redis/data"
  # daemonizes itself (pid file written by redis)
  spawn "$RUN/redis" "$(engine_log redis)" redis-server "$RUN/redis/redis.conf"
  wait "$SPAWNED_PID" || fail_engine redis "redis-server failed to start"
  local _
  for _ in $(seq 50); do [[ -s $(pid_file redis) ]] && break; sleep 0.1; done
}

kafka_cluster_id() { # 16 random bytes, base64url without padding, not starting with '-'
  local id
  while :; do
    id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* ]] || break
  done
  echo "$id"
}

start_kafka() {
  require_port_free kafka "$KAFKA_PORT" NATTER_KAFKA_PORT
  require_port_free kafka "$KAFKA_CONTROLLER_PORT" NATTER_KAFKA_CONTROLLER_PORT
  prepare_run_dir kafka
  local d lf props
  d=$(kafka_dir)
  lf=$(engine_log kafka)
  props="$RUN/kafka/server.properties"
  mkdir -p "$RUN/kafka/data"
  render "$SRC/kafka/server.properties.in" "$props" HOST="$HOST" PORT="$KAFKA_PORT" \
    CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" DATA_DIR="$RUN/kafka/data"
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$d/jars/*" \
    kafka.tools.StorageTool format -t "$(kafka_cluster_id)" -c "$props" >>"$lf" 2>&1 ||
    fail_engine kafka "kafka-storage format failed"
  spawn "$RUN/kafka" "$lf" "$JAVA" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info -Dorg.slf4j.simpleLogger.showDateTime=true \
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS" \
    -cp "$d/jars/*" kafka.Kafka "$props"
  echo "$SPAWNED_PID" >"$(pid_file kafka)"
}

start_elasticsearch() {
  require_port_free elasticsearch "$ES_PORT" NATTER_ELASTICSEARCH_PORT
  require_port_free elasticsearch "$ES_TRANSPORT_PORT" NATTER_ELASTICSEARCH_TRANSPORT_PORT
  prepare_run_dir elasticsearch
  local base="$RUN/elasticsearch" home conf lf as_user=()
  home="$base/home"
  conf="$base/config"
  lf=$(engine_log elasticsearch)
  # Per-run ES_HOME: hard links into the cache (cheap), so the ES user never needs access to $CACHE.
  cp -al "$(es_dir)" "$home" 2>/dev/null || { rm -rf "$home" && cp -a "$(es_dir)" "$home"; }
  cp -r "$home/config" "$conf"
  render "$SRC/elasticsearch/elasticsearch.yml.in" "$conf/elasticsearch.yml" HOST="$HOST" PORT="$ES_PORT" \
    TRANSPORT_PORT="$ES_TRANSPORT_PORT" DATA_DIR="$base/data" LOGS_DIR="$base/logs"
  sed -i '/^-Xlog:/d' "$conf/jvm.options" # no gc.log files in the working directory
  mkdir -p "$base/data" "$base/logs" "$base/tmp" "$base/run"
  if [[ $EUID -eq 0 ]]; then
    # Elasticsearch refuses to run as root.
    if ! id -u "$ES_USER" >/dev/null 2>&1; then
      log "elasticsearch: creating system user $ES_USER"
      useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER"
    fi
    chown -R "$ES_USER:" "$base/data" "$base/logs" "$base/tmp" "$base/run" "$conf"
    if command -v setpriv >/dev/null; then
      as_user=(setpriv "--reuid=$ES_USER" "--regid=$ES_USER" --init-groups --)
    else
      as_user=(runuser -u "$ES_USER" --)
    fi
    "${as_user[@]}" test -r "$home/bin/elasticsearch" ||
      die "elasticsearch: user $ES_USER cannot read $home; put NATTER_ENGINES_RUN somewhere world-traversable"
  fi
  # pid file: the CLI launcher JVM; $base/run/server.pid (written by ES): the server JVM.
  spawn "$base" "$lf" "${as_user[@]}" env -u JAVA_HOME HOME="$base/tmp" ES_JAVA_HOME="$JAVA_HOME_DETECTED" \
    ES_PATH_CONF="$conf" ES_TMPDIR="$base/tmp" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
    "$home/bin/elasticsearch" -p "$base/run/server.pid"
  echo "$SPAWNED_PID" >"$(pid_file elasticsearch)"
}

start_ferretdb() {
  require_port_free ferretdb "$FERRETDB_PORT" NATTER_FERRETDB_PORT
  prepare_run_dir ferretdb
  mkdir -p "$RUN/ferretdb/data"
  spawn "$RUN/ferretdb" "$(engine_log ferretdb)" \
    "$(ferretdb_bin)" -listen-addr "$HOST:$FERRETDB_PORT" -sqlite-dir "$RUN/ferretdb/data"
  echo "$SPAWNED_PID" >"$(pid_file ferretdb)"
}

# wait_ready ENGINE...: poll all engines until each answers; uses t0[ENGINE] (start time) from the caller
wait_ready() {
  local pending=("$@") still e
  while [[ ${#pending[@]} -gt 0 ]]; do
    still=()
    for e in "${pending[@]}"; do
      if "ready_$e"; then
        log "$e: ready after $((SECONDS - t0[$e]))s ($(endpoint_of "$e"))"
      elif ! launched_alive "$e"; then
        fail_engine "$e" "process exited before it became ready"
      elif ((SECONDS - t0[$e] >= START_TIMEOUT)); then
        fail_engine "$e" "not ready after ${START_TIMEOUT}s (NATTER_ENGINES_TIMEOUT)"
      else
        still+=("$e")
      fi
    done
    pending=("${still[@]}")
    [[ ${#pending[@]} -eq 0 ]] || sleep 1
  done
}

cmd_up() {
  parse_engines "$@"
  local t_all=$SECONDS e
  ensure_prereqs "${ENGINES[@]}"
  with_lock "$CACHE/.install.lock" 3600 install_missing "${ENGINES[@]}"
  mkdir -p "$RUN"
  with_lock "$RUN/.lock" 600 up_locked
  log "all ready in $((SECONDS - t_all))s: ${ENGINES[*]}"
  cmd_env_for "${ENGINES[@]}" >&2
}

up_locked() {
  local e
  declare -A t0=()
  # Slowest first, so the waits overlap.
  for e in elasticsearch kafka ferretdb redis; do
    has_engine "$e" || continue
    t0[$e]=$SECONDS
    if is_running "$e"; then
      log "$e: already running (pid $(engine_pids "$e")), leaving it alone"
    else
      log "$e: starting (log: $(engine_log "$e"))"
      "start_$e"
    fi
  done
  local order=()
  for e in redis ferretdb kafka elasticsearch; do has_engine "$e" && order+=("$e"); done
  wait_ready "${order[@]}"
}

# ---------------------------------------------------------------------------------------------
# stop

stop_engine() {
  local e=$1 pids first rest deadline p
  read -r -a pids <<<"$(engine_pids "$e")"
  if [[ ${#pids[@]} -eq 0 ]]; then
    log "$e: not running"
  else
    first=${pids[0]}
    rest=("${pids[@]:1}")
    log "$e: stopping (SIGTERM pid ${pids[*]})"
    deadline=$((SECONDS + STOP_TIMEOUT))
    # Main process first (for ES the server JVM; its CLI launcher exits after it).
    kill -TERM "$first" 2>/dev/null || true
    while pid_alive "$first" && ((SECONDS < deadline)); do sleep 0.2; done
    for p in "${rest[@]}"; do
      for _ in 1 2 3 4 5 6 7 8 9 10; do pid_alive "$p" || break; sleep 0.2; done
      ! pid_alive "$p" || kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
      while pid_alive "$p" && ((SECONDS < deadline)); do sleep 0.2; done
      if pid_alive "$p"; then
        log "$e: pid $p still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$p" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do pid_alive "$p" || break; sleep 0.2; done
      fi
    done
    log "$e: stopped"
  fi
  rm -rf "${RUN:?}/$e"
  rm -f "$(pid_file "$e")"
}

cmd_down() {
  parse_engines "$@"
  [[ -d $RUN ]] || { log "nothing to stop ($RUN does not exist)"; return 0; }
  with_lock "$RUN/.lock" 600 down_locked
}
down_locked() {
  local e
  for e in ferretdb redis kafka elasticsearch; do has_engine "$e" && stop_engine "$e"; done
  return 0
}

# ---------------------------------------------------------------------------------------------
# status / env / verify / clean

endpoint_of() {
  case $1 in
  redis) echo "redis://$HOST:$REDIS_PORT" ;;
  kafka) echo "$HOST:$KAFKA_PORT" ;;
  elasticsearch) echo "http://$HOST:$ES_PORT" ;;
  ferretdb) echo "mongodb://$HOST:$FERRETDB_PORT/" ;;
  esac
}

version_of() {
  case $1 in
  redis) redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p' || true ;;
  kafka) echo "$KAFKA_VERSION" ;;
  elasticsearch) echo "$ES_VERSION" ;;
  ferretdb) sed -n 's/^require github.com\/FerretDB\/FerretDB \(v[^ ]*\).*/\1/p' "$SRC/ferretdb/go.mod" ;;
  esac
}

cmd_status() {
  parse_engines "$@"
  local e state pids rc=0
  [[ ${ENGINES[*]} != *kafka* ]] || detect_java || true
  printf '%-14s %-9s %-16s %-32s %s\n' ENGINE STATE PID ENDPOINT LOG
  for e in "${ENGINES[@]}"; do
    pids=$(engine_pids "$e")
    if [[ -z $pids ]]; then
      state=stopped
      rc=3
    elif "ready_$e"; then
      state=ready
    else
      state=starting
      rc=3
    fi
    printf '%-14s %-9s %-16s %-32s %s\n' "$e" "$state" "${pids:--}" "$(endpoint_of "$e")" "$(engine_log "$e")"
  done
  printf '\ncache: %s  run: %s  versions: redis %s, kafka %s, elasticsearch %s, ferretdb %s\n' "$CACHE" "$RUN" \
    "$(version_of redis)" "$KAFKA_VERSION" "$ES_VERSION" "$(version_of ferretdb)"
  return "$rc"
}

cmd_env_for() {
  local e
  for e; do
    case $e in
    redis) echo "export NATTER_REDIS_URL=redis://$HOST:$REDIS_PORT" ;;
    kafka) echo "export NATTER_KAFKA_BROKERS=$HOST:$KAFKA_PORT" ;;
    elasticsearch) echo "export NATTER_ELASTICSEARCH_URL=http://$HOST:$ES_PORT" ;;
    ferretdb) echo "export NATTER_MONGODB_URL=mongodb://$HOST:$FERRETDB_PORT/" ;;
    esac
  done
}
cmd_env() { cmd_env_for "${ALL_ENGINES[@]}"; }

cmd_verify() {
  parse_engines "$@"
  local dir="$CACHE/verify-node" e rc=0
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then die "verify needs node and npm"; fi
  if has_engine kafka || has_engine ferretdb; then
    mkdir -p "$dir"
    if ! cmp -s "$SRC/verify/package.json" "$dir/package.json" || [[ ! -d $dir/node_modules ]]; then
      cp "$SRC/verify/package.json" "$dir/package.json"
      log "verify: npm install (kafkajs, mongodb) into $dir"
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
    fi
  fi
  eval "$(cmd_env)"
  export NATTER_REDIS_URL NATTER_KAFKA_BROKERS NATTER_ELASTICSEARCH_URL NATTER_MONGODB_URL
  for e in "${ENGINES[@]}"; do
    log "verify: $e"
    case $e in
    redis)
      if [[ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" set natter:verify ok)" == OK &&
        "$(redis-cli -h "$HOST" -p "$REDIS_PORT" get natter:verify)" == ok ]]; then
        echo "redis: SET/GET ok ($(redis-cli -h "$HOST" -p "$REDIS_PORT" info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p'))"
      else rc=1; fi
      ;;
    kafka) NODE_PATH="$dir/node_modules" KAFKAJS_NO_PARTITIONER_WARNING=1 node "$SRC/verify/kafkajs.js" || rc=1 ;;
    elasticsearch) bash "$SRC/verify/elasticsearch.sh" || rc=1 ;;
    ferretdb) NODE_PATH="$dir/node_modules" node "$SRC/verify/mongodb.js" || rc=1 ;;
    esac
  done
  return "$rc"
}

cmd_clean() {
  cmd_down
  if [[ -d $CACHE ]]; then
    log "removing $CACHE"
    chmod -R u+w "$CACHE" 2>/dev/null || true # Go's module cache is read-only
    rm -rf "$CACHE"
  fi
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-help}
  [[ $# -eq 0 ]] || shift
  case $cmd in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  env) cmd_env ;;
  verify) cmd_verify "$@" ;;
  clean) cmd_clean ;;
  help | -h | --help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
