import FluentKit
import Foundation
import Logging
import Notifications
import Persistence
import ServerKit
import SharedModels
import TokenVerification

/// The core domain: projects, beneficiaries, groups, enrolment, vendors, imports, verification and stats.
/// Transport-free; the RPC layer adapts it to the generated protocols.
struct CoreDomain: Sendable {
    let database: ServiceDatabase
    let verifier: AccessTokenVerifier
    let vault: PIIVault
    /// Vendors' logins, kept by the auth service.
    let accounts: AuthAccounts
    /// The largest import file accepted.
    let importMaxBytes: Int
    /// Imports one user, and all callers together, may have uploading, queued or running.
    let importsUnfinished: (perCaller: Int, total: Int)
    /// Rows an import writes per transaction.
    let importBatchRows: Int
    /// What the verification job checks.
    let kyc: KYCRules
    /// Beneficiary detail reads, cached; see ``changeBeneficiaries(_:_:)`` for invalidation.
    let beneficiaryCache: BeneficiaryCache
    /// Tells vendors of changes to where they are paid; nil where no sender is configured.
    let sms: (any SmsSender)?
    let logger: Logger
    let now: @Sendable () -> Date

    var db: any Database { database.db }

    /// The caller of the current RPC, from its bearer token.
    func caller() async throws -> Principal {
        try await verifier.verifyCurrentCaller()
    }

    /// Parses an optional id, recording a violation instead of throwing so that every bad field
    /// of a request is reported together.
    func parseID(_ text: String?, field: String, into violations: inout [FieldViolation]) -> UUID? {
        guard let text else { return nil }
        let id = UUID(text, field: field, into: &violations)
        return id
    }

    func parseID(_ text: String, field: String = "id") throws -> UUID {
        try UUID(text, field: field)
    }
}
