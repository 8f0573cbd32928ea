public import Foundation

/// An opaque keyset-pagination cursor: the id of the last item of the previous page.
///
/// Ids are UUIDv7, so "after this id" is "created after this one" and a page boundary never
/// shifts when rows are inserted concurrently.
public struct PageCursor: Sendable, Equatable {
    public var after: UUID

    public init(after: UUID) {
        self.after = after
    }

    /// Decodes the text form handed to clients; `nil` when it was not produced by ``encoded``.
    public init?(encoded text: String) {
        guard let data = Data(base64URLEncoded: text), data.count == 17, data.first == 1 else { return nil }
        let bytes = Array(data.dropFirst())
        after = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    /// The URL-safe text form: a version byte and the id, base64url without padding.
    public var encoded: String {
        var data = Data([1])
        withUnsafeBytes(of: after.uuid) { data.append(contentsOf: $0) }
        return data.base64URLEncoded
    }
}
