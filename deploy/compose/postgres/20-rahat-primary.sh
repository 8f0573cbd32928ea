#!/usr/bin/env bash
# The primary's first start (docker-entrypoint-initdb.d, run once, on an empty data directory,
# after 10-rahat-roles.sql has created the services' roles): gives those roles their passwords,
# and lets the streaming replica in.
#
# The passwords are read from the services' database URLs (compose secrets written by
# deploy/compose/make-secrets), so the URL a process connects with and the password its role has
# cannot disagree: there is one place each password is written down.
#
# Executed, not sourced (the file is mode 755): `set -u` here must not leak into the image's
# entrypoint, which runs the files of this directory.
set -euo pipefail

secrets=/run/secrets

# The password in postgres://user:password@host…; make-secrets writes hex passwords, which need no
# URL decoding.
password_of() {
    sed -E 's#^postgres(ql)?://[^:/@]+:([^@]*)@.*$#\2#' "$1"
}

sql() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"
}

for service in auth core ledger c2c; do
    password=$(password_of "$secrets/$service-database-url")
    if [ -z "$password" ]; then
        echo "20-rahat-primary.sh: no password in $secrets/$service-database-url" >&2
        exit 1
    fi
    # A psql variable, quoted by psql (:'…'), so the password never passes through a shell word
    # or the server's statement log as part of a hand-built string.
    sql -v role="rahat_$service" -v password="$password" <<'SQL'
ALTER ROLE :"role" PASSWORD :'password';
SQL
done

# Streaming replication: a login of its own that can do nothing else, and a slot, so that WAL the
# replica has not received yet is kept while it restarts (bounded by max_slot_wal_keep_size in
# compose.yaml, so a replica gone for good cannot fill the disk).
sql -v password="$(cat "$secrets/postgres-replication-password")" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SELECT pg_create_physical_replication_slot('replica_1');
SQL

# `host all all all` (the image's line) does not cover replication connections; this does, for
# the replication login only, with a password.
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
