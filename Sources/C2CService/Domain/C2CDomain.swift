import FluentKit
import Foundation
import Logging
import Notifications
import Persistence
import SQLKit
import ServerKit
import SharedModels
import TokenVerification

/// The project-c2c domain. Transport-free; the RPC layer adapts it to the generated protocols.
struct C2CDomain: Sendable {
    let database: ServiceDatabase
    let verifier: AccessTokenVerifier
    let clients: C2CClients
    /// Lines per execution job.
    let batchSize: Int
    /// Where redemption codes go.
    let sms: any SmsSender
    /// The agency's account in payout files.
    let payoutDebtor: PayoutDebtor
    /// How long after a beneficiary's phone changes nothing is redeemed from them.
    let phoneChangeHold: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    var sql: any SQLDatabase { database.sql }

    /// The caller of the current RPC, from its bearer token.
    func caller() async throws -> Principal {
        try await verifier.verifyCurrentCaller()
    }

    /// Optional id filters and a page of a list, every bad one named at once.
    static func listFilters(
        _ filters: [(text: String?, field: String)], limit: Int, cursor: String?
    ) throws -> ([UUID?], ServerKit.PageRequest<UUID>) {
        var violations: [FieldViolation] = []
        let ids = filters.map { text, field -> UUID? in
            guard let text else { return nil }
            return UUID(text, field: field, into: &violations)
        }
        switch ServerKit.PageRequest<UUID>.validate(limit: limit, cursor: cursor) {
        case .success(let page) where violations.isEmpty: return (ids, page)
        case .success: throw C2CError.invalidInput(violations)
        case .failure(let error): throw C2CError.invalidInput(violations + error.violations)
        }
    }

    /// Redemptions and settlements are their vendor's own to read (`subject:read` is enough);
    /// reading another vendor's is reading about that vendor, and needs `vendor:read` as well.
    static func requireVendorRecordRead(
        _ subject: Permission.Subject, projectID: UUID, vendorUserID: UUID, by caller: Principal,
        otherwise notFound: C2CError
    ) throws {
        let scope = projectID.lowercasedString
        try requireReach(caller.permissions.allows(Permission(subject, .read, projectID: scope)), otherwise: notFound)
        if vendorUserID != caller.userID {
            try requireReach(
                caller.permissions.allows(Permission(.vendor, .read, projectID: scope)), otherwise: notFound)
        }
    }

    /// Refuses a by-id read the caller's grants do not reach as the record were not there, so an
    /// id of another project's record confirms nothing; a caller who may read no such record
    /// anywhere was refused before it was looked up (``requireReadAnywhere(_:by:)``).
    static func requireReach(_ reached: Bool, otherwise notFound: C2CError) throws {
        guard reached else { throw notFound }
    }

    /// Refuses (403) a caller who may read `subject` in no project, before anything is looked up.
    static func requireReadAnywhere(_ subject: Permission.Subject, by caller: Principal) throws {
        guard caller.permissions.allowsAnywhere(subject, .read) else {
            throw ServiceError(
                .permissionDenied, reason: "auth.permission_denied",
                message: "This action needs the permission '\(Permission(subject, .read))'.")
        }
    }

    /// The vendor login whose own rows are all a list may show the caller, after checking
    /// `subject:read` (for `scope`, a project, or every project); nil when the caller may read
    /// about vendors, and so every vendor's rows.
    static func ownVendorRowsOnly(
        _ subject: Permission.Subject, scope: String?, by caller: Principal
    ) throws -> UUID? {
        try caller.require(Permission(subject, .read, projectID: scope))
        guard !caller.permissions.allows(Permission(.vendor, .read, projectID: scope)) else { return nil }
        return caller.userID
    }

    func parseID(_ text: String, field: String) throws -> UUID {
        try UUID(text, field: field)
    }
}

/// A stored row project-c2c cannot read back: a programming or storage error, not bad input.
struct C2CStorageError: Error, CustomStringConvertible {
    var description: String
}
