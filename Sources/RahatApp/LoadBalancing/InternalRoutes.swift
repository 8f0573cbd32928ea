package import GRPCCore

/// Every gRPC method the services serve, as the internal gateway routes it: which callers may
/// call it, whether a failed attempt may be sent again, and how long a call may take.
///
/// The callers are process identities, each the common name of the process's certificate
/// (`RAHAT_GRPC_TLS_CERT`). Who may call what follows the code's own call graph — the gateway's
/// backends and each service's `Clients/` room (`InternalGatewayTests.allowListFollowsCalls`
/// checks the table against the calls in the sources) — and nothing more: core cannot move money
/// in the ledger, and no service but c2c and the worker may read a project's roster.
package enum InternalRoutes {
    /// A process identity: the common name on its certificate.
    package enum Caller: String, Sendable, CaseIterable, Comparable {
        case gateway, auth, core, ledger, c2c, worker

        package static func < (lhs: Caller, rhs: Caller) -> Bool {
            allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
        }
    }

    /// How a method's calls may be handled on the way.
    package enum Kind: String, Sendable {
        /// Calls that are safe to send again: reads, and the writes keyed by an idempotency key
        /// (ledger transfers, fundings), which a replay answers as the first call was answered.
        /// HAProxy retries them on another replica when a connection fails, the replica answers
        /// 503, or it closes the stream without an answer.
        case idempotent
        /// Every other write: a second attempt could be refused where the first succeeded (a
        /// second delete finds nothing), so it is retried only when the connection to a replica
        /// could not be made at all and the request never left.
        case write
        /// Streaming calls (an upload, a roster, a file's rejects): long timeouts, never retried.
        case streaming
    }

    /// One method.
    package struct Route: Sendable, Equatable {
        /// The service's process: `auth`, `core`, `ledger` or `c2c`.
        package var service: String
        /// The path HTTP/2 carries: `/rahat.core.v1.ProjectService/GetProject`.
        package var path: String
        package var callers: Set<Caller>
        package var kind: Kind

        /// How long a call may take before HAProxy ends it: the services' own deadlines
        /// (10 s, longer for streams; `RPCDefaults`) with a margin, so their deadline fires first.
        package var timeout: Duration {
            switch kind {
            case .idempotent, .write: .seconds(15)
            case .streaming: path.hasSuffix("/UploadImport") ? .seconds(3_660) : .seconds(660)
            }
        }
    }

    private static let gateway: Set<Caller> = [.gateway]

    /// The table, by service process.
    package static let all: [Route] = auth + core + ledger + c2c

    /// The methods a caller sends again when a service answers `unavailable`
    /// (``RPCDefaults/retryPolicy``): those safe to send twice, as HAProxy retries them too.
    package static let retryable: [MethodConfig.Name] = all.filter { $0.kind == .idempotent }.compactMap { route in
        let parts = route.path.dropFirst().split(separator: "/")
        guard parts.count == 2 else { return nil }
        return MethodConfig.Name(service: String(parts[0]), method: String(parts[1]))
    }

    /// The table as Markdown, for the documentation (`rahat internal-gateway routes`).
    package static var markdownTable: String {
        var lines = ["| method | callers | on failure | timeout |", "|---|---|---|---|"]
        for route in all {
            let callers =
                route.callers.isEmpty ? "none" : route.callers.sorted().map(\.rawValue).joined(separator: ", ")
            let retry =
                switch route.kind {
                case .idempotent: "retried on another replica"
                case .write: "retried only if never sent"
                case .streaming: "streamed; retried only if never sent"
                }
            lines.append(
                "| `\(route.path.dropFirst())` | \(callers) | \(retry) | \(route.timeout.components.seconds) s |")
        }
        return lines.joined(separator: "\n")
    }

    private static func routes(
        _ service: String, _ package: String, _ name: String, _ methods: [(String, Kind, Set<Caller>)]
    ) -> [Route] {
        methods.map { method, kind, callers in
            Route(service: service, path: "/rahat.\(package).v1.\(name)/\(method)", callers: callers, kind: kind)
        }
    }

    static let auth: [Route] =
        routes(
            "auth", "auth", "AuthService",
            [
                ("Login", .write, gateway), ("Refresh", .write, gateway), ("Logout", .write, gateway),
                ("GetPrincipal", .idempotent, gateway), ("VerifyApiKey", .idempotent, gateway),
                // Every process that serves calls verifies their tokens with the keys auth
                // publishes; the worker serves none.
                ("GetSigningKeys", .idempotent, [.gateway, .core, .ledger, .c2c]),
                // Service tokens for the services that call others as themselves.
                ("IssueServiceToken", .write, [.c2c, .worker]),
                ("ListRevocations", .idempotent, gateway),
            ])
        + routes(
            "auth", "auth", "UserService",
            [
                ("CreateUser", .write, [.gateway, .core]),
                ("GetUser", .idempotent, [.gateway, .core, .c2c, .worker]),
                ("ListUsers", .idempotent, gateway), ("UpdateUser", .write, gateway),
                // Core removes a vendor's login again when the vendor's registration fails.
                ("DeleteUser", .write, [.gateway, .core]), ("ListUserRoles", .idempotent, gateway),
                ("SetUserRoles", .write, [.gateway, .core]),
            ])
        + routes(
            "auth", "auth", "RoleService",
            [
                ("ListRoles", .idempotent, gateway), ("GetRole", .idempotent, gateway),
                ("CreateRole", .write, gateway), ("DeleteRole", .write, gateway),
            ])
        + routes(
            "auth", "auth", "ApiKeyService",
            [
                ("CreateApiKey", .write, gateway), ("ListApiKeys", .idempotent, gateway),
                ("GetApiKey", .idempotent, gateway), ("RevokeApiKey", .write, gateway),
            ])

    static let core: [Route] =
        routes(
            "core", "core", "BeneficiaryService",
            [
                ("CreateBeneficiary", .write, gateway), ("CreateBeneficiaries", .write, gateway),
                ("GetBeneficiary", .idempotent, [.gateway, .c2c, .worker]),
                ("ListBeneficiaries", .idempotent, [.gateway, .c2c, .worker]),
                ("UpdateBeneficiary", .write, gateway), ("ArchiveBeneficiary", .write, gateway),
            ])
        + routes(
            "core", "core", "ProjectService",
            [
                ("CreateProject", .write, gateway), ("GetProject", .idempotent, [.gateway, .c2c, .worker]),
                ("ListProjects", .idempotent, gateway), ("UpdateProject", .write, gateway),
                ("ActivateProject", .write, gateway), ("CloseProject", .write, gateway),
                ("EnrolBeneficiaries", .write, gateway), ("UnenrolBeneficiary", .write, gateway),
                // No process calls it: the public API has no route to it.
                ("ListEnrolments", .idempotent, []), ("GetProjectStats", .idempotent, gateway),
                ("StreamRoster", .streaming, [.c2c, .worker]),
            ])
        + routes(
            "core", "core", "GroupService",
            [
                ("CreateGroup", .write, gateway), ("GetGroup", .idempotent, gateway),
                ("ListGroups", .idempotent, gateway), ("UpdateGroup", .write, gateway),
                ("DeleteGroup", .write, gateway), ("AddGroupMembers", .write, gateway),
                ("RemoveGroupMembers", .write, gateway), ("ListGroupMembers", .idempotent, gateway),
            ])
        + routes(
            "core", "core", "VendorService",
            [
                ("RegisterVendor", .write, gateway), ("GetVendor", .idempotent, [.gateway, .c2c, .worker]),
                ("ListVendors", .idempotent, gateway), ("UpdateVendor", .write, gateway),
                ("DeactivateVendor", .write, gateway), ("DecidePayoutChange", .write, gateway),
                ("AssignVendor", .write, gateway), ("UnassignVendor", .write, gateway),
            ])
        + routes(
            "core", "core", "ImportService",
            [
                ("UploadImport", .streaming, gateway), ("GetImport", .idempotent, gateway),
                ("ListImports", .idempotent, gateway), ("GetImportRejects", .streaming, gateway),
            ])
        + routes(
            "core", "core", "VerificationService",
            [
                ("ListVerifications", .idempotent, gateway), ("GetVerification", .idempotent, gateway),
                ("DecideVerification", .write, gateway), ("GetWatchList", .idempotent, gateway),
                ("UploadWatchList", .write, gateway),
            ])

    static let ledger: [Route] = routes(
        "ledger", "ledger", "LedgerService",
        [
            // Money moves only as c2c (its requests and its jobs, run by the worker) asks; every
            // transfer carries an idempotency key, so one sent again is recorded once.
            ("RecordTransfer", .idempotent, [.c2c, .worker]), ("RecordTransferBatch", .idempotent, [.c2c, .worker]),
            ("GetAccount", .idempotent, gateway), ("FindAccount", .idempotent, [.gateway, .c2c, .worker]),
            ("ListStatement", .idempotent, gateway), ("GetTransfer", .idempotent, gateway),
            ("ListTransfers", .idempotent, [.gateway, .c2c, .worker]), ("VerifyChain", .idempotent, gateway),
            ("Reconcile", .idempotent, gateway),
        ])

    static let c2c: [Route] =
        routes(
            "c2c", "c2c", "ProjectFundsService",
            [
                ("SetApprovers", .write, gateway), ("GetApprovers", .idempotent, gateway),
                ("RecordFunding", .idempotent, gateway), ("ListFundings", .idempotent, gateway),
            ])
        + routes(
            "c2c", "c2c", "DisbursementService",
            [
                ("PlanDisbursement", .idempotent, gateway), ("CreateDisbursement", .write, gateway),
                ("GetDisbursement", .idempotent, gateway), ("ListDisbursements", .idempotent, gateway),
                ("ListDisbursementLines", .idempotent, gateway), ("SubmitDisbursement", .write, gateway),
                ("ApproveDisbursement", .write, gateway), ("RejectDisbursement", .write, gateway),
                ("CancelDisbursement", .write, gateway), ("RetryDisbursementLines", .write, gateway),
            ])
        + routes(
            "c2c", "c2c", "RedemptionService",
            [
                ("RequestRedemption", .write, gateway), ("ConfirmRedemption", .write, gateway),
                ("GetRedemption", .idempotent, gateway), ("ListRedemptions", .idempotent, gateway),
            ])
        + routes(
            "c2c", "c2c", "SettlementService",
            [
                ("CreateSettlements", .write, gateway), ("GetSettlement", .idempotent, gateway),
                ("ListSettlements", .idempotent, gateway), ("GetPayoutFile", .idempotent, gateway),
                ("ConfirmSettlement", .write, gateway), ("GetSettlementSchedule", .idempotent, gateway),
                ("SetSettlementSchedule", .write, gateway), ("DeleteSettlementSchedule", .write, gateway),
            ])
}
