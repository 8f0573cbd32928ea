package import Foundation

/// What a list's page boundary is keyed by: ids (UUIDv7, so "after this id" is "created after this
/// one" and a boundary never shifts when rows are inserted concurrently), sequence numbers, or
/// text keys (job ids).
package protocol PageCursorKey: Sendable, Equatable {
    /// The cursor's first byte: a cursor made for one kind of key is refused where another is read.
    static var cursorTag: UInt8 { get }
    /// The key's bytes after the tag.
    var cursorBytes: [UInt8] { get }
    /// The key from the bytes after the tag; `nil` when they are not one.
    init?(cursorBytes: ArraySlice<UInt8>)
}

/// An opaque keyset-pagination cursor: the key of the last item of the previous page, as a tag
/// byte and the key's bytes, base64url without padding. The one encoding every list uses.
package struct PageCursor<Key: PageCursorKey>: Sendable, Equatable {
    package var after: Key

    package init(after: Key) {
        self.after = after
    }

    /// Decodes the text form handed to clients; `nil` when it was not produced by ``encoded``.
    package init?(encoded text: String) {
        guard let data = Data(base64URLEncoded: text), data.first == Key.cursorTag,
            let key = Key(cursorBytes: Array(data).dropFirst())
        else { return nil }
        after = key
    }

    /// The URL-safe text form.
    package var encoded: String {
        Data([Key.cursorTag] + after.cursorBytes).base64URLEncoded
    }
}

extension UUID: PageCursorKey {
    package static var cursorTag: UInt8 { 1 }

    package var cursorBytes: [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }

    package init?(cursorBytes bytes: ArraySlice<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let b = Array(bytes)
        self.init(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }
}

/// A sequence number (a ledger sequence, a line number), never negative; big-endian.
extension Int64: PageCursorKey {
    package static var cursorTag: UInt8 { 2 }

    package var cursorBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }

    package init?(cursorBytes bytes: ArraySlice<UInt8>) {
        guard bytes.count == 8 else { return nil }
        let value = bytes.reduce(Int64(0)) { $0 << 8 | Int64($1) }
        guard value >= 0 else { return nil }
        self = value
    }
}

/// A text key (a job id), as UTF-8.
extension String: PageCursorKey {
    package static var cursorTag: UInt8 { 3 }

    package var cursorBytes: [UInt8] { Array(utf8) }

    package init?(cursorBytes bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty, let text = String(bytes: bytes, encoding: .utf8) else { return nil }
        self = text
    }
}
