import GRPCCore
package import ServerKit

/// What can go wrong in the auth domain, in its own terms.
package enum AuthError: Error, Equatable, Sendable {
    case invalidInput([FieldViolation])
    case invalidCredentials
    case accountDisabled
    case accountLocked(retryAfterSeconds: Int)
    case tooManyAttempts(retryAfterSeconds: Int)
    case invalidRefreshToken
    case refreshTokenReused
    case invalidApiKey
    case permissionDenied(String)
    case userNotFound
    case emailTaken
    case roleNotFound(String)
    case roleNameTaken
    case builtInRole
    case roleInUse
    case apiKeyNotFound
    case cannotDeleteSelf
    case apiKeyCannotManageKeys
    case invalidServiceCredentials
    case serviceCredentialsNotConfigured
    /// Too many password hashes waiting in this process: refused before any work (``HashQueue``).
    case busy

    /// The transport-neutral form the RPC edge sends.
    package var serviceError: ServiceError {
        switch self {
        case .invalidInput(let violations):
            .invalid(violations)
        case .invalidCredentials:
            ServiceError(.unauthenticated, reason: "auth.invalid_credentials", message: "Email or password is wrong.")
        case .accountDisabled:
            ServiceError(.permissionDenied, reason: "auth.account_disabled", message: "This account is disabled.")
        case .accountLocked(let seconds):
            ServiceError(
                .resourceExhausted,
                reason: "auth.account_locked",
                message: "Too many failed logins in a row; the account is locked for a while.",
                retryAfterSeconds: seconds
            )
        case .tooManyAttempts(let seconds):
            ServiceError(
                .resourceExhausted,
                reason: "auth.too_many_attempts",
                message: "Too many failed logins; try again later.",
                retryAfterSeconds: seconds
            )
        case .invalidRefreshToken:
            ServiceError(
                .unauthenticated,
                reason: "auth.invalid_refresh_token",
                message: "The refresh token is invalid, expired or revoked."
            )
        case .refreshTokenReused:
            ServiceError(
                .unauthenticated,
                reason: "auth.refresh_token_reused",
                message: "The refresh token was already used; the session has been revoked. Log in again."
            )
        case .invalidServiceCredentials:
            ServiceError(
                .unauthenticated, reason: "auth.invalid_service_credentials",
                message: "The service name or the service secret is wrong."
            )
        case .busy:
            ServiceError(
                .unavailable, reason: "auth.busy",
                message: "Too many passwords are being checked at once; try again in a moment.",
                retryAfterSeconds: 1
            )
        case .serviceCredentialsNotConfigured:
            ServiceError(
                .failedPrecondition, reason: "auth.service_credentials_not_configured",
                message: "This auth service has no RAHAT_SERVICE_SECRET, so it issues no service tokens."
            )
        case .invalidApiKey:
            ServiceError(
                .unauthenticated, reason: "auth.invalid_api_key", message: "The API key is invalid, expired or revoked."
            )
        case .permissionDenied(let message):
            ServiceError(.permissionDenied, reason: "auth.permission_denied", message: message)
        case .userNotFound:
            ServiceError(.notFound, reason: "user.not_found", message: "No such user.")
        case .emailTaken:
            ServiceError(
                .alreadyExists,
                reason: "user.email_taken",
                message: "A user with this email already exists.",
                violations: [FieldViolation(field: "email", reason: "is already registered")]
            )
        case .roleNotFound(let name):
            ServiceError(.notFound, reason: "role.not_found", message: "No role named '\(name)'.")
        case .roleNameTaken:
            ServiceError(
                .alreadyExists,
                reason: "role.name_taken",
                message: "A role with this name already exists.",
                violations: [FieldViolation(field: "name", reason: "is already taken")]
            )
        case .builtInRole:
            ServiceError(
                .failedPrecondition, reason: "role.built_in", message: "Built-in roles cannot be changed or deleted.")
        case .roleInUse:
            ServiceError(.failedPrecondition, reason: "role.in_use", message: "The role is still assigned to users.")
        case .apiKeyNotFound:
            ServiceError(.notFound, reason: "api_key.not_found", message: "No such API key.")
        case .cannotDeleteSelf:
            ServiceError(
                .failedPrecondition, reason: "user.cannot_delete_self", message: "You cannot delete your own account.")
        case .apiKeyCannotManageKeys:
            ServiceError(
                .permissionDenied,
                reason: "api_key.not_allowed",
                message: "API keys cannot create or revoke API keys; sign in as a person."
            )
        }
    }
}

extension AuthError: ServiceErrorConvertible {}
