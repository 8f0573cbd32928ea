# shellcheck shell=bash
#
# Throw-away PostgreSQL and Redis instances for Rahat's tests.
#
# Source this file, then:
#   rahat_start_postgres DIR   -> exports RAHAT_TEST_POSTGRES_URL (fsync off unless RAHAT_PG_DURABLE=1)
#   rahat_start_postgres_replica DIR -> a streaming replica of that server (pg_basebackup -R);
#                                 exports RAHAT_TEST_POSTGRES_REPLICA_URL, RAHAT_TEST_POSTGRES_REPLICA_CTL
#   rahat_start_redis DIR      -> exports RAHAT_TEST_REDIS_URL, RAHAT_TEST_REDIS_SERVER
#   rahat_stop_services        -> stops whatever was started here, removes the dirs
#   rahat_wait_ready URL [LOG] [PID] -> waits until a readiness URL answers 2xx
#
# The functions work with or without `set -euo pipefail` in the caller: they
# report failure through their return status and never call `exit`.

# State recorded for teardown (empty = nothing started).
_RAHAT_PG_BIN=""        # directory holding initdb / pg_ctl
_RAHAT_PG_DIR=""        # directory we created for the cluster (removed on stop)
_RAHAT_PG_SOCKDIR=""    # extra socket directory, only when DIR is too long for a socket path
_RAHAT_PG_PID=""        # postmaster pid
_RAHAT_REPLICA_DIR=""   # the replica's directory (removed on stop)
_RAHAT_REDIS_DIR=""
_RAHAT_REDIS_PID=""

rahat__log() {
    printf 'services: %s\n' "$*" >&2
}

rahat__is_root() {
    [ "$(id -u)" -eq 0 ]
}

# rahat__apt_install PKG... : apt-get update + install, quietly.
rahat__apt_install() {
    local sudo=()
    if ! rahat__is_root; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            rahat__log "need to install $* but not root and no sudo"
            return 1
        fi
    fi
    rahat__log "installing $* via apt-get"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || return 1
}

# rahat__free_port : print a TCP port that was free on 127.0.0.1 a moment ago.
# rahat__free_port : prints a TCP port nothing listens on. It is chosen below the kernel's
# ephemeral range (ip_local_port_range), where no outgoing connection of a process started since
# can take it, and never twice in one shell (the ports handed out are kept in RAHAT__PORTS_FILE):
# a script that hands out thirty ports before starting the processes that bind them needs both.
RAHAT__PORTS_FILE=${RAHAT__PORTS_FILE:-${TMPDIR:-/tmp}/rahat-ports-$$}
rahat__free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$RAHAT__PORTS_FILE" <<'PY'
import random, socket, sys
path = sys.argv[1]
low, high = 10000, 32767
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
        high = min(high, int(ranges.read().split()[0]) - 1)
except (OSError, ValueError, IndexError):
    pass
try:
    with open(path) as handed:
        taken = {int(line) for line in handed if line.strip()}
except OSError:
    taken = set()
for _ in range(500):
    port = random.randint(low, high)
    if port in taken:
        continue
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            continue
    with open(path, "a") as handed:
        handed.write(f"{port}\n")
    print(port)
    sys.exit(0)
sys.exit("no free port below the ephemeral range")
PY
        return
    fi
    # Fallback without python3: random high port that nothing answers on.
    local port i
    for i in $(seq 1 50); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
        : "$i"
    done
    return 1
}

# rahat__pg_bin_dir : print the directory holding initdb and pg_ctl, installing if needed.
rahat__pg_bin_dir() {
    local initdb_path pg_ctl_path
    initdb_path=$(command -v initdb 2>/dev/null || true)
    pg_ctl_path=$(command -v pg_ctl 2>/dev/null || true)
    # Followed to where the server's other tools (pg_basebackup) live beside them.
    initdb_path=${initdb_path:+$(readlink -f "$initdb_path")}
    pg_ctl_path=${pg_ctl_path:+$(readlink -f "$pg_ctl_path")}
    if [ -n "$initdb_path" ] && [ -n "$pg_ctl_path" ] \
        && [ "$(dirname "$initdb_path")" = "$(dirname "$pg_ctl_path")" ]; then
        dirname "$initdb_path"
        return 0
    fi
    rahat__pg_bin_from_lib && return 0
    rahat__apt_install postgresql || return 1
    rahat__pg_bin_from_lib && return 0
    rahat__log "PostgreSQL installed but no initdb/pg_ctl found under /usr/lib/postgresql/*/bin"
    return 1
}

# Newest /usr/lib/postgresql/*/bin with both tools.
rahat__pg_bin_from_lib() {
    local d
    for d in $(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -rV); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# rahat__as_pg CMD... : run CMD as the postgres user when we are root, directly otherwise.
rahat__as_pg() {
    if rahat__is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# rahat_start_postgres DIR
rahat_start_postgres() {
    local dir=${1:?usage: rahat_start_postgres DIR}
    if [ -n "$_RAHAT_PG_PID" ]; then
        rahat__log "PostgreSQL already started here (pid $_RAHAT_PG_PID)"
        return 0
    fi

    local bin
    bin=$(rahat__pg_bin_dir) || { rahat__log "no PostgreSQL available"; return 1; }

    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd) || return 1

    if rahat__is_root; then
        if ! id postgres >/dev/null 2>&1; then
            rahat__log "creating system user 'postgres'"
            useradd --system --no-create-home --shell /bin/sh postgres || return 1
        fi
        chown -R postgres:postgres "$dir" || return 1
        if ! runuser -u postgres -- test -w "$dir"; then
            rahat__log "user postgres cannot write $dir (a parent directory is not traversable)"
            return 1
        fi
    fi

    # Unix socket paths are limited to ~107 bytes; fall back to a short dir.
    local sockdir=$dir sockdir_extra=""
    if [ $(( ${#dir} + 20 )) -gt 100 ]; then
        sockdir_extra=$(mktemp -d /tmp/rahat-pgsock.XXXXXX) || return 1
        if rahat__is_root; then chown postgres:postgres "$sockdir_extra" || return 1; fi
        sockdir=$sockdir_extra
    fi

    _RAHAT_PG_BIN=$bin
    _RAHAT_PG_DIR=$dir
    _RAHAT_PG_SOCKDIR=$sockdir_extra

    # Run from a directory postgres can read (initdb dislikes an unreadable cwd).
    if ! (cd "$dir" && rahat__as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
            -E UTF8 --no-locale >"$dir/initdb.log" 2>&1); then
        rahat__log "initdb failed:"
        cat "$dir/initdb.log" >&2
        return 1
    fi

    # Tests trade durability for speed; RAHAT_PG_DURABLE=1 (benchmarks) keeps the server's defaults.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ -n "${RAHAT_PG_DURABLE:-}" ]; then durability=""; fi

    # Swift Testing runs every test at once, and each opens pools for its own service databases.
    local attempt port ok=""
    for attempt in 1 2 3; do
        port=$(rahat__free_port) || return 1
        if (cd "$dir" && rahat__as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" \
                -o "-p $port -k $sockdir -c listen_addresses=127.0.0.1 $durability -c max_connections=1000" \
                -w start >"$dir/pg_ctl.log" 2>&1); then
            ok=1
            break
        fi
        rahat__log "pg_ctl start failed on port $port (attempt $attempt)"
    done
    if [ -z "$ok" ]; then
        rahat__log "could not start PostgreSQL; server log:"
        tail -n 30 "$dir/log" >&2 2>/dev/null || true
        return 1
    fi

    _RAHAT_PG_PID=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    export RAHAT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    rahat__log "$("$bin/pg_ctl" --version | sed 's/^pg_ctl (PostgreSQL) /PostgreSQL /') on 127.0.0.1:$port (pid $_RAHAT_PG_PID, dir $dir)"
}

# rahat_start_postgres_replica DIR : a hot standby of the server rahat_start_postgres started,
# streaming from it through a replication slot (so WAL it has not received is kept while it is
# stopped). Writes DIR/ctl, which stops and starts it (`ctl stop`, `ctl start`): the tests that
# take the replica away use it.
rahat_start_postgres_replica() {
    local dir=${1:?usage: rahat_start_postgres_replica DIR}
    if [ -z "$_RAHAT_PG_PID" ] || [ -z "${RAHAT_TEST_POSTGRES_URL:-}" ]; then
        rahat__log "start the primary (rahat_start_postgres) before its replica"
        return 1
    fi
    local primary_port=${RAHAT_TEST_POSTGRES_URL##*:}
    primary_port=${primary_port%%/*}
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    if rahat__is_root; then chown postgres:postgres "$dir" || return 1; fi
    _RAHAT_REPLICA_DIR=$dir
    local sockdir=$dir
    if [ $(( ${#dir} + 20 )) -gt 100 ]; then sockdir=${_RAHAT_PG_SOCKDIR:-/tmp}; fi
    if ! (cd "$dir" && rahat__as_pg "$_RAHAT_PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
            -D "$dir/data" -R -X stream -C -S rahat_test_replica >"$dir/basebackup.log" 2>&1); then
        rahat__log "pg_basebackup failed:"
        cat "$dir/basebackup.log" >&2
        return 1
    fi
    local port
    port=$(rahat__free_port) || return 1
    local as_pg=""
    if rahat__is_root; then as_pg="runuser -u postgres --"; fi
    cat >"$dir/ctl" <<CTL
#!/usr/bin/env bash
# Stops or starts the test replica: ctl stop | ctl start
set -euo pipefail
cd "$dir"
case "\${1:-}" in
    stop) $as_pg "$_RAHAT_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >>"$dir/ctl.log" 2>&1 ;;
    start) $as_pg "$_RAHAT_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" \\
        -o "-p $port -k $sockdir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=1000" \\
        -w start >>"$dir/ctl.log" 2>&1 ;;
    *) echo "usage: ctl stop|start" >&2; exit 2 ;;
esac
CTL
    chmod +x "$dir/ctl"
    if ! "$dir/ctl" start; then
        rahat__log "could not start the replica; server log:"
        tail -n 30 "$dir/log" >&2 2>/dev/null || true
        return 1
    fi
    export RAHAT_TEST_POSTGRES_REPLICA_URL="postgres://postgres@127.0.0.1:$port/postgres"
    export RAHAT_TEST_POSTGRES_REPLICA_CTL="$dir/ctl"
    rahat__log "PostgreSQL replica of :$primary_port on 127.0.0.1:$port (dir $dir)"
}

# rahat_start_redis DIR
rahat_start_redis() {
    local dir=${1:?usage: rahat_start_redis DIR}
    if [ -n "$_RAHAT_REDIS_PID" ]; then
        rahat__log "Redis already started here (pid $_RAHAT_REDIS_PID)"
        return 0
    fi

    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        rahat__apt_install redis-server || return 1
    fi
    local server
    server=$(command -v redis-server) || { rahat__log "redis-server not found"; return 1; }

    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    _RAHAT_REDIS_DIR=$dir

    # RAHAT_REDIS_PERSIST=1 (the restart drills) writes every command to the append-only file
    # before answering, as a production Redis that must not lose a queued job is run.
    local persistence=(--save '' --appendonly no)
    if [ -n "${RAHAT_REDIS_PERSIST:-}" ]; then persistence=(--save '' --appendonly yes --appendfsync always); fi
    local attempt port=${_RAHAT_REDIS_RESTART_PORT:-} pid i
    for attempt in 1 2 3; do
        if [ -z "${_RAHAT_REDIS_RESTART_PORT:-}" ]; then port=$(rahat__free_port) || return 1; fi
        "$server" --bind 127.0.0.1 --port "$port" "${persistence[@]}" \
            --dir "$dir" --daemonize no >>"$dir/redis.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$dir/redis.pid"
        for i in $(seq 1 100); do   # 100 x 0.1 s = 10 s
            if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
                _RAHAT_REDIS_PID=$pid
                export RAHAT_TEST_REDIS_URL="redis://127.0.0.1:$port"
                RAHAT_TEST_REDIS_SERVER=$server
                export RAHAT_TEST_REDIS_SERVER
                rahat__log "Redis $("$server" --version | awk '{print $3}') on 127.0.0.1:$port (pid $pid, dir $dir)"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
            : "$i"
        done
        rahat__log "redis-server did not answer on port $port (attempt $attempt); log:"
        tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    return 1
}

# rahat_restart_redis : stops the Redis rahat_start_redis started (SIGTERM: it finishes writing its
# append-only file) and starts it again on the same port and directory.
rahat_restart_redis() {
    [ -n "$_RAHAT_REDIS_PID" ] || { rahat__log "no Redis started here"; return 1; }
    local dir=$_RAHAT_REDIS_DIR port=${RAHAT_TEST_REDIS_URL##*:}
    kill "$_RAHAT_REDIS_PID" 2>/dev/null || true
    rahat__wait_gone "$_RAHAT_REDIS_PID" 10
    wait "$_RAHAT_REDIS_PID" 2>/dev/null || true
    _RAHAT_REDIS_PID=""
    _RAHAT_REDIS_RESTART_PORT=$port rahat_start_redis "$dir"
}

# rahat_restart_postgres : `pg_ctl restart -m fast` on the server rahat_start_postgres started:
# sessions are ended at once, and it starts again with the same options.
rahat_restart_postgres() {
    [ -n "$_RAHAT_PG_DIR" ] || { rahat__log "no PostgreSQL started here"; return 1; }
    (cd "$_RAHAT_PG_DIR" && rahat__as_pg "$_RAHAT_PG_BIN/pg_ctl" -D "$_RAHAT_PG_DIR/data" -l "$_RAHAT_PG_DIR/log" \
        -m fast -w restart >>"$_RAHAT_PG_DIR/pg_ctl.log" 2>&1) || { rahat__log "pg_ctl restart failed"; return 1; }
    _RAHAT_PG_PID=$(head -n 1 "$_RAHAT_PG_DIR/data/postmaster.pid" 2>/dev/null || true)
}

# rahat__wait_gone PID SECONDS : wait for PID to exit; SIGKILL it after SECONDS.
rahat__wait_gone() {
    local pid=$1 secs=$2 i
    for i in $(seq 1 $(( secs * 10 ))); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
        : "$i"
    done
    kill -9 "$pid" 2>/dev/null || true
}

# rahat_stop_services : stop what rahat_start_* started, remove their dirs.
# Idempotent; always returns 0.
rahat_stop_services() {
    rm -f "$RAHAT__PORTS_FILE"
    if [ -n "$_RAHAT_REPLICA_DIR" ]; then
        if [ -f "$_RAHAT_REPLICA_DIR/data/postmaster.pid" ]; then
            "$_RAHAT_REPLICA_DIR/ctl" stop >/dev/null 2>&1 || true
        fi
        rm -rf "$_RAHAT_REPLICA_DIR"
        unset RAHAT_TEST_POSTGRES_REPLICA_URL RAHAT_TEST_POSTGRES_REPLICA_CTL
    fi
    _RAHAT_REPLICA_DIR=""
    if [ -n "$_RAHAT_PG_DIR" ]; then
        if [ -f "$_RAHAT_PG_DIR/data/postmaster.pid" ]; then
            (cd "$_RAHAT_PG_DIR" && rahat__as_pg "$_RAHAT_PG_BIN/pg_ctl" -D "$_RAHAT_PG_DIR/data" \
                -m fast -w stop >/dev/null 2>&1) || true
        fi
        if [ -n "$_RAHAT_PG_PID" ] && kill -0 "$_RAHAT_PG_PID" 2>/dev/null; then
            kill -INT "$_RAHAT_PG_PID" 2>/dev/null || true   # SIGINT = fast shutdown
            rahat__wait_gone "$_RAHAT_PG_PID" 10
        fi
        rm -rf "$_RAHAT_PG_DIR"
        if [ -n "$_RAHAT_PG_SOCKDIR" ]; then rm -rf "$_RAHAT_PG_SOCKDIR"; fi
        unset RAHAT_TEST_POSTGRES_URL
    fi
    _RAHAT_PG_DIR=""
    _RAHAT_PG_SOCKDIR=""
    _RAHAT_PG_PID=""

    if [ -n "$_RAHAT_REDIS_PID" ]; then
        kill "$_RAHAT_REDIS_PID" 2>/dev/null || true
        rahat__wait_gone "$_RAHAT_REDIS_PID" 5
        wait "$_RAHAT_REDIS_PID" 2>/dev/null || true
        unset RAHAT_TEST_REDIS_URL RAHAT_TEST_REDIS_SERVER
    fi
    if [ -n "$_RAHAT_REDIS_DIR" ]; then
        rm -rf "$_RAHAT_REDIS_DIR"
    fi
    _RAHAT_REDIS_DIR=""
    _RAHAT_REDIS_PID=""
    return 0
}

# rahat_cleanup_stale ROOT : for ROOT/run-PID dirs whose PID is gone (a run that
# was SIGKILLed), stop any PostgreSQL/Redis left behind and remove the dir.
rahat_cleanup_stale() {
    local root=${1:?usage: rahat_cleanup_stale ROOT} d owner pid pidfile
    [ -d "$root" ] || return 0
    for d in "$root"/run-*; do
        [ -d "$d" ] || continue
        owner=${d##*/run-}
        if [[ "$owner" =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null; then
            continue
        fi
        for pidfile in "$d/postgres-replica/data/postmaster.pid" "$d/postgres/data/postmaster.pid"; do
            [ -f "$pidfile" ] || continue
            pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
            if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "postgres" ]; then
                kill -INT "$pid" 2>/dev/null || true
                rahat__wait_gone "$pid" 10
            fi
        done
        if [ -f "$d/redis/redis.pid" ]; then
            pid=$(cat "$d/redis/redis.pid" 2>/dev/null || true)
            if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "redis-server" ]; then
                kill "$pid" 2>/dev/null || true
                rahat__wait_gone "$pid" 5
            fi
        fi
        rahat__log "removing stale $d"
        rm -rf "$d"
    done
    return 0
}

# rahat_wait_ready URL [LOG] [PID] : wait (up to 120 s) until URL answers 2xx. On giving up, or when
# PID exits first, shows the end of LOG and returns 1.
rahat_wait_ready() {
    local url=$1 log=${2:-} pid=${3:-} i
    for i in $(seq 1 1200); do
        if curl -fs "$url" >/dev/null 2>&1; then return 0; fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            rahat__log "the process behind $url exited before it was ready"
            if [ -n "$log" ]; then tail -n 30 "$log" >&2; fi
            return 1
        fi
        sleep 0.1
        : "$i"
    done
    rahat__log "$url never became ready"
    if [ -n "$log" ]; then tail -n 20 "$log" >&2; fi
    return 1
}
