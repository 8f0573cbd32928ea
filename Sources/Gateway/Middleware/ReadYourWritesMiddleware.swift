import HTTPTypes
import Logging
import OpenAPIRuntime
import ServerKit
import SharedModels

/// Lets callers read their own writes where the services read from a lagging replica.
///
/// The services answer the operations in ``replicaOperations`` from their read replica when it
/// is within its lag bound. After a caller's write, that bound would still let the caller's next
/// list miss what it just wrote; so for ``GatewayConfiguration/readYourWrites`` after any write
/// the caller's calls carry ``IncomingCall/readsPrimary`` and those operations read the primary.
/// The window must be at least the services' lag bound: the replica then holds every write
/// older than the window. Callers are API keys or users, shared across gateway replicas by the
/// store.
struct ReadYourWritesMiddleware: ServerMiddleware {
    let window: Duration
    let writers: any RecentWriters
    let logger: Logger
    private let warnings = LogThrottle(interval: .seconds(10))

    init(window: Duration, writers: any RecentWriters, logger: Logger) {
        self.window = window
        self.writers = writers
        self.logger = logger
    }

    /// The operations whose services may answer from a read replica: lists, searches,
    /// statistics, statements and exports. Every other read, and every read a service makes for
    /// itself, uses the primary.
    static let replicaOperations: Set<String> = [
        "listUsers", "listRoles", "listApiKeys",
        "listProjects", "listBeneficiaries", "searchBeneficiaries", "listProjectBeneficiaries", "listGroups",
        "listGroupMembers", "listVendors", "getProjectStats", "listImports", "getImportRejects",
        "listVerifications",
        "getLedgerStatement", "listLedgerTransfers",
        "listProjectFundings", "listDisbursements", "listDisbursementLines", "listRedemptions", "listSettlements",
    ]

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        // Before sign-in there is nothing of the caller's to read.
        guard let caller = RequestIdentity.current?.principal.callerKey else {
            return try await next(request, body, metadata)
        }
        if Self.replicaOperations.contains(operationID) {
            let wrote: Bool
            do {
                wrote = try await writers.contains(caller)
            } catch {
                // Not knowing, the primary: it costs its time, never a missing write.
                if warnings.shouldLog() {
                    logger.warning(
                        "recent writers unavailable; reads go to the primary", metadata: ["error": "\(error)"])
                }
                wrote = true
            }
            guard wrote, var edge = GatewayRequest.current else { return try await next(request, body, metadata) }
            edge.readsPrimary = true
            return try await GatewayRequest.$current.withValue(edge) { try await next(request, body, metadata) }
        }
        guard request.method != .get, request.method != .head else { return try await next(request, body, metadata) }
        let answer: (HTTPResponse, HTTPBody?)
        do {
            answer = try await next(request, body, metadata)
        } catch {
            // Whether anything was written is not known here: remember it, the safe side.
            await remember(caller)
            throw error
        }
        // A refused request wrote nothing; any other may have. Remembered before the answer
        // leaves, so the caller's next request cannot overtake it.
        if !(400..<500).contains(answer.0.status.code) { await remember(caller) }
        return answer
    }

    private func remember(_ caller: String) async {
        do {
            try await writers.record(caller, for: window)
        } catch {
            if warnings.shouldLog() {
                logger.warning(
                    "could not note a caller's write; its reads may lag it for up to the replica's bound",
                    metadata: ["error": "\(error)"])
            }
        }
    }

}
