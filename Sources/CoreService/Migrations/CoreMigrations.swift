package import FluentKit
import Persistence

/// The core service's migrations, in the order they apply. Append only; never rename a shipped one.
package enum CoreMigrations {
    package static var all: [any Migration] {
        [
            CreateOutbox(name: "core.0001_CreateOutbox"),
            CreateProjects(),
            CreateBeneficiaries(),
            CreateEnrolments(),
            CreateGroups(),
            CreateVendors(),
            CreateImports(),
            UniqueActiveImport(),
            OutboxSequence(name: "core.0009_OutboxSequence"),
            QueueImportJobs(),
            CreateVerifications(),
            CreateProcessedEvents(name: "core.0012_CreateProcessedEvents"),
            CreateReceipts(),
            CreatePayoutChanges(),
            AddPhoneChangedAt(),
            OutboxFailures(name: "core.0016_OutboxFailures"),
            CountProjectBeneficiaries(),
            IndexNameWords(),
        ]
    }
}
