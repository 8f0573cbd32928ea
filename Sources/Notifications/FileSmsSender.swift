import Foundation
import Synchronization

/// Appends each message as one JSON line, `{"to":…,"body":…,"sentAt":…}`, to a file: the
/// embedded default's SMS gateway (`<data dir>/sms.jsonl`), where a one-time code can be read.
package final class FileSmsSender: SmsSender {
    private let path: String
    /// One writer at a time, so lines never interleave.
    private let lock = Mutex(())

    package init(path: String) {
        self.path = path
    }

    package func send(_ message: SmsMessage) async throws {
        struct Line: Encodable {
            var to: String
            var body: String
            var sentAt: Date
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(Line(to: message.to, body: message.body, sentAt: Date()))
        data.append(0x0A)
        try lock.withLock { _ in
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            guard fd >= 0 else { throw SmsDeliveryError("cannot open \(path): errno \(errno)") }
            defer { close(fd) }
            // O_APPEND writes of one line land whole at the end, even beside another process.
            let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == data.count else { throw SmsDeliveryError("cannot write \(path): errno \(errno)") }
        }
    }
}
