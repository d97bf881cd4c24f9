#!/usr/bin/env bash
# Install and start a local PostgreSQL (Debian packages) for the storage and queue tests, and
# print the URL the tests read from LINTAS_TEST_POSTGRES_URL.  Needs root (CI runs as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
cd /tmp
pg_lsclusters -h | grep -q online || pg_ctlcluster "$version" main start >&2
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='lintas'\"" | grep -q 1 \
  || su postgres -c "psql -q -c \"CREATE USER lintas PASSWORD 'lintas' SUPERUSER\"" >&2
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='lintas_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O lintas lintas_test" >&2
echo "postgresql+psycopg://lintas:lintas@127.0.0.1:5432/lintas_test"
