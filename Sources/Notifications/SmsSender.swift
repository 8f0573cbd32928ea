import Foundation

/// One text message to one phone.
package struct SmsMessage: Sendable, Equatable {
    /// E.164, e.g. `+9779812345678`.
    package var to: String
    package var body: String

    package init(to: String, body: String) {
        self.to = to
        self.body = body
    }
}

/// Sends text messages: to an SMS gateway over HTTP, or, in the embedded default, to a file an
/// operator (or an evaluator) reads.
package protocol SmsSender: Sendable {
    /// Returns once the message is handed over; throws when it was not.
    func send(_ message: SmsMessage) async throws
}

/// The gateway or the file did not take a message.
package struct SmsDeliveryError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
