import AuthAPI
import Foundation
import Logging
import ServerKit
import ServiceLifecycle
import SwiftProtobuf
import Synchronization

/// The sessions, API keys and users the auth service revoked lately, read every half second, so
/// that every gateway replica refuses their access tokens at once rather than when the tokens
/// (15 minutes) or the API-key cache run out.
///
/// If the auth service cannot be read, the list stays as it was and tokens are judged by their
/// signatures and expiry alone, as before the list existed; a warning says so.
package final class RevokedCredentials: Sendable {
    private struct State {
        /// Ended sessions and revoked keys, each until its tokens have expired.
        var sessions: [UUID: Date] = [:]
        var apiKeys: [UUID: Date] = [:]
        /// Users whose tokens issued before the instant are ended.
        var users: [UUID: (revokedAt: Date, expiresAt: Date)] = [:]
        /// The newest revocation read; the next read asks for those after it.
        var cursor: Date?
    }

    private let state = Mutex(State())

    package init() {}

    /// Whether the credential behind `principal` was revoked since its token was issued.
    func refuses(_ principal: Principal) -> Bool {
        state.withLock { state in
            if let session = principal.sessionID, state.sessions[session] != nil { return true }
            if let key = principal.apiKeyID, state.apiKeys[key] != nil { return true }
            if let user = state.users[principal.userID] {
                guard let issuedAt = principal.issuedAt else { return true }
                return issuedAt < user.revokedAt
            }
            return false
        }
    }

    /// When the last read asked from; nil before the first.
    var cursor: Date? { state.withLock { $0.cursor } }

    /// Takes in a read of the list and forgets what has expired.
    func apply(_ revocations: [Rahat_Auth_V1_Revocation], now: Date = Date()) {
        state.withLock { state in
            for revocation in revocations {
                guard let subject = UUID(uuidString: revocation.subject) else { continue }
                let revokedAt = revocation.revokedAt.date
                let expiresAt = revocation.expiresAt.date
                switch revocation.kind {
                case "session": state.sessions[subject] = expiresAt
                case "api_key": state.apiKeys[subject] = expiresAt
                case "user":
                    if let known = state.users[subject], known.revokedAt >= revokedAt { break }
                    state.users[subject] = (revokedAt, expiresAt)
                default: continue
                }
                state.cursor = max(state.cursor ?? revokedAt, revokedAt)
            }
            if state.cursor == nil { state.cursor = now }
            state.sessions = state.sessions.filter { $0.value > now }
            state.apiKeys = state.apiKeys.filter { $0.value > now }
            state.users = state.users.filter { $0.value.expiresAt > now }
        }
    }
}

/// Reads the revocation list every `interval` for as long as the gateway runs.
struct RevocationPoller: Service {
    let revoked: RevokedCredentials
    let auth: AuthBackend
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let warnings = LogThrottle(interval: .seconds(30))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let list = try await auth.auth.listRevocations(
                        .with { request in
                            if let cursor = revoked.cursor { request.since = Google_Protobuf_Timestamp(date: cursor) }
                        }, options: .timeout(.seconds(5)))
                    revoked.apply(list.revocations)
                } catch {
                    if warnings.shouldLog() {
                        logger.warning(
                            "could not read revoked credentials; tokens are judged by signature and expiry alone meanwhile",
                            metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
