import Foundation
import Logging
import ServerKit
import ServiceLifecycle

/// Stores the words of names that have none stored: at start, every name registered before
/// names were indexed; then, every few minutes, those changed lately by a writer that does not
/// index them (a previous release still serving during a blue-green switch). Runs in the core
/// service's process, which holds the keys that open names; every replica may run it, as each
/// skips rows another is reading and ignores words already stored.
struct NameWordIndexing: Service {
    let domain: CoreDomain
    var interval: Duration = .seconds(300)

    func run() async throws {
        var since: Date?
        var complete = false
        await repeatUntilShutdown(every: interval) {
            let started = domain.now()
            do {
                let indexed = try await domain.indexNameWords(updatedSince: complete ? since : nil)
                if indexed > 0 { domain.logger.info("indexed names' words", metadata: ["beneficiaries": "\(indexed)"]) }
                // Later sweeps look back over the interval and a margin for other hosts' clocks.
                since = started.addingTimeInterval(-2 * Double(interval.components.seconds) - 300)
                complete = true
            } catch {
                domain.logger.warning(
                    "could not index names' words", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
