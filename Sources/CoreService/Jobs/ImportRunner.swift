import Foundation
import Logging
import ServerKit
import ServiceLifecycle

/// Runs queued imports in the background of the core service's process, one at a time, until
/// shutdown. An import interrupted by a crash or a shutdown is taken up again (by this process or
/// another replica) once its lease runs out, and resumes after its last committed batch.
struct ImportRunner: Service {
    let domain: CoreDomain

    func run() async throws {
        await withGracefulShutdownHandler {
            var lastPurge = ContinuousClock.now - .seconds(3600)
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    // An upload's own request removes it when it fails; this catches a process that died mid-upload.
                    if ContinuousClock.now - lastPurge >= .seconds(3600) {
                        lastPurge = ContinuousClock.now
                        try await domain.purgeAbandonedUploads(olderThan: 6 * 3600)
                    }
                    if let claim = try await domain.claimImport() {
                        try await domain.runImport(claim)
                        continue
                    }
                } catch {
                    domain.logger.error("import runner failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                await domain.importSignal.wait(timeout: .seconds(2))
            }
        } onGracefulShutdown: {
            domain.importSignal.signal()
        }
    }
}
