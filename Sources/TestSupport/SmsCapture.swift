import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
package import Notifications
import Synchronization
import TestInfrastructure

/// A local SMS gateway that keeps what it is sent, and the real HTTP sender pointed at it: tests
/// read the codes a beneficiary's phone would show.
package struct SmsCapture: Sendable {
    private final class Inbox: Sendable {
        let messages = Mutex<[SmsMessage]>([])
    }

    private let inbox: Inbox
    /// Sends to this gateway with the default JSON template.
    package let sender: HTTPSmsSender

    /// Every message received, oldest first.
    package var messages: [SmsMessage] { inbox.messages.withLock { $0 } }

    /// The last 6-digit code sent to `phone`.
    package func lastCode(to phone: String) -> String? {
        guard let body = messages.last(where: { $0.to == phone })?.body else { return nil }
        return body.split(whereSeparator: { !$0.isNumber }).first(where: { $0.count == 6 }).map(String.init)
    }

    /// Runs `body` with a gateway listening on a free local port.
    package static func with<T: Sendable>(_ body: @escaping @Sendable (SmsCapture) async throws -> T) async throws -> T
    {
        let inbox = Inbox()
        let router = Router()
        router.post("/messages") { request, _ -> HTTPResponse.Status in
            let data = Data(try await request.body.collect(upTo: 65_536).readableBytesView)
            guard let fields = try JSONSerialization.jsonObject(with: data) as? [String: String],
                let to = fields["to"], let text = fields["body"]
            else { return .badRequest }
            inbox.messages.withLock { $0.append(SmsMessage(to: to, body: text)) }
            return .accepted
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port, let url = URL(string: "http://127.0.0.1:\(port)/messages") else {
                throw SmsDeliveryError("the capture gateway has no port")
            }
            return try await body(
                SmsCapture(inbox: inbox, sender: HTTPSmsSender(configuration: .init(url: url))))
        }
    }
}
