package import MetricCatalog

/// The metrics the database layer records, per service database (`auth`, `core`, `ledger`, `c2c`,
/// `messaging`).
package enum PersistenceMetrics {
    /// Each transaction by how it ended.
    package static let transactionDuration = MetricDefinition.durations(
        "rahat_db_transaction_duration_seconds", labels: ["service", "outcome"],
        help: "Time a database transaction took, connection wait included, by service and outcome (commit or rollback)."
    )
    /// Transactions that failed because the database could not be reached or had no free connection in time.
    package static let unavailable = MetricDefinition.counter(
        "rahat_db_unavailable_total", labels: ["service"],
        help: "Transactions refused because no connection was free in time or the database was unreachable, by service."
    )
    /// Statements run on their own, outside a transaction (most reads).
    package static let queryDuration = MetricDefinition.durations(
        "rahat_db_query_duration_seconds", labels: ["service"], buckets: fastBuckets,
        help: "Time a statement run outside a transaction took, connection wait included, by service."
    )
    /// Transactions holding a pooled connection now.
    package static let transactionsActive = MetricDefinition.gauge(
        "rahat_db_pool_transactions_active", labels: ["service"],
        help: "Transactions of this process holding a pooled connection now, by service."
    )
    /// Transactions waiting for a pooled connection now.
    package static let transactionsWaiting = MetricDefinition.gauge(
        "rahat_db_pool_transactions_waiting", labels: ["service"],
        help: "Transactions of this process waiting for a pooled connection now, by service."
    )
    /// How long a transaction waited before its first statement.
    package static let connectionWait = MetricDefinition.durations(
        "rahat_db_pool_wait_duration_seconds", labels: ["service"], buckets: fastBuckets,
        help:
            "Time from asking for a transaction to its first statement (waiting for a pooled connection, then BEGIN), by service."
    )
    /// The most connections the process's pool may open.
    package static let poolLimit = MetricDefinition.gauge(
        "rahat_db_pool_connections_max", labels: ["service"],
        help: "The most connections this process's pool may open to the service's database, by service."
    )
    /// This process's connections as the PostgreSQL server sees them.
    package static let serverConnections = MetricDefinition.gauge(
        "rahat_db_pool_connections", labels: ["service", "state"],
        help:
            "This process's open PostgreSQL connections as the server reports them (pg_stat_activity), by service and state: active, idle, idle_in_transaction or other."
    )
    /// How far the read replica trails the primary, as last measured.
    package static let replicaLag = MetricDefinition.gauge(
        "rahat_db_replica_lag_seconds", labels: ["service"],
        help:
            "How long ago the primary had written nothing the read replica has not replayed, as last measured, by service (not updated while the replica cannot be reached)."
    )
    /// Whether reads that tolerate staleness go to the replica now.
    package static let replicaServing = MetricDefinition.gauge(
        "rahat_db_replica_serving", labels: ["service"],
        help:
            "1 while reads that tolerate staleness go to the read replica, 0 while they fall back to the primary (replica lagging past the bound or unreachable), by service."
    )
    /// Reads that could use the replica, by the server that answered and why.
    package static let replicaReads = MetricDefinition.counter(
        "rahat_db_replica_reads_total", labels: ["service", "server", "reason"],
        help:
            "Reads that tolerate staleness, by service, the server that answered (replica or primary) and why: in_sync, lagging, unavailable, read_your_writes or failed_over (the replica failed the read)."
    )

    /// Statements and connection waits: 0.5 ms to 10 s.
    package static let fastBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2_500), .seconds(10),
    ]

    /// Every metric this target declares.
    package static let all = [
        transactionDuration, unavailable, queryDuration, transactionsActive, transactionsWaiting, connectionWait,
        poolLimit, serverConnections, replicaLag, replicaServing, replicaReads,
    ]
}
