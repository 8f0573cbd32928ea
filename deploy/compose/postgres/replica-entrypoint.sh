#!/usr/bin/env bash
# The streaming replica's entry point: on its first start (an empty data directory) it copies the
# primary with pg_basebackup -R, which also writes standby.signal and the connection to the
# primary, then hands over to the image's own entry point, which finds a data directory and just
# starts PostgreSQL with the arguments given (a hot standby, because of standby.signal).
#
# Started as the postgres user (compose.yaml sets `user:`), so everything it writes belongs to
# the server that will read it.
#
#   REPLICATION_PRIMARY        the primary's host name (compose service name)
#   REPLICATION_USER           the replication login the primary's init script created
#   REPLICATION_PASSWORD_FILE  its password (a compose secret)
#   REPLICATION_SLOT           the physical slot the primary's init script created
set -euo pipefail

: "${PGDATA:?}" "${REPLICATION_PRIMARY:?}" "${REPLICATION_USER:?}" "${REPLICATION_PASSWORD_FILE:?}"
: "${REPLICATION_SLOT:?}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "replica-entrypoint: no data directory yet; copying $REPLICATION_PRIMARY with pg_basebackup" >&2
    # What an interrupted copy left is of no use, and pg_basebackup wants an empty directory.
    find "$PGDATA" -mindepth 1 -delete
    # -X stream with the slot: the WAL written during the copy is streamed alongside it and kept
    # on the primary until the replica has it. --checkpoint=fast starts the copy now rather than
    # at the primary's next scheduled checkpoint.
    PGPASSWORD=$(cat "$REPLICATION_PASSWORD_FILE") pg_basebackup \
        --host="$REPLICATION_PRIMARY" --port=5432 --username="$REPLICATION_USER" --no-password \
        --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --slot="$REPLICATION_SLOT" \
        --checkpoint=fast
    # PostgreSQL refuses a data directory others may read.
    chmod 0700 "$PGDATA"
fi

exec docker-entrypoint.sh "$@"
