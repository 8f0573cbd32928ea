import Foundation
package import Hummingbird
package import Logging
package import ServerKit

/// A small HTTP listener for a service process that otherwise speaks only gRPC: `/health`
/// (alive), `/readiness` (dependencies up; 503 otherwise) and `/metrics` (Prometheus), so
/// orchestrators and scrapers treat every Rahat process the same way.
package enum OpsServer {
    package static func application(
        host: String,
        port: Int,
        readiness: Readiness,
        logger: Logger,
        onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/readiness") { _, _ in
            let report = await readiness.run()
            let checks = report.entries.map { entry -> [String: String] in
                var object = ["name": entry.name, "status": entry.isUp ? "up" : "down"]
                if let detail = entry.detail { object["detail"] = detail }
                return object
            }
            let body: [String: Any] = ["status": report.isReady ? "ready" : "not_ready", "checks": checks]
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return Response(
                status: report.isReady ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: RahatMetrics.exposition()))
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "rahat"),
            onServerRunning: { channel in await onServerRunning?(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}
