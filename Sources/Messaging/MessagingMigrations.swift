package import FluentKit

/// The messaging database's migrations (the embedded default's event retries and jobs), in the
/// order they apply. Append only.
package enum MessagingMigrations {
    package static var all: [any Migration] { InProcessEventBus.migrations + SQLJobStore.migrations }
}
