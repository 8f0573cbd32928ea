package import FluentKit
import Persistence

/// The project-c2c service's migrations, in the order they apply. Append only; never rename a
/// shipped one.
package enum C2CMigrations {
    package static var all: [any Migration] {
        [
            CreateProjectFunds(),
            CreateOutbox(name: "c2c.0002_CreateOutbox"),
            OutboxSequence(name: "c2c.0003_OutboxSequence"),
            CreateDisbursements(),
            DisbursementReference(),
            CreateRedemptions(),
            CreateSettlements(),
            CreateSettlementSchedules(),
            OutboxFailures(name: "c2c.0009_OutboxFailures"),
        ]
    }
}
