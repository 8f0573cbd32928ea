import Foundation
import Gateway
import Hummingbird
import SharedModels

/// Roles: the built-in ones and an agency's own, each with what it allows; a new role from a grid
/// of subjects and actions; deleting one nobody holds.
struct RolePages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("roles") { _, _ in try await roles(fields: nil, chosen: [], problem: nil) }
        console.post("roles") { _, _ in try await create() }
        console.post("roles/:name/delete") { _, context in try await delete(name: context.parameters.require("name")) }
    }

    struct RolesPage: Sendable {
        var rows: [Row]
        var canCreate: Bool
        var canDelete: Bool
        var fields: [Field]
        var actions: [String]
        var grid: [GridRow]
        var problem: ProblemView?
    }

    struct Row: Sendable {
        var name: String
        var description: String
        var kind: String
        var permissions: String
        var deletable: Bool
        var deleteQuestion: String
    }

    struct GridRow: Sendable {
        var subject: String
        var cells: [Cell]
    }

    struct Cell: Sendable {
        var id: String
        var value: String
        var checked: Bool
    }

    private func roleFields(_ form: FormData) -> [Field] {
        let text = core.language
        return [
            Field(
                "name", label: text.text("field_role_name"), value: form["name"] ?? "", required: true,
                autocomplete: "off", hint: text.text("role_name_hint")),
            Field("description", label: text.text("field_description"), value: form["description"] ?? ""),
        ]
    }

    private func roles(fields: [Field]?, chosen: Set<String>, problem: ProblemView?) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let permissions = core.permissions
        let roles = try await core.api.listRoles().ok.body.json.items
        let actions = Permission.Action.allCases.map(\.rawValue)
        let view = RolesPage(
            rows: roles.map { role in
                Row(
                    name: role.name, description: role.description ?? "",
                    kind: text.text(role.builtIn ? "role_built_in" : "role_custom"),
                    permissions: role.permissions.joined(separator: ", "), deletable: !role.builtIn,
                    deleteQuestion: text.text("role_delete_confirm", role.name))
            },
            canCreate: permissions.allows(Permission(.role, .create)),
            canDelete: permissions.allows(Permission(.role, .delete)), fields: fields ?? roleFields(FormData()),
            actions: actions,
            grid: Permission.Subject.allCases.map { subject in
                GridRow(
                    subject: subject.rawValue,
                    cells: actions.map { action in
                        let value = "\(subject.rawValue):\(action)"
                        return Cell(
                            id: "permission-\(subject.rawValue)-\(action)", value: value,
                            checked: chosen.contains(value))
                    })
            },
            problem: problem)
        return core.renderer.page(
            "roles", title: text.text("nav_roles"), view, status: problem == nil ? .ok : .badRequest)
    }

    private func create() async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        var fields = roleFields(form)
        let chosen = form.all("permissions")
        if form["name"] == nil { fields[0].fail(text.text("error_required")) }
        guard let name = form["name"], !chosen.isEmpty, fields.allSatisfy({ $0.error == nil }) else {
            let detail = chosen.isEmpty ? text.text("error_choose_permissions") : text.text("error_check_fields")
            return try await roles(
                fields: fields, chosen: Set(chosen), problem: ProblemView(detail: detail, fields: fields))
        }
        do {
            let role = try await core.api.createRole(
                body: .json(.init(name: name, description: form["description"], permissions: chosen))
            ).created.body.json
            Visit.current?.flash(.success, text.text("role_created", role.name))
        } catch let error where [400, 403, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await roles(fields: fields, chosen: Set(chosen), problem: view)
        }
        return ConsoleCore.redirect(to: "/console/roles")
    }

    private func delete(name: String) async throws -> Response {
        _ = try core.requireSession()
        do {
            _ = try await core.api.deleteRole(path: .init(name: name)).noContent
            Visit.current?.flash(.success, core.language.text("role_deleted", name))
        } catch let error where [400, 403, 404, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/roles")
    }
}
