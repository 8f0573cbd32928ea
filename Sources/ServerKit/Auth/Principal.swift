import Crypto
package import Foundation
package import SharedModels

/// Who is calling, as established from a verified access token.
package struct Principal: Sendable, Equatable {
    /// How the caller proved who it is.
    package enum Method: String, Sendable {
        case password
        case apiKey = "api_key"
        /// An internal service with the deployment's service secret (`IssueServiceToken`).
        case service
    }

    package var userID: UUID
    package var permissions: PermissionSet
    package var method: Method
    /// The session (refresh-token family) a password login belongs to.
    package var sessionID: UUID?
    /// The API key a partner system used.
    package var apiKeyID: UUID?
    /// The internal service calling with its own credentials (`c2c`, …).
    package var service: String?
    package var expiresAt: Date
    /// When the token was issued: a user's revocation ends the tokens issued before it.
    package var issuedAt: Date?

    package init(
        userID: UUID,
        permissions: PermissionSet,
        method: Method,
        sessionID: UUID? = nil,
        apiKeyID: UUID? = nil,
        service: String? = nil,
        expiresAt: Date,
        issuedAt: Date? = nil
    ) {
        self.userID = userID
        self.permissions = permissions
        self.method = method
        self.sessionID = sessionID
        self.apiKeyID = apiKeyID
        self.service = service
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
    }

    /// Throws `permission_denied` unless the caller holds `permission`.
    package func require(_ permission: Permission) throws(ServiceError) {
        guard permissions.allows(permission) else {
            throw ServiceError(
                .permissionDenied,
                reason: "auth.permission_denied",
                message: "This action needs the permission '\(permission)'."
            )
        }
    }
}

/// The identities of internal services: each has a fixed id, so what a service does is recorded
/// against the same principal in every deployment.
package enum ServicePrincipal {
    /// A stable UUID for service `name`: the first 16 bytes of SHA-256("rahat.service." + name),
    /// marked as a version 8 (custom) UUID.
    package static func id(of name: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data("rahat.service.\(name)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
