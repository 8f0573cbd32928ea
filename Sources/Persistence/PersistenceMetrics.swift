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

    /// Every metric this target declares.
    package static let all = [transactionDuration, unavailable]
}
