#!/usr/bin/env bash
# Makes sure the services the tests talk to are installed and running:
# PostgreSQL (127.0.0.1:5432, database "test") and Redis (127.0.0.1:6379, plus
# redis-server and redis-cli for the test's own Redis Cluster),
# that Debian's Chromium is there for the admin's end-to-end tests, and that
# the nginx binary is there for the load balancer test (deploy/nginx).
# Idempotent and quiet when everything is already up; installs Debian
# packages only where something is missing (needs root, as on CI).
set -euo pipefail

log() { printf '[ensure-services] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ] && ! [[ "$DATABASE_URL" =~ @(127\.0\.0\.1|localhost)(:5432)?/ ]]; then
    log "DATABASE_URL points elsewhere; not managing PostgreSQL"; return
  fi
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "installing PostgreSQL"; apt_install postgresql
    fresh=1
  fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  if [ "${fresh:-0}" = 1 ]; then
    # A fresh Debian cluster asks for passwords on TCP; tests use trust on loopback.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  fi
  if ! pg_up; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || { log "PostgreSQL did not come up"; exit 1; }
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    log "creating database test"; psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'
  fi
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

ensure_redis() {
  if ! command -v redis-server >/dev/null; then log "installing Redis"; apt_install redis-server; fi
  # The Redis Cluster test (testkit/src/redis-cluster.ts) creates its cluster with redis-cli --cluster (Redis 7: sharded pub/sub).
  if ! command -v redis-cli >/dev/null; then log "installing redis-cli"; apt_install redis-tools; fi
  if ! redis_up; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  fi
  redis_up || { log "Redis did not come up"; exit 1; }
}

ensure_chromium() {
  # The admin's e2e tests drive Debian's Chromium through playwright-core;
  # never `npx playwright install` (it downloads a browser build of its own).
  local path="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$path" ]; then return; fi
  log "installing Chromium"; apt_install chromium
  [ -x "$path" ] || { log "Chromium is not at $path after installing"; exit 1; }
}

ensure_nginx() {
  # Only the binary: server/test/deploy-nginx.test.ts runs its own nginx in
  # front of two instances; the system service is never started.
  if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then return; fi
  log "installing nginx"
  # policy-rc.d 101 keeps the package's postinst from starting the service.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null; as_root chmod +x "$policy"; created=1
  fi
  apt_install nginx-light || apt_install nginx
  if [ "$created" = 1 ]; then as_root rm -f "$policy"; fi
  [ -x /usr/sbin/nginx ] || { log "nginx is not at /usr/sbin/nginx after installing"; exit 1; }
}

ensure_postgres
ensure_redis
ensure_chromium
ensure_nginx
