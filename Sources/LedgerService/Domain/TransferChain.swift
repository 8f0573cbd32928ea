import Crypto
import Foundation
import SharedModels

/// The hash chain over transfers: each row's hash covers the previous row's hash and every field of
/// the row, so changing, removing or inserting a row breaks the chain from that row on.
enum TransferChain {
    /// The previous hash of the first transfer.
    static let genesis = String(repeating: "0", count: 64)

    /// SHA-256 over a versioned, length-prefixed encoding: no two different rows encode alike,
    /// whatever their text fields hold.
    static func hash(of record: TransferRecord, after prevHash: String) -> String {
        var encoder = Encoder()
        encoder.bytes.reserveCapacity(512)
        encoder.append("rahat.ledger.transfer.v1")
        encoder.append(prevHash)
        encoder.append(record.sequence)
        encoder.append(record.id)
        encoder.append(record.idempotencyKey)
        encoder.append(record.debitAccountID)
        encoder.append(record.creditAccountID)
        encoder.append(record.amount)
        encoder.append(record.asset)
        encoder.append(record.kind.rawValue)
        encoder.append(record.reference)
        encoder.append(record.projectID)
        encoder.append(milliseconds(record.createdAt))
        encoder.append(record.debitBalanceAfter)
        encoder.append(record.creditBalanceAfter)
        return SHA256.hash(data: encoder.bytes).hexString
    }

    /// Transfer times are kept to the millisecond: what both databases store and give back exactly.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// `date` on its nearest whole millisecond.
    static func onMillisecond(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
    }

    /// `date` on a whole millisecond, never later than it.
    static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(Int64((date.timeIntervalSince1970 * 1000).rounded(.down))) / 1000)
    }

    private struct Encoder {
        var bytes: [UInt8] = []

        mutating func append(_ text: String) {
            append(UInt32(text.utf8.count))
            bytes.append(contentsOf: text.utf8)
        }

        /// As its lower-case text, without making the `String`.
        mutating func append(_ id: UUID) {
            append(UInt32(UUID.lowercasedLength))
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: UUID.lowercasedLength))
            _ = bytes.withUnsafeMutableBytes {
                id.writeLowercased(into: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
            }
        }

        mutating func append(_ value: Int64) {
            append(UInt32(8))
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }

        private mutating func append(_ length: UInt32) {
            withUnsafeBytes(of: length.bigEndian) { bytes.append(contentsOf: $0) }
        }
    }
}
