import Foundation
import ServerKit

/// Files a user uploaded for a dry run, kept for the half hour in which they may confirm it, so
/// the confirmation does not send the file again. Each belongs to the user who uploaded it.
struct UploadStash: Sendable {
    let store: any SessionStore
    static let lifetime = Duration.seconds(30 * 60)

    /// Keeps `bytes` for the signed-in user; the key to name them by.
    func stash(_ bytes: [UInt8]) async throws -> String {
        guard let user = Visit.current?.session?.userID else { throw SignInRequired() }
        let key = ConsoleSessions.randomToken()
        try await store.save("upload:" + key, value: Array((user + "\n").utf8) + bytes, ttl: Self.lifetime)
        return key
    }

    /// The file `key` names, if the signed-in user uploaded it and it has not expired; unless
    /// `peek`, it is forgotten.
    func take(_ key: String, peek: Bool) async throws -> [UInt8]? {
        guard let user = Visit.current?.session?.userID, key.utf8.count == 43,
            let stored = try await store.load("upload:" + key),
            let newline = stored.firstIndex(of: UInt8(ascii: "\n")),
            String(decoding: stored[..<newline], as: UTF8.self) == user
        else { return nil }
        if !peek { try await store.remove("upload:" + key) }
        return Array(stored[(newline + 1)...])
    }
}
