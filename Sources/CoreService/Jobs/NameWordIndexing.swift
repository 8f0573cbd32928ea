import Foundation
import Logging
import ServerKit
import ServiceLifecycle

/// Stores, every few minutes, the words of every name that has none stored: at the first pass,
/// the names registered before names were indexed; then any renamed by a writer that does not
/// index them (a previous release still serving during a blue-green switch), and any a pass
/// skipped because a transaction held it. A pass with nothing to do reads the two tables' id
/// indexes once and visits no row (about a second for a million people). Runs in the core service's process, which holds the keys that open
/// names; every replica runs it, and while one sweeps the others leave it be.
struct NameWordIndexing: Service {
    let domain: CoreDomain
    var interval: Duration = .seconds(300)

    func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                let indexed = try await domain.indexNameWords()
                if indexed > 0 { domain.logger.info("indexed names' words", metadata: ["beneficiaries": "\(indexed)"]) }
            } catch {
                domain.logger.warning(
                    "could not index names' words", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
