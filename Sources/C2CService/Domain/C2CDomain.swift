import FluentKit
import Foundation
import Logging
import Notifications
import Persistence
import SQLKit
import ServerKit
import SharedModels

/// The project-c2c domain. Transport-free; the RPC layer adapts it to the generated protocols.
struct C2CDomain: Sendable {
    let database: ServiceDatabase
    let verifier: AccessTokenVerifier
    let clients: C2CClients
    /// Lines per execution job.
    let batchSize: Int
    /// Where redemption codes go.
    let sms: any SmsSender
    let logger: Logger
    let now: @Sendable () -> Date

    var sql: any SQLDatabase { database.sql }

    /// The caller of the current RPC, from its bearer token.
    func caller() async throws -> Principal {
        try await verifier.verifyCurrentCaller()
    }

    func parseID(_ text: String, field: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw C2CError.invalidInput([FieldViolation(field: field, reason: "must be a UUID")])
        }
        return id
    }
}

/// A stored row project-c2c cannot read back: a programming or storage error, not bad input.
struct C2CStorageError: Error, CustomStringConvertible {
    var description: String
}
