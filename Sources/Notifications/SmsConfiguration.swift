import Foundation
package import ServerKit

/// Where text messages go.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_SMS_URL` | none: messages go to `<data dir>/sms.jsonl` (embedded only) | the SMS gateway's HTTP(S) endpoint; each message is one `POST` |
/// | `RAHAT_SMS_FILE` | none | append messages to this file instead of sending them (evaluation and tests; never where codes must reach people) |
/// | `RAHAT_SMS_HEADER` / `_FILE` *secret* | none | one header sent with each, `Name: value` (the gateway's credentials) |
/// | `RAHAT_SMS_BODY_TEMPLATE` | `{"to":"{{to}}","body":"{{body}}"}` | the request body; `{{to}}` (E.164) and `{{body}}` are filled in, escaped for the content type |
/// | `RAHAT_SMS_CONTENT_TYPE` | `application/json` | or `application/x-www-form-urlencoded` |
package enum SmsConfiguration: Sendable, Equatable {
    /// Appends to a file: the embedded default, and any deployment without a gateway.
    case file(path: String)
    case http(HTTPSmsSender.Configuration)

    package init(from source: inout ConfigurationSource, dataDirectory: String) {
        guard let url = source.url("RAHAT_SMS_URL", schemes: ["http", "https"]) else {
            let file = source.string("RAHAT_SMS_FILE", default: "")
            self = .file(
                path: file.isEmpty
                    ? URL(fileURLWithPath: dataDirectory).appendingPathComponent("sms.jsonl").path : file)
            return
        }
        var header: (name: String, value: String)?
        if let text = source.secret("RAHAT_SMS_HEADER") {
            let parts = text.split(separator: ":", maxSplits: 1)
            let name = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if parts.count == 2, !name.isEmpty, !name.contains(" ") {
                header = (name, parts[1].trimmingCharacters(in: .whitespaces))
            } else {
                source.report("RAHAT_SMS_HEADER: must be 'Name: value'")
            }
        }
        let template = source.string("RAHAT_SMS_BODY_TEMPLATE", default: #"{"to":"{{to}}","body":"{{body}}"}"#)
        if !template.contains("{{to}}") || !template.contains("{{body}}") {
            source.report("RAHAT_SMS_BODY_TEMPLATE: must contain {{to}} and {{body}}")
        }
        let contentType = source.string("RAHAT_SMS_CONTENT_TYPE", default: "application/json")
        if !["application/json", "application/x-www-form-urlencoded"].contains(contentType) {
            source.report("RAHAT_SMS_CONTENT_TYPE: must be application/json or application/x-www-form-urlencoded")
        }
        self = .http(.init(url: url, header: header, bodyTemplate: template, contentType: contentType))
    }

    /// Reports a process that would send codes nowhere: without `RAHAT_SMS_URL` a distributed
    /// process writes them to a file nobody reads, and whoever can read it confirms redemptions.
    /// Writing to a file must then be chosen (`RAHAT_SMS_FILE`).
    package static func requireSender(in source: inout ConfigurationSource, process: String) {
        guard source.raw("RAHAT_SMS_URL") == nil, source.raw("RAHAT_SMS_FILE") == nil else { return }
        source.report(
            "RAHAT_SMS_URL: required by '\(process)' (codes and notices must reach people's phones); "
                + "set RAHAT_SMS_FILE=<path> to write messages to a file instead, for evaluation only")
    }

    /// The sender this configuration describes.
    package func sender() -> any SmsSender {
        switch self {
        case .file(let path): FileSmsSender(path: path)
        case .http(let configuration): HTTPSmsSender(configuration: configuration)
        }
    }
}
