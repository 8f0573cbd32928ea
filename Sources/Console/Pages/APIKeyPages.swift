import Foundation
import Gateway
import Hummingbird
import SharedModels

/// API keys: one's own, created with a subset of one's own permissions, shown once, revoked at
/// once.
struct APIKeyPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("api-keys") { _, _ in try await keys(created: nil, fields: nil, problem: nil) }
        console.post("api-keys") { _, _ in try await createKey() }
        console.post("api-keys/:id/revoke") { _, context in try await revoke(id: context.parameters.require("id")) }
    }

    // MARK: API keys

    struct KeysPage: Sendable {
        var rows: [KeyRow]
        var hasRows: Bool
        /// The secret of the key just made: shown on this page only, never again.
        var created: Created?
        var fields: [Field]
        var permissions: [Choice]
        var problem: ProblemView?
    }

    struct Created: Sendable {
        var name: String
        var key: String
    }

    struct Choice: Sendable {
        var id: String
        var value: String
        var checked: Bool
    }

    struct KeyRow: Sendable {
        var id: String
        var name: String
        var prefix: String
        var permissions: String
        var lastUsed: String
        var revoked: String?
        var revokeQuestion: String
    }

    private func keyFields(_ form: FormData) -> [Field] {
        let text = core.language
        return [
            Field(
                "name", label: text.text("field_key_name"), value: form["name"] ?? "", required: true,
                hint: text.text("key_name_hint")),
            Field(
                "expiresAt", label: text.text("field_expires"), type: "date", value: form["expiresAt"] ?? "",
                hint: text.text("expires_hint")),
        ]
    }

    private func keys(
        created: Created?, fields: [Field]?, problem: ProblemView?, chosen: Set<String> = []
    )
        async throws -> Response
    {
        let session = try core.requireSession()
        let text = core.language
        let keys = try await core.api.listApiKeys().ok.body.json.items
        let page = KeysPage(
            rows: keys.map { key in
                KeyRow(
                    id: key.id, name: key.name, prefix: key.prefix + "…",
                    permissions: key.permissions.joined(separator: ", "),
                    lastUsed: key.lastUsedAt.map { core.dateTime($0) } ?? text.text("never"),
                    revoked: key.revokedAt.map { core.dateTime($0) },
                    revokeQuestion: text.text("key_revoke_confirm", key.name))
            },
            hasRows: !keys.isEmpty, created: created, fields: fields ?? keyFields(FormData()),
            permissions: session.permissions.sorted().enumerated().map { index, permission in
                Choice(id: "permission-\(index)", value: permission, checked: chosen.contains(permission))
            },
            problem: problem)
        var response = core.renderer.page(
            "api-keys", title: text.text("nav_api_keys"), page, status: problem == nil ? .ok : .badRequest)
        // The one page that carries a secret.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    private func createKey() async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let text = core.language
        var fields = keyFields(form)
        let permissions = form.all("permissions")
        if form["name"] == nil { fields[0].fail(text.text("error_required")) }
        let expires = form["expiresAt"].flatMap { day -> Date? in
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = Visit.current?.timeZone ?? .gmt
            let parts = day.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3 else { return nil }
            return calendar.date(
                from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 23, minute: 59))
        }
        if form["expiresAt"] != nil, expires == nil { fields[1].fail(text.text("error_date")) }
        guard let name = form["name"], fields.allSatisfy({ $0.error == nil }), !permissions.isEmpty else {
            let detail = permissions.isEmpty ? text.text("error_choose_permissions") : text.text("error_check_fields")
            return try await keys(
                created: nil, fields: fields, problem: ProblemView(detail: detail, fields: fields),
                chosen: Set(permissions))
        }
        do {
            let key = try await core.api.createApiKey(
                body: .json(.init(name: name, permissions: permissions, expiresAt: expires))
            ).created.body.json
            return try await keys(created: Created(name: key.name, key: key.key), fields: nil, problem: nil)
        } catch let error where [400, 403].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await keys(created: nil, fields: fields, problem: view, chosen: Set(permissions))
        }
    }

    private func revoke(id: String) async throws -> Response {
        _ = try core.requireSession()
        _ = try await core.api.revokeApiKey(path: .init(id: id)).noContent
        Visit.current?.flash(.success, core.language.text("key_revoked"))
        return ConsoleCore.redirect(to: "/console/api-keys")
    }
}
