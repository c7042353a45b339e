# Shared helpers for Coffre's scripts. Source it; do not run it.
# shellcheck shell=bash

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages the test suite needs when their commands are missing.
ensure_system_packages() {
  local missing=()
  command -v cargo >/dev/null || die "cargo is missing: install a Rust toolchain (https://rustup.rs), then re-run"
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v npm >/dev/null || missing+=(nodejs npm)
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  command -v runuser >/dev/null || missing+=(util-linux)
  command -v cc >/dev/null || missing+=(build-essential)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing missing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" || die "could not install ${missing[*]}"
}

# Installs the browser tests' npm packages (tests/browser) when missing or older than the lockfile.
ensure_browser_test_packages() {
  local dir=tests/browser
  [ -f "$dir/node_modules/playwright-core/package.json" ] \
    && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  command -v npm >/dev/null || die "npm is missing: install Node.js 20 or later with npm, then re-run"
  # playwright-core needs Node 20; Debian 12's own nodejs is 18 (NodeSource has 20).
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$node_major" -ge 20 ] || die "Node.js $node_major is too old for playwright-core: install Node.js 20 or later, then re-run"
  say "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund) || die "npm ci failed in $dir"
}

# Prints the directory of the newest installed PostgreSQL server binaries.
postgres_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$dir/initdb" ] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
  printf '%s\n' "$dir"
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts a throwaway PostgreSQL in a temporary directory, with the server OPTIONS given (`-c
# name=value ...`), and sets THROWAWAY_PG_URL and THROWAWAY_PG_PORT. The server is stopped and
# its files removed by stop_throwaway_postgres (register it in an EXIT trap).
start_postgres_with() {
  local options=$1 bin port
  bin=$(postgres_bin_dir)
  port=$(free_port)
  THROWAWAY_PG_DIR=$(mktemp -d /tmp/coffre-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$THROWAWAY_PG_DIR"
  as_postgres "$bin/initdb" -D "$THROWAWAY_PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null \
    || die "initdb failed"
  as_postgres "$bin/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -l "$THROWAWAY_PG_DIR/log" -w -t 60 \
    -o "-p $port -k $THROWAWAY_PG_DIR -c listen_addresses=127.0.0.1 $options" start >/dev/null \
    || die "PostgreSQL did not start: $(cat "$THROWAWAY_PG_DIR/log" 2>/dev/null)"
  THROWAWAY_PG_BIN=$bin
  THROWAWAY_PG_PORT=$port
  THROWAWAY_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export THROWAWAY_PG_URL THROWAWAY_PG_PORT
}

# A throwaway PostgreSQL for tests: nothing it holds must survive a crash, so no fsync.
start_throwaway_postgres() {
  start_postgres_with "-c fsync=off"
}

stop_throwaway_postgres() {
  if [ -n "${THROWAWAY_PG_DIR:-}" ] && [ -d "$THROWAWAY_PG_DIR" ]; then
    as_postgres "$THROWAWAY_PG_BIN/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$THROWAWAY_PG_DIR"
  fi
}

# Waits (bounded) until URL answers 200.
wait_for_http() {
  local url=$1 tries=${2:-300}
  for _ in $(seq "$tries"); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$url did not answer"
}

# A throwaway PostgreSQL for benchmarks: fsync and synchronous_commit are forced on (they are
# the defaults; saying so on the command line overrides any postgresql.conf), because benchmarks
# against PostgreSQL's own commit limit are meaningless without them. A client can still lower
# synchronous_commit for its session (PGOPTIONS): callers should unset it.
start_durable_postgres() {
  start_postgres_with "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
}

# Stops the `coffre serve` a benchmark started in the background (its pid in server_pid), if
# any, and waits for it.
stop_coffre() {
  if [ -n "${server_pid:-}" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
