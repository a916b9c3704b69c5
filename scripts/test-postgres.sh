#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, on loopback only.
#
#   scripts/test-postgres.sh start   install PostgreSQL from apt if missing, create the cluster in .pg/
#                                     if missing, start it on 127.0.0.1 and print the SQLAlchemy URL of
#                                     the test database on stdout.
#
# The port: $BOLIGMIX_PG_PORT when set; else the cluster's own port recorded in .pg/port (an
# existing cluster keeps its port); else, for a new cluster, 55432 when it is free, otherwise a free
# port chosen automatically (so two clones can run `make test` at once). The chosen port is
# recorded in .pg/port, and `url` prints it. (BOLIGMIX_PG_DEFAULT_PORT changes the first choice.)
#   scripts/test-postgres.sh stop    stop the server (a no-op when it is not running).
#   scripts/test-postgres.sh url     print the URL (the cluster must exist).
#   scripts/test-postgres.sh destroy stop the server and delete the cluster (.pg/ and its /tmp data).
#
# Idempotent: `start` on a running server only prints the URL. As root the cluster belongs to the
# `postgres` OS user (PostgreSQL refuses to run as root). When that user cannot reach .pg/ (e.g. a
# clone under /root), the data directory lives in /tmp and .pg/data is a symlink to it.
# Everything but the URL goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.pg"
DEFAULT_PORT="${BOLIGMIX_PG_DEFAULT_PORT:-55432}"  # first choice for a new cluster
PORT=""
PORT_FROM_ENV=0
DB_USER="boligmix"
DB_NAME="boligmix_test"

log() { echo "test-postgres: $*" >&2; }

find_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
        echo "$dir"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

ensure_installed() {
    if BINDIR="$(find_bindir)"; then
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        log "PostgreSQL (initdb, pg_ctl) is not installed; run as root or: apt-get install -y postgresql"
        exit 1
    fi
    log "installing PostgreSQL from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q postgresql >&2
    BINDIR="$(find_bindir)" || { log "initdb/pg_ctl not found after installing postgresql"; exit 1; }
}

# Run a command as the cluster's owner: the postgres OS user when we are root, ourselves otherwise.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u postgres -- "$@")
        else
            (cd / && su -s /bin/sh postgres -c "$(printf '%q ' "$@")")
        fi
    else
        "$@"
    fi
}

data_dir() { echo "$STATE/data"; }

# Is something listening on (or holding) 127.0.0.1:$1?
port_in_use() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$1" <<'PY' && return 1 || return 0
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL: TIME_WAIT is free, a listener is not
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free port: 55432 when free, else a random one in 55433..55999 (two clones rarely draw the same).
free_port() {
    if ! port_in_use "$DEFAULT_PORT"; then echo "$DEFAULT_PORT"; return 0; fi
    local i p
    for i in $(seq 1 200); do
        p=$((55433 + RANDOM % 567))
        if ! port_in_use "$p"; then echo "$p"; return 0; fi
    done
    log "no free port found in 55432..55999; set BOLIGMIX_PG_PORT"
    exit 1
}

# The port of this cluster without choosing a new one: the environment, .pg/port, or for a
# cluster made by an older version of this script the running server's port (postmaster.pid) or
# its postgresql.conf. Empty when there is no cluster yet.
known_port() {
    if [[ -n "${BOLIGMIX_PG_PORT:-}" ]]; then echo "$BOLIGMIX_PG_PORT"; return 0; fi
    if [[ -s "$STATE/port" ]]; then cat "$STATE/port"; return 0; fi
    local data
    data="$(data_dir)"
    if [[ -e "$data/postmaster.pid" ]]; then sed -n 4p "$data/postmaster.pid"; return 0; fi
    if [[ -e "$data/postgresql.conf" ]]; then
        grep -E '^port = [0-9]+' "$data/postgresql.conf" | tail -n 1 | awk '{print $3}'
        return 0
    fi
}

resolve_port() {
    [[ -n "${BOLIGMIX_PG_PORT:-}" ]] && PORT_FROM_ENV=1
    PORT="$(known_port || true)"
    if [[ -z "$PORT" ]]; then PORT="$(free_port)"; fi
    mkdir -p "$STATE"
    echo "$PORT" >"$STATE/port"
}

# The data directory as the owner reaches it (the symlink target when .pg/data is a symlink).
pg_data() {
    local data
    data="$(data_dir)"
    if [[ -L "$data" ]]; then readlink "$data"; else echo "$data"; fi
}

# Where the owner keeps the server log and the initdb password file: .pg/ itself, or the /tmp
# directory holding the data directory when the owner cannot reach .pg/.
run_dir() {
    local data
    data="$(data_dir)"
    if [[ -L "$data" ]]; then dirname "$(readlink "$data")"; else echo "$STATE"; fi
}

owner_can_reach() {
    # Can the owner create and use a directory inside .pg/?
    [[ "$(id -u)" -ne 0 ]] && return 0
    local probe="$STATE/.probe"
    mkdir -p "$probe" && chown postgres "$probe"
    if as_owner test -w "$probe" 2>/dev/null; then
        rmdir "$probe"
        return 0
    fi
    rmdir "$probe"
    return 1
}

create_cluster() {
    mkdir -p "$STATE"
    local data
    data="$(data_dir)"
    if [[ -e "$data/PG_VERSION" ]]; then
        return 0
    fi
    log "creating a cluster in $data"
    rm -rf "$data"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres "$STATE"
        if ! owner_can_reach; then
            local real
            real="$(mktemp -d /tmp/boligmix-pg-XXXXXX)"
            chown postgres "$real"
            ln -s "$real/data" "$data"
            log "the postgres user cannot reach $STATE; the data directory is $real/data"
        fi
    fi
    # A random password for this cluster; loopback connections need it (scram-sha-256).
    if [[ ! -s "$STATE/password" ]]; then
        (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/password")
    fi
    local pwfile
    pwfile="$(run_dir)/pwfile"
    cp "$STATE/password" "$pwfile"
    if [[ "$(id -u)" -eq 0 ]]; then chown postgres "$pwfile"; fi
    local target="$data"
    [[ -L "$data" ]] && target="$(readlink "$data")"
    as_owner "$BINDIR/initdb" -D "$target" -U "$DB_USER" --pwfile="$pwfile" --auth=scram-sha-256 \
        -E UTF8 --no-locale >&2
    rm -f "$pwfile"
    cat >>"$data/postgresql.conf" <<EOF

# boligmix test cluster: loopback only, no Unix socket, settings for a throwaway database.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
fsync = on
synchronous_commit = on
shared_buffers = 64MB
EOF
}

is_running() {
    [[ -e "$(data_dir)/PG_VERSION" ]] && as_owner "$BINDIR/pg_ctl" -D "$(pg_data)" status >/dev/null 2>&1
}

url() {
    [[ -n "$PORT" ]] || PORT="$(known_port || true)"
    if [[ -z "$PORT" || ! -s "$STATE/password" ]]; then
        log "no cluster in $STATE; run: $0 start"
        exit 1
    fi
    echo "postgresql+psycopg://$DB_USER:$(cat "$STATE/password")@127.0.0.1:$PORT/$DB_NAME"
}

start() {
    ensure_installed
    local fresh=0
    [[ -e "$(data_dir)/PG_VERSION" && -s "$STATE/port" ]] || fresh=1
    resolve_port
    create_cluster
    if ! is_running; then
        local logfile attempt
        logfile="$(run_dir)/server.log"
        touch "$logfile"
        if [[ "$(id -u)" -eq 0 ]]; then chown postgres "$logfile"; fi
        for attempt in 1 2 3 4 5; do
            if port_in_use "$PORT"; then
                if [[ "$fresh" -eq 1 && "$PORT_FROM_ENV" -eq 0 ]]; then
                    # A new cluster whose port another process took meanwhile: draw another.
                    PORT="$(free_port)"
                    echo "$PORT" >"$STATE/port"
                else
                    log "port $PORT is used by another process; this cluster keeps its port (.pg/port)."
                    log "free it, set BOLIGMIX_PG_PORT, or run: $0 destroy"
                    exit 1
                fi
            fi
            log "starting PostgreSQL on 127.0.0.1:$PORT"
            if as_owner "$BINDIR/pg_ctl" -D "$(pg_data)" -l "$logfile" -o "-p $PORT" -w -t 60 start >&2; then
                break
            fi
            if [[ "$fresh" -eq 0 || "$PORT_FROM_ENV" -eq 1 || "$attempt" -eq 5 ]] || ! port_in_use "$PORT"; then
                log "the server did not start; the end of $logfile:"
                tail -n 20 "$logfile" >&2
                exit 1
            fi
        done
    fi
    local psql
    psql="$BINDIR/psql"
    [[ -x "$psql" ]] || psql="$(command -v psql)"
    local exists
    exists="$(PGPASSWORD="$(cat "$STATE/password")" "$psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" \
        -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")"
    if [[ "$exists" != "1" ]]; then
        PGPASSWORD="$(cat "$STATE/password")" "$psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" \
            -d postgres -qc "CREATE DATABASE $DB_NAME" >&2
    fi
    url
}

stop() {
    BINDIR="$(find_bindir)" || return 0
    if is_running; then
        log "stopping PostgreSQL"
        as_owner "$BINDIR/pg_ctl" -D "$(pg_data)" -m fast -w stop >&2
    fi
}

destroy() {
    stop
    local data
    data="$(data_dir)"
    if [[ -L "$data" ]]; then
        rm -rf "$(dirname "$(readlink "$data")")"
    fi
    rm -rf "$STATE"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    url) url ;;
    destroy) destroy ;;
    *) echo "usage: $0 [start|stop|url|destroy]" >&2; exit 2 ;;
esac
