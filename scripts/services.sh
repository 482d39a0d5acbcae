#!/usr/bin/env bash
# Start PostgreSQL and Redis on this machine when they are not running, create the `mrv` database,
# and install what the tests use when it is missing: headless Chromium for the browser test, gettext,
# a CJK font and poppler-utils for the copy of record.
# Used by `make test` (and so by CI); a no-op when both are already up.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }
postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

wait_for() {
    local name=$1 check=$2
    for _ in $(seq 1 60); do
        if "$check"; then return 0; fi
        sleep 1
    done
    log "$name did not come up within 60 s"
    return 1
}

if ! postgres_up; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! redis_up; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for PostgreSQL postgres_up
wait_for Redis redis_up
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'mrv'" | grep -q 1; then
    log "creating database mrv"
    createdb -h 127.0.0.1 -U postgres mrv
fi

# GNU gettext (compiles the message catalogues), a TrueType CJK font (embedded in the copy of record) and
# poppler-utils (pdftotext, pdftoppm: the copy of record's tests) (Debian packages).
if ! command -v msgfmt >/dev/null || ! command -v pdftotext >/dev/null \
    || [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then
    log "installing gettext, fonts-wqy-zenhei and poppler-utils"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext fonts-wqy-zenhei poppler-utils >/dev/null
fi

# Headless Chromium and its driver for the dashboard's browser test (Debian packages).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
