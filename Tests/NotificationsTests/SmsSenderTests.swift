import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Notifications
import ServerKit
import Synchronization
import Testing

/// The two SMS senders: to a gateway over HTTP, and to the embedded default's file.
@Suite("SMS senders")
struct SmsSenderTests {
    /// What a local stand-in gateway received.
    final class Inbox: Sendable {
        let requests = Mutex<[(contentType: String?, key: String?, body: String)]>([])
    }

    static func gateway(_ inbox: Inbox, failing: Bool = false) -> some ApplicationProtocol {
        let router = Router()
        router.post("/messages") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 65_536)
            inbox.requests.withLock {
                $0.append(
                    (
                        request.headers[.contentType], HTTPField.Name("X-Api-Key").flatMap { request.headers[$0] },
                        String(buffer: body)
                    ))
            }
            return failing ? .serviceUnavailable : .accepted
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test("the HTTP sender posts the template with the values escaped, and its credentials header")
    func http() async throws {
        let inbox = Inbox()
        try await Self.gateway(inbox).test(.live) { client in
            let port = try #require(client.port)
            let url = try #require(URL(string: "http://127.0.0.1:\(port)/messages"))
            let json = HTTPSmsSender(
                configuration: .init(
                    url: url, header: ("X-Api-Key", "k-123"),
                    bodyTemplate: #"{"recipient":"{{to}}","text":"{{body}}","sender":"RAHAT"}"#))
            let form = HTTPSmsSender(
                configuration: .init(
                    url: url, bodyTemplate: "To={{to}}&Body={{body}}",
                    contentType: "application/x-www-form-urlencoded"))

            try await json.send(SmsMessage(to: "+9779812345678", body: "Code \"482913\"\nfor Rs 500 at Shop"))
            try await form.send(SmsMessage(to: "+9779812345678", body: "Code 482913 & more: नमस्ते"))

            let received = inbox.requests.withLock { $0 }
            #expect(received.count == 2)
            #expect(received.first?.contentType == "application/json")
            #expect(received.first?.key == "k-123")
            let decoded =
                try JSONSerialization.jsonObject(with: Data((received.first?.body ?? "").utf8))
                as? [String: String]
            #expect(
                decoded == [
                    "recipient": "+9779812345678", "text": "Code \"482913\"\nfor Rs 500 at Shop", "sender": "RAHAT",
                ])
            #expect(
                received.last?.body
                    == "To=%2B9779812345678&Body=Code+482913+%26+more%3A+%E0%A4%A8%E0%A4%AE%E0%A4%B8%E0%A5%8D%E0%A4%A4%E0%A5%87"
            )
        }
    }

    @Test("a gateway's refusal is an error, not a sent message")
    func refused() async throws {
        let inbox = Inbox()
        try await Self.gateway(inbox, failing: true).test(.live) { client in
            let port = try #require(client.port)
            let sender = HTTPSmsSender(
                configuration: .init(url: try #require(URL(string: "http://127.0.0.1:\(port)/messages"))))
            await #expect(throws: SmsDeliveryError.self) {
                try await sender.send(SmsMessage(to: "+9779812345678", body: "hi"))
            }
        }
    }

    @Test("the file sender appends one JSON line per message, whole, however many are sent at once")
    func file() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sms-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sender = FileSmsSender(path: path)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await sender.send(SmsMessage(to: "+97798000000\(index % 10)", body: "Code \(index)"))
                }
            }
            try await group.waitForAll()
        }

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 50)
        let decoded = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(decoded.allSatisfy { $0?["to"]?.hasPrefix("+97798") == true && $0?["sentAt"] != nil })
        #expect(Set(decoded.compactMap { $0?["body"] }).count == 50)
    }

    @Test("without a gateway URL messages go to the data directory's file; a gateway's settings are checked")
    func configuration() throws {
        var embedded = ConfigurationSource(environment: [:])
        var gateway = ConfigurationSource(environment: [
            "RAHAT_SMS_URL": "https://sms.example.org/v1/send", "RAHAT_SMS_HEADER": "Authorization: Bearer t0k",
            "RAHAT_SMS_BODY_TEMPLATE": "to={{to}}&text={{body}}",
            "RAHAT_SMS_CONTENT_TYPE": "application/x-www-form-urlencoded",
        ])
        var bad = ConfigurationSource(environment: [
            "RAHAT_SMS_URL": "ftp://sms.example.org", "RAHAT_SMS_HEADER": "no colon",
        ])
        var badTemplate = ConfigurationSource(environment: [
            "RAHAT_SMS_URL": "https://sms.example.org", "RAHAT_SMS_HEADER": "X-Key value",
            "RAHAT_SMS_BODY_TEMPLATE": "{{body}}", "RAHAT_SMS_CONTENT_TYPE": "text/plain",
        ])

        let file = SmsConfiguration(from: &embedded, dataDirectory: "/var/lib/rahat")
        let http = SmsConfiguration(from: &gateway, dataDirectory: "/var/lib/rahat")
        _ = SmsConfiguration(from: &bad, dataDirectory: "/var/lib/rahat")
        _ = SmsConfiguration(from: &badTemplate, dataDirectory: "/var/lib/rahat")

        #expect(file == .file(path: "/var/lib/rahat/sms.jsonl"))
        guard case .http(let settings) = http else {
            Issue.record("not an HTTP sender: \(http)")
            return
        }
        #expect(settings.url.absoluteString == "https://sms.example.org/v1/send")
        #expect(settings.header?.name == "Authorization" && settings.header?.value == "Bearer t0k")
        #expect(settings.contentType == "application/x-www-form-urlencoded")
        #expect(throws: Never.self) { try gateway.validate() }
        #expect(throws: ConfigurationError.self) { try bad.validate() }
        do {
            try badTemplate.validate()
            Issue.record("a template without {{to}} was accepted")
        } catch {
            #expect(error.problems.count == 3, "\(error.problems)")
        }
    }
}
