#!/usr/bin/env bash
# Make sure a PostgreSQL server listens on 127.0.0.1:5432 and has the test role the suite uses.
# The tests create (and drop) their own database on it; they never touch other databases.
set -euo pipefail
ROLE=bk_test
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "PostgreSQL is not installed (scripts/install-system-packages.sh installs it)" >&2
    exit 1
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
# The role is created over the local socket as the postgres superuser.
runuser -u postgres -- psql -qAtc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'" | grep -q 1 ||
  runuser -u postgres -- psql -qc "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$ROLE'"
