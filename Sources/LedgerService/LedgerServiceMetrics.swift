package import MetricCatalog

/// The metrics the ledger records: what it moves, and whether its chain holds.
package enum LedgerServiceMetrics {
    /// Transfers recorded (replays of a recorded one not counted), by kind.
    package static let transfers = MetricDefinition.counter(
        "rahat_ledger_transfers_total", labels: ["kind"],
        help: "Ledger transfers recorded, by kind: fund, allocate, disburse, redeem, settle or reverse.")
    /// Walks of the hash chain, by result: any `broken` means the books were altered outside the ledger.
    package static let verifications = MetricDefinition.counter(
        "rahat_ledger_verifications_total", labels: ["outcome"],
        help: "Ledger hash-chain verifications by outcome: ok, or broken (a row missing or altered).")

    /// Every metric this target declares.
    package static let all = [transfers, verifications]
}
