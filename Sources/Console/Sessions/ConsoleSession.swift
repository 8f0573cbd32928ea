import Crypto
import Foundation
import ServerKit
import Synchronization

/// A signed-in browser: the user's tokens, kept on the server and named by a random cookie, so
/// the browser holds nothing a script or a stolen disk image could use once the session ends.
struct ConsoleSession: Codable, Sendable {
    var accessToken: String
    var accessExpiresAt: Date
    var refreshToken: String
    /// The synchronizer token every form of this session carries.
    var csrfToken: String
    var userID: String
    var userName: String
    /// The caller's effective permissions when signed in: what to offer, never what to allow (the
    /// API decides that on every call).
    var permissions: [String]
    var signedInAt: Date
    var lastSeenAt: Date
    /// The language the user chose, kept with the user by the API; nil for their browser's.
    var locale: String?
    /// The time zone the user chose, kept with the user by the API; nil for the installation's.
    var timeZone: String?
    /// A message for the next page shown (after a redirect).
    var flash: Flash?

    /// A one-time message.
    struct Flash: Codable, Sendable {
        enum Kind: String, Codable, Sendable {
            case success, error
        }

        var kind: Kind
        var text: String
    }
}

/// Opens, saves and ends console sessions in a ``SessionStore``.
///
/// The cookie holds 32 random bytes; the store keys the session by their SHA-256, so reading the
/// store (a Redis dump, a debug session) gives no cookie that would open a session.
struct ConsoleSessions: Sendable {
    let store: any SessionStore
    let idle: Duration
    let maximum: Duration

    /// A new random token, as cookies and forms carry it.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func key(_ cookie: String) -> String {
        SHA256.hash(data: Data(cookie.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The session `cookie` names, unless it does not exist, has been idle too long or has
    /// outlived the maximum.
    func open(_ cookie: String, now: Date = Date()) async throws -> ConsoleSession? {
        guard cookie.utf8.count == 43, let bytes = try await store.load(Self.key(cookie)) else { return nil }
        guard let session = try? JSONDecoder().decode(ConsoleSession.self, from: Data(bytes)) else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) > idle.seconds
            || now.timeIntervalSince(session.signedInAt) > maximum.seconds
        {
            try await store.remove(Self.key(cookie))
            return nil
        }
        return session
    }

    /// Stores `session` under `cookie` until it would be idle too long or too old.
    func save(_ session: ConsoleSession, cookie: String, now: Date = Date()) async throws {
        let remaining = maximum.seconds - now.timeIntervalSince(session.signedInAt)
        let ttl = min(idle.seconds, remaining)
        guard ttl > 0 else {
            try await store.remove(Self.key(cookie))
            return
        }
        let encoder = JSONEncoder()
        try await store.save(
            Self.key(cookie), value: [UInt8](try encoder.encode(session)), ttl: .milliseconds(Int64(ttl * 1000)))
    }

    func end(_ cookie: String) async throws {
        try await store.remove(Self.key(cookie))
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
