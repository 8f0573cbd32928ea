import Foundation
import Logging
import ServiceLifecycle

/// Runs queued imports in the background of the core service's process, one at a time, until
/// shutdown. An import interrupted by a crash or a shutdown is taken up again (by this process or
/// another replica) once its lease runs out, and resumes after its last committed batch.
struct ImportRunner: Service {
    let domain: CoreDomain

    func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    if let id = try await domain.claimImport() {
                        try await domain.runImport(id)
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
