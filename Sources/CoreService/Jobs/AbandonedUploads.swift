import Foundation
import Logging
import ServerKit
import ServiceLifecycle

/// Removes, once an hour, uploads a process left half-received when it died mid-upload (an
/// upload's own request removes them when it fails). Runs in the core service's process.
struct AbandonedUploads: Service {
    let domain: CoreDomain

    func run() async throws {
        await repeatUntilShutdown(every: .seconds(3600)) {
            do {
                try await domain.purgeAbandonedUploads(olderThan: 6 * 3600)
            } catch {
                domain.logger.error(
                    "could not remove abandoned uploads", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
