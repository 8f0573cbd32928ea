import Foundation
import Logging
import ServerKit
import ServiceLifecycle

/// Folds, every few seconds, each busy project's count deltas into one row per bucket, so that a
/// project's statistics sum a handful of rows however much has changed since. Runs in the core
/// service's process; two processes folding the same project each remove only rows the other
/// did not, so running it in every replica is safe.
struct StatsFolding: Service {
    let domain: CoreDomain
    var interval: Duration = .seconds(15)

    func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                try await domain.foldProjectCounts()
            } catch {
                domain.logger.warning(
                    "could not fold project counts", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
