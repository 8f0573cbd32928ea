package import FluentKit

/// The ledger service's migrations, in the order they apply. Append only; never rename a shipped one.
package enum LedgerMigrations {
    package static var all: [any Migration] {
        [CreateLedger(), AccountChecksPerStatement()]
    }
}
