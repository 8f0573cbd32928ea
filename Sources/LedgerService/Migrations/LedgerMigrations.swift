public import FluentKit

/// The ledger service's migrations, in the order they apply. Append only; never rename a shipped one.
public enum LedgerMigrations {
    public static var all: [any Migration] {
        [CreateLedger(), AccountChecksPerStatement()]
    }
}
