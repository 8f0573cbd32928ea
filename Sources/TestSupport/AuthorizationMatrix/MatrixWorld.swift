import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure

/// The two projects the matrix asks about: the callers' own (A) and another (B).
enum MatrixSide: String, CaseIterable, Sendable {
    case own = "A"
    case other = "B"
}

/// What one project holds when the matrix starts: one of each thing a route can name, made by
/// the admin through the API and carried through its whole life (a person verified and paid, a
/// vendor who redeemed, a settled run).
struct MatrixProject: Sendable {
    var id: String
    var beneficiary: String
    var phone: String
    var group: String
    var vendor: String
    var disbursement: String
    var redemption: String
    var settlement: String
    var importID: String
    var verification: String
    var fundAccount: String
    var transfer: String
    var job: String
    /// Another person paid in the project, whom the vendor asks for codes in its own row.
    var shopper: String
    var shopperPhone: String
}

/// A request as one cell sends it.
struct MatrixRequest: Sendable {
    var path: String
    var body: String?
    var contentType: String?

    init(_ path: String) {
        self.path = path
    }

    init(_ path: String, json: [String: Any]) throws {
        self.path = path
        body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        contentType = "application/json"
    }

    init(_ path: String, text: String, contentType: String) {
        self.path = path
        body = text
        self.contentType = contentType
    }
}

/// The platform the matrix runs against, its two projects, and the admin's hand for making the
/// fresh things that routes which consume their target need.
struct MatrixWorld: Sendable {
    let client: any TestClientProtocol
    let admin: String
    /// The unscoped manager: the approver of both projects, the requester of payout changes.
    let manager: String
    let managerID: String
    /// A's manager: an approver of A.
    let managerAID: String
    let own: MatrixProject
    let other: MatrixProject
    let credentials: [MatrixCaller: MatrixCredential]
    let smsFile: String
    /// Any user but the callers, for the user routes.
    let someUser: String
    /// One of the admin's API keys.
    let adminKey: String

    subscript(side: MatrixSide) -> MatrixProject {
        switch side {
        case .own: own
        case .other: other
        }
    }

    /// Sends as the admin and returns the JSON answer, failing loudly on anything but `expect`.
    func adminSend(
        _ method: HTTPRequest.Method, _ path: String, json: Any? = nil, raw: String? = nil,
        contentType: String? = nil, as bearer: String? = nil, expect: HTTPResponse.Status...
    ) async throws -> [String: Any] {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        let answer = try await client.send(
            method, path, json: json, raw: raw, bearer: bearer ?? admin, headers: headers)
        guard expect.isEmpty || expect.contains(answer.status) else {
            throw MatrixSetupFailed(step: "\(method) \(path)", answer: answer)
        }
        return answer.body.isEmpty ? [:] : try answer.json
    }

    // MARK: Fresh targets for routes that use theirs up

    /// A person registered and enrolled in the side's project.
    func freshBeneficiary(in side: MatrixSide) async throws -> String {
        let created = try await adminSend(.post, "/v1/beneficiaries", json: ["name": "Fresh person"], expect: .created)
        let id = try created.string("id")
        _ = try await adminSend(
            .post, "/v1/projects/\(self[side].id)/beneficiaries", json: ["beneficiaryIds": [id]], expect: .ok)
        return id
    }

    /// A vendor serving the side's project.
    func freshVendor(in side: MatrixSide) async throws -> String {
        let created = try await adminSend(
            .post, "/v1/vendors",
            json: [
                "name": "Fresh shop", "email": Self.freshEmail(), "password": "a shop's long passphrase",
                "payoutAccount": Self.payoutAccount("0100-0000-0001"),
            ],
            expect: .created)
        let id = try created.string("id")
        _ = try await adminSend(.post, "/v1/projects/\(self[side].id)/vendors", json: ["vendorId": id], expect: .ok)
        return id
    }

    /// A vendor of the side's project whose new payout account the unscoped manager asked for.
    func freshPayoutChange(in side: MatrixSide) async throws -> String {
        let vendor = try await freshVendor(in: side)
        _ = try await adminSend(
            .patch, "/v1/vendors/\(vendor)", json: ["payoutAccount": Self.payoutAccount("0100-9999-0002")],
            as: manager, expect: .ok)
        return vendor
    }

    /// A group holding the side's person.
    func freshGroup(in side: MatrixSide) async throws -> String {
        let group = try await adminSend(.post, "/v1/groups", json: ["name": "Fresh group"], expect: .created)
        let id = try group.string("id")
        _ = try await adminSend(
            .post, "/v1/groups/\(id)/members", json: ["beneficiaryIds": [self[side].beneficiary]], expect: .ok)
        return id
    }

    /// A disbursement of the side's project paying its person, drafted by the admin and, unless
    /// `submitted` is false, waiting for approval.
    func freshDisbursement(in side: MatrixSide, submitted: Bool = true) async throws -> String {
        let draft = try await adminSend(
            .post, "/v1/disbursements",
            json: [
                "projectId": self[side].id, "name": "Fresh", "amountPerBeneficiary": 100,
                "reference": "FRESH-\(UUID().uuidString.prefix(8))",
            ], expect: .created)
        let id = try draft.string("id")
        if submitted { _ = try await adminSend(.post, "/v1/disbursements/\(id)/submit", expect: .ok) }
        return id
    }

    /// A redemption the side's vendor asked its person for, not yet confirmed, and the code
    /// their phone received.
    func freshRedemption(in side: MatrixSide) async throws -> (id: String, code: String) {
        let vendor = try credentials[side == .own ? .vendorA : .vendorB].unwrapBearer()
        let requested = try await adminSend(
            .post, "/v1/redemptions",
            json: ["vendorId": self[side].vendor, "phone": self[side].phone, "amount": 1], as: vendor,
            // The one a denied caller left open is asked for again, and its code still holds.
            expect: .created, .ok)
        return (try requested.string("id"), try lastCode(to: self[side].phone))
    }

    /// A user with no roles.
    func freshUser() async throws -> String {
        let created = try await adminSend(
            .post, "/v1/users",
            json: [
                "name": "Fresh user", "email": Self.freshEmail(),
                "password": "a fresh long passphrase",
            ], expect: .created)
        return try created.string("id")
    }

    /// A custom role nobody holds.
    func freshRole() async throws -> String {
        let name = "fresh_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await adminSend(
            .post, "/v1/roles", json: ["name": name, "permissions": ["project:read"]], expect: .created)
        return name
    }

    /// The 6-digit code last sent to `phone`.
    func lastCode(to phone: String) throws -> String {
        let lines = try String(contentsOfFile: smsFile, encoding: .utf8).split(separator: "\n")
        for line in lines.reversed() {
            guard let message = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                message["to"] as? String == phone, let text = message["body"] as? String
            else { continue }
            if let code = text.split(whereSeparator: { !$0.isNumber }).first(where: { $0.count == 6 }) {
                return String(code)
            }
        }
        throw MatrixSetupFailed(step: "reading the code sent to \(phone)", answer: nil)
    }

    /// An address nobody has yet.
    static func freshEmail() -> String {
        "fresh-\(UUID().uuidString.prefix(13).lowercased())@example.org"
    }

    static func payoutAccount(_ number: String) -> [String: Any] {
        ["type": "bank", "bankName": "Nabil Bank", "accountName": "A shop", "accountNumber": number]
    }
}

/// A step of the matrix's set-up that did not answer as it must.
struct MatrixSetupFailed: Error, CustomStringConvertible {
    var step: String
    var answer: HTTPAnswer?
    var description: String { "setting up the matrix, \(step): \(answer.map(String.init(describing:)) ?? "no answer")" }
}

extension [String: Any] {
    /// The string at `key`, or an error naming the key and the object.
    func string(_ key: String) throws -> String {
        guard let value = self[key] as? String else {
            throw MatrixSetupFailed(step: "reading '\(key)' of \(self)", answer: nil)
        }
        return value
    }
}
