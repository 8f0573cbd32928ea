# shellcheck shell=bash
# What scripts/rolling-restart and scripts/blue-green share. They run a distributed platform on
# loopback, put a constant load on it with wrk, change the platform under that load and count the
# requests that failed.
#
# Source after scripts/lib/services.sh. Each script sets `work`, calls deploy_build, fills `ops`
# (process name → operations port) and starts processes with deploy_launch. It then starts the
# load with deploy_load_start, stops it with deploy_load_stop and reads its figures with
# deploy_field.

# deploy_build CONFIGURATION BUILD : sets `rahat` to the `rahat` executable of CONFIGURATION
# (debug or release), building it when BUILD is set or it is missing. RAHAT_BENCH_SCRATCH_PATH
# keeps a release build apart from the debug one, as the benchmarks do.
deploy_build() {
    local configuration=$1 build=$2 scratch=()
    if [ -n "${RAHAT_BENCH_SCRATCH_PATH:-}" ]; then scratch=(--scratch-path "$RAHAT_BENCH_SCRATCH_PATH"); fi
    rahat="$(swift build -c "$configuration" "${scratch[@]}" --show-bin-path)/rahat"
    if [ -n "$build" ] || [ ! -x "$rahat" ]; then
        rahat__log "building rahat ($configuration)"
        swift build -c "$configuration" --product rahat "${scratch[@]}" >&2
    fi
}

# deploy_install_tools : wrk and haproxy from Debian when missing; fails naming a tool still missing.
deploy_install_tools() {
    command -v wrk >/dev/null || rahat__apt_install wrk
    command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || rahat__apt_install haproxy
    PATH=$PATH:/usr/sbin
    local tool
    for tool in curl jq python3 psql wrk haproxy bc; do
        command -v "$tool" >/dev/null || { rahat__log "needs $tool"; return 1; }
    done
}

declare -A pid=()
declare -A ops=()
# deploy_launch NAME KIND ENV=VALUE… : `rahat serve KIND` as the process NAME, with the environment
# given, logging to $work/NAME.log; waits until its /readiness on ${ops[NAME]} answers.
deploy_launch() {
    local name=$1 kind=$2
    shift 2
    env -u OTEL_EXPORTER_OTLP_ENDPOINT OTEL_SDK_DISABLED=true RAHAT_LOG_LEVEL=warning "$@" \
        "$rahat" serve "$kind" >>"$work/$name.log" 2>&1 &
    pid[$name]=$!
    rahat_wait_ready "http://127.0.0.1:${ops[$name]}/readiness" "$work/$name.log" "${pid[$name]}"
}

# deploy_stop NAME… : SIGTERM to each process, then waits until each has ended.
deploy_stop() {
    local name
    for name in "$@"; do kill -TERM "${pid[$name]}" 2>/dev/null || true; done
    for name in "$@"; do
        wait "${pid[$name]}" 2>/dev/null || true
        unset "pid[$name]"
    done
}

# deploy_stop_all : SIGTERM to every process still running, HAProxies included.
deploy_stop_all() {
    local name
    for name in "${!pid[@]}"; do kill -TERM "${pid[$name]}" 2>/dev/null || true; done
    for name in "${!pid[@]}"; do wait "${pid[$name]}" 2>/dev/null || true; done
}

# deploy_api METHOD PATH TOKEN [JSON] : the body of the answer from $api, sent with TOKEN (and JSON
# as the body); fails, printing the answer, unless its status is 2xx. Uses $api and $work.
deploy_api() {
    local out="$work/answer.json" code
    local args=(-s -o "$out" -w '%{http_code}' -X "$1" "$api$2" -H "authorization: Bearer $3")
    if [ -n "${4:-}" ]; then args+=(-H 'content-type: application/json' -d "$4"); fi
    code=$(curl "${args[@]}")
    if [[ "$code" != 2* ]]; then
        rahat__log "$1 $2 answered $code: $(cat "$out")"
        return 1
    fi
    cat "$out"
}

# deploy_login API EMAIL PASSWORD : prints an access token.
deploy_login() {
    curl -fsS "$1/v1/auth/login" -H 'content-type: application/json' \
        -d "$(jq -nc --arg email "$2" --arg password "$3" '{email: $email, password: $password}')" | jq -er .accessToken
}

# deploy_register API TOKEN COUNT IDS_FILE [NAME] : registers COUNT people named NAME and a number
# (Person by default; one batch request per 1,000) and writes their ids to IDS_FILE, one per line.
deploy_register() {
    local api=$1 token=$2 count=$3 file=$4 name=${5:-Person} start size
    : >"$file"
    for ((start = 0; start < count; start += 1000)); do
        size=$((count - start < 1000 ? count - start : 1000))
        jq -nc --argjson start "$start" --argjson size "$size" --arg name "$name" \
            '{items: [range($size) | {name: "\($name) \($start + . + 100000)", birthDate: "1985-04-05", gender: "male"}]}' |
            curl -fsS "$api/v1/beneficiaries/batch" -H "authorization: Bearer $token" \
                -H 'content-type: application/json' -d @- | jq -r '.items[].id' >>"$file"
    done
    [ "$(wc -l <"$file")" -eq "$count" ] || { rahat__log "registering $count people failed"; return 1; }
}

declare -A loads=()
# deploy_load_start OUT API TOKEN IDS_FILE CONNECTIONS PAUSE_MS [WRITE_EVERY] : wrk with
# scripts/lib/bench/random-beneficiary.lua in the background until `deploy_load_stop OUT`, writing
# to $work/OUT.txt. Each connection sends one request at a time, PAUSE_MS apart; every
# WRITE_EVERY-th is a registration (10 by default; 1: only those; 0: only reads). Of the reads,
# every third is a page of the list, from the database, and the rest one person, mostly cached.
deploy_load_start() {
    local out=$1 write_every=${7:-10}
    IDS_FILE="$4" TOKEN="$3" PAUSE_MS="$6" WRITE_EVERY="$write_every" LIST_EVERY=3 wrk -t 2 -c "$5" -d 3600s --timeout 15s \
        --latency -s "$repo_root/scripts/lib/bench/random-beneficiary.lua" "$2" >"$work/$out.txt" 2>&1 &
    loads[$out]=$!
}

# deploy_load_stop OUT : stops that load (wrk prints its result on SIGINT) and sets `load_result`
# to its RESULT line.
deploy_load_stop() {
    local out=$1
    kill -INT "${loads[$out]}"
    wait "${loads[$out]}" || true
    unset "loads[$out]"
    load_result=$(grep '^RESULT' "$work/$out.txt" || true)
    [ -n "$load_result" ] || { rahat__log "wrk printed no result:"; cat "$work/$out.txt" >&2; return 1; }
}

# deploy_stop_loads : stops every load still running, for a script's exit.
deploy_stop_loads() {
    local out
    for out in "${!loads[@]}"; do kill "${loads[$out]}" 2>/dev/null || true; done
}

# deploy_status CODE : how many answers of the load's RESULT line had status CODE.
deploy_status() { tr ',' '\n' <<<"$(deploy_field statuses)" | awk -F: -v code="$1" '$1 == code { n = $2 } END { print n + 0 }'; }

# deploy_field NAME : one field of the load's RESULT line.
deploy_field() { sed -E "s/.*[ ^]$1=([^ ]+).*/\\1/" <<<" $load_result"; }

# deploy_ms NAME : a microsecond field of the RESULT line in milliseconds, one decimal.
deploy_ms() { printf '%.1f' "$(echo "$(deploy_field "$1") / 1000" | bc -l)"; }

# deploy_machine : the machine, HAProxy and the commit, for the recorded results.
deploy_machine() {
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM;" \
        "$(haproxy -v | head -n 1 | cut -d' ' -f1-3); commit $(git rev-parse --short HEAD)"
}

# deploy_on_exit : the EXIT trap of a script that runs a platform: stops its loads and processes,
# keeps the logs in $kept when it failed (saying so through the script's `log`), stops PostgreSQL
# and Redis, and removes $work. Uses $work, $kept and $started.
# shellcheck disable=SC2317  # invoked via trap
deploy_on_exit() {
    local status=$?
    deploy_stop_loads
    deploy_stop_all
    if [ "$status" -ne 0 ] && [ -d "$work" ]; then
        rm -rf "$kept"
        mkdir -p "$kept"
        cp "$work"/*.log "$work"/*.cfg "$work"/*.txt "$kept"/ 2>/dev/null || true
        log "FAILED after $(($(date +%s) - started)) s; logs kept in $kept"
    fi
    rahat_stop_services
    rm -rf "$work"
    exit "$status"
}
