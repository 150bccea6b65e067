#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL server for Hygeia's tests.
#
#   scripts/test-postgres.sh [start]      print postgresql://postgres@127.0.0.1:PORT/hygeia_test
#   scripts/test-postgres.sh stop [URL]   stop the server of URL (or every one this script started)
#
# start installs Debian's postgresql package when no initdb is found (needs root and
# apt-get), makes a fresh cluster in a temporary folder owned by the postgres user
# (initdb refuses to run as root), starts it on 127.0.0.1 on a free port with trust
# authentication and fsync off (test data only), and creates the database hygeia_test.
# Only the URL goes to stdout; progress and errors go to stderr.
#
# Environment: HYGEIA_PG_BASE (default ${TMPDIR:-/tmp}/hygeia-test-postgres) holds one
# folder per server, pg-PORT/, with its data, socket and log.
set -euo pipefail

BASE="${HYGEIA_PG_BASE:-${TMPDIR:-/tmp}/hygeia-test-postgres}"
DB=hygeia_test

say() { echo "test-postgres: $*" >&2; }
die() { say "error: $*"; exit 1; }

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    return 1
}

install_postgres() {
    [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and this is not root; install Debian's postgresql package (apt-get install postgresql) or set HYGEIA_TEST_POSTGRES_URL"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is missing; install PostgreSQL or set HYGEIA_TEST_POSTGRES_URL"
    say "installing Debian's postgresql package (apt-get)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
}

# Run a command as the cluster's owner: postgres when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

free_port() {
    local py
    py="$(command -v python3 || command -v python || true)"
    [ -n "$py" ] || die "python3 is needed to find a free port"
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local bindir port dir
    bindir="$(find_bindir)" || { install_postgres; bindir="$(find_bindir)" || die "initdb not found after installing postgresql"; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        die "running as root but there is no postgres user to own the cluster (Debian's postgresql package creates it)"
    fi
    mkdir -p "$BASE"
    chmod 755 "$BASE"
    port="$(free_port)"
    dir="$BASE/pg-$port"
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    say "initdb in $dir (PostgreSQL binaries: $bindir)"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2 || { cat "$dir/server.log" >&2; die "the server did not start"; }
    echo "$bindir" >"$dir/bindir"
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB" >&2 || die "createdb failed"
    say "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') is up on 127.0.0.1:$port"
    echo "postgresql://postgres@127.0.0.1:$port/$DB"
}

stop_dir() {
    local dir="$1" bindir
    [ -d "$dir/data" ] || { rm -rf "$dir"; return 0; }
    bindir="$(cat "$dir/bindir" 2>/dev/null || find_bindir || true)"
    if [ -n "$bindir" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || say "pg_ctl stop failed for $dir"
    fi
    rm -rf "$dir"
    say "stopped and removed $dir"
}

stop() {
    local arg="${1:-}" port dir
    if [ -n "$arg" ]; then
        port="$(echo "$arg" | sed -E 's#^.*:([0-9]+)(/.*)?$#\1#')"
        [[ "$port" =~ ^[0-9]+$ ]] || die "cannot find a port in '$arg'"
        dir="$BASE/pg-$port"
        [ -d "$dir" ] || die "no server started by this script on port $port (looked for $dir)"
        stop_dir "$dir"
    else
        for dir in "$BASE"/pg-*; do
            [ -d "$dir" ] && stop_dir "$dir"
        done
    fi
    return 0
}

case "${1:-start}" in
    start) start ;;
    stop) shift; stop "${1:-}" ;;
    *) die "usage: $0 [start | stop [URL|PORT]]" ;;
esac
