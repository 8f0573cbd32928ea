public import Foundation
public import SharedModels

/// Who is calling, as established from a verified access token.
public struct Principal: Sendable, Equatable {
    /// How the caller proved who it is.
    public enum Method: String, Sendable {
        case password
        case apiKey = "api_key"
    }

    public var userID: UUID
    public var permissions: PermissionSet
    public var method: Method
    /// The session (refresh-token family) a password login belongs to.
    public var sessionID: UUID?
    /// The API key a partner system used.
    public var apiKeyID: UUID?
    public var expiresAt: Date

    public init(
        userID: UUID,
        permissions: PermissionSet,
        method: Method,
        sessionID: UUID? = nil,
        apiKeyID: UUID? = nil,
        expiresAt: Date
    ) {
        self.userID = userID
        self.permissions = permissions
        self.method = method
        self.sessionID = sessionID
        self.apiKeyID = apiKeyID
        self.expiresAt = expiresAt
    }

    /// Throws `permission_denied` unless the caller holds `permission`.
    public func require(_ permission: Permission) throws(ServiceError) {
        guard permissions.allows(permission) else {
            throw ServiceError(
                .permissionDenied,
                reason: "auth.permission_denied",
                message: "This action needs the permission '\(permission)'."
            )
        }
    }
}
