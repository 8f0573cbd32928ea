package import GRPCCore
import SwiftProtobuf
import Synchronization

/// The standard gRPC health service (`grpc.health.v1.Health`), so load balancers and
/// orchestrators can probe every Rahat gRPC server the same way.
///
/// The empty service name stands for the whole server.
package final class HealthService: Sendable {
    /// The serving status of one named service.
    package enum Status: Sendable {
        case serving, notServing
    }

    private struct State {
        var statuses: [String: Status] = [:]
        var watchers: [Int: (service: String, continuation: AsyncStream<Status?>.Continuation)] = [:]
        var nextWatcher = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Records a service's status and tells everyone watching it.
    package func setStatus(_ status: Status, forService service: String = "") {
        let watchers = state.withLock { state in
            state.statuses[service] = status
            return state.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Marks every known service as not serving, e.g. while draining before shutdown.
    package func markAllNotServing() {
        let services = state.withLock { Array($0.statuses.keys) }
        for service in services { setStatus(.notServing, forService: service) }
    }

    /// Ends every open `Watch` stream so a draining server is not held open by its probes.
    package func endAllWatches() {
        let watchers = state.withLock { state in
            defer { state.watchers.removeAll() }
            return state.watchers.values.map(\.continuation)
        }
        for watcher in watchers { watcher.finish() }
    }

    func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    /// The generated-protocol conformance to register with a `GRPCServer`.
    package var rpcService: any RegistrableRPCService { RPC(health: self) }

    fileprivate func watch(_ service: String) -> (AsyncStream<Status?>, Int) {
        let (stream, continuation) = AsyncStream<Status?>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = (service, continuation)
            continuation.yield(state.statuses[service])
            return id
        }
        return (stream, id)
    }

    fileprivate func endWatch(_ id: Int) {
        state.withLock { _ = $0.watchers.removeValue(forKey: id) }
    }

    private struct RPC: Grpc_Health_V1_Health.SimpleServiceProtocol {
        let health: HealthService

        func check(
            request: Grpc_Health_V1_HealthCheckRequest,
            context: ServerContext
        ) async throws -> Grpc_Health_V1_HealthCheckResponse {
            guard let status = health.status(of: request.service) else {
                throw RPCError(code: .notFound, message: "Unknown service '\(request.service)'.")
            }
            return .with { $0.status = status.proto }
        }

        func list(
            request: Grpc_Health_V1_HealthListRequest,
            context: ServerContext
        ) async throws -> Grpc_Health_V1_HealthListResponse {
            let statuses = health.state.withLock { $0.statuses }
            return .with { response in
                for (service, status) in statuses {
                    response.statuses[service] = .with { $0.status = status.proto }
                }
            }
        }

        func watch(
            request: Grpc_Health_V1_HealthCheckRequest,
            response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
            context: ServerContext
        ) async throws {
            let (updates, id) = health.watch(request.service)
            defer { health.endWatch(id) }
            for await status in updates {
                try await response.write(.with { $0.status = status?.proto ?? .serviceUnknown })
            }
        }
    }
}

extension HealthService.Status {
    fileprivate var proto: Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        switch self {
        case .serving: .serving
        case .notServing: .notServing
        }
    }
}
