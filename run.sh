#!/usr/bin/env bash
# Builds manx, starts a local MariaDB dual-master pair (127.0.0.1:3307/3308,
# scripts/pair.sh) and runs manx in the foreground with conf/manx.ini.
# Stop with Ctrl-C; stop the pair afterwards with `scripts/pair.sh stop`.
set -euo pipefail
cd "$(dirname "$0")"

PKGS="meson ninja-build pkg-config gcc libuv1-dev libmariadb-dev libinih-dev libexpat1-dev libssl-dev libmicrohttpd-dev libjson-c-dev libcurl4-openssl-dev
      mariadb-server mariadb-client etcd-server etcd-client"

missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "run.sh: missing packages: $(echo $missing); install them as root:" >&2
        echo "  apt-get install -y $(echo $missing)" >&2
        exit 1
    fi
    echo "run.sh: installing $(echo $missing)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $PKGS
fi

if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release
fi
ninja -C build

scripts/pair.sh start

cat <<'EOF'

manx is starting on 127.0.0.1:8066 (admin console 127.0.0.1:9066). Connect with:

    mariadb -h127.0.0.1 -P8066 -uroot -p123456 aiurt-platform

Ctrl-C stops manx; `scripts/pair.sh stop` stops the MariaDB pair.

EOF
exec build/proxy/manx -c conf/manx.ini
