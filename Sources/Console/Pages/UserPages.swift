import Foundation
import Gateway
import Hummingbird
import SharedModels

/// Users: the list, creating one with a first role, a user's page with the roles they hold (each
/// for every project or one), adding and removing a role, and disabling and enabling them.
struct UserPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("users") { request, _ in try await users(request) }
        console.get("users/new") { _, _ in try await newUser(fields: nil, problem: nil) }
        console.post("users") { _, _ in try await create() }
        console.get("users/:id") { _, context in try await detail(id: context.parameters.require("id"), problem: nil) }
        console.post("users/:id/roles") { _, context in try await changeRoles(id: context.parameters.require("id")) }
        console.post("users/:id/status") { _, context in try await setStatus(id: context.parameters.require("id")) }
    }

    // MARK: List

    struct UsersPage: Sendable {
        var rows: [UserRow]
        var hasRows: Bool
        var canCreate: Bool
        var next: String?
    }

    struct UserRow: Sendable {
        var id: String
        var name: String
        var email: String
        var roles: String
        var status: String
        var active: Bool
        var canChange: Bool
        var disableQuestion: String
    }

    private func users(_ request: Request) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let page = try await core.api.listUsers(
            query: .init(limit: 50, cursor: request.uri.queryParameters["cursor"].map(String.init))
        ).ok.body.json
        let projects = await projectNames()
        let mayUpdate = core.permissions.allows(Permission(.user, .update))
        let view = UsersPage(
            rows: page.items.map { user in
                UserRow(
                    id: user.id, name: user.name, email: user.email,
                    roles: user.roles.map { Self.describe($0, projects: projects, text: text) }.joined(separator: ", "),
                    status: text.text("user_status_\(user.status.rawValue)"), active: user.status == .active,
                    canChange: mayUpdate && user.id != session.userID,
                    disableQuestion: text.text("user_disable_confirm", user.name))
            },
            hasRows: !page.items.isEmpty, canCreate: core.permissions.allows(Permission(.user, .create)),
            next: page.nextCursor.map { Pager.link("/console/users", ["cursor": $0]) })
        return core.renderer.page("users", title: text.text("nav_users"), view)
    }

    /// A role as people read it: its name, and the project it is limited to.
    static func describe(
        _ assignment: Components.Schemas.RoleAssignment, projects: [String: String], text: Language
    ) -> String {
        guard let project = assignment.projectId else { return text.text("role_everywhere", assignment.role) }
        return text.text("role_in_project", assignment.role, projects[project] ?? String(project.prefix(8)))
    }

    /// The names of the projects the caller may read, by id.
    private func projectNames() async -> [String: String] {
        let projects = (try? await core.readableProjects()) ?? []
        return Dictionary(projects.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: New

    struct NewPage: Sendable {
        var fields: [Field]
        var problem: ProblemView?
    }

    private func roleFields(_ form: FormData, projects: [String: String], required: Bool) async -> [Field] {
        let text = core.language
        let roles = (try? await core.api.listRoles().ok.body.json.items) ?? []
        return [
            .select(
                "role", label: text.text("field_role"),
                choices: (required ? [] : [("", text.text("none"))]) + roles.map { ($0.name, $0.name) },
                value: form["role"] ?? "", required: required, hint: text.text("role_hint")),
            .select(
                "projectId", label: text.text("field_role_project"),
                choices: [("", text.text("all_projects"))]
                    + projects.sorted { $0.value < $1.value }.map { ($0.key, $0.value) },
                value: form["projectId"] ?? "", hint: text.text("role_project_hint")),
        ]
    }

    private func userFields(_ form: FormData) async -> [Field] {
        let text = core.language
        return [
            Field("name", label: text.text("field_name"), value: form["name"] ?? "", required: true),
            Field(
                "email", label: text.text("field_email"), type: "email", value: form["email"] ?? "", required: true,
                autocomplete: "off"),
            Field(
                "password", label: text.text("field_password"), type: "password", required: true,
                autocomplete: "new-password", hint: text.text("password_hint")),
            Field(
                "phone", label: text.text("field_phone"), type: "tel", value: form["phone"] ?? "",
                autocomplete: "off", hint: text.text("mobile_number_hint")),
        ] + (await roleFields(form, projects: projectNames(), required: false))
    }

    private func newUser(fields: [Field]?, problem: ProblemView?) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let fields = if let fields { fields } else { await userFields(FormData()) }
        let page = NewPage(fields: fields, problem: problem)
        return core.renderer.page(
            "user-new", title: text.text("user_new_title"), page, status: problem == nil ? .ok : .badRequest)
    }

    private func create() async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        // The form's fields (which read the roles and projects) are built only to show it again.
        let missing = ["name", "email", "password"].filter { form.raw($0)?.isEmpty ?? true }
        guard missing.isEmpty, let name = form["name"], let email = form["email"], let password = form.raw("password")
        else {
            var fields = await userFields(form)
            for index in fields.indices where missing.contains(fields[index].name) {
                fields[index].fail(text.text("error_required"))
            }
            return try await newUser(
                fields: fields, problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        let roles = form["role"].map { [Components.Schemas.RoleAssignment(role: $0, projectId: form["projectId"])] }
        do {
            let user = try await core.api.createUser(
                body: .json(.init(name: name, email: email, password: password, phone: form["phone"], roles: roles))
            ).created.body.json
            Visit.current?.flash(.success, text.text("user_created", user.name))
            return ConsoleCore.redirect(to: "/console/users/\(user.id)")
        } catch let error where [400, 403, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            var fields = await userFields(form)
            let view = ProblemView(problem, fields: &fields)
            return try await newUser(fields: fields, problem: view)
        }
    }

    // MARK: A user

    struct DetailPage: Sendable {
        var id: String
        var name: String
        var facts: [Fact]
        var roles: [RoleRow]
        var hasRoles: Bool
        var canChange: Bool
        var active: Bool
        var canChangeStatus: Bool
        var disableQuestion: String
        var add: [Field]
        var problem: ProblemView?
    }

    struct RoleRow: Sendable {
        var label: String
        var role: String
        var projectID: String
        var removeQuestion: String
    }

    private func detail(id: String, problem: ProblemView?, add: [Field]? = nil) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let user = try await core.api.getUser(path: .init(id: id)).ok.body.json
        let projects = await projectNames()
        var facts = [
            Fact(label: text.text("field_email"), value: user.email),
            Fact(label: text.text("field_status"), value: text.text("user_status_\(user.status.rawValue)")),
            Fact(label: text.text("created"), value: core.dateTime(user.createdAt)),
        ]
        if let phone = user.phone { facts.insert(Fact(label: text.text("field_phone"), value: phone), at: 1) }
        let canChange = core.permissions.allows(Permission(.user, .update))
        let add = if let add { add } else { await roleFields(FormData(), projects: projects, required: true) }
        let view = DetailPage(
            id: user.id, name: user.name, facts: facts,
            roles: user.roles.map { assignment in
                let label = Self.describe(assignment, projects: projects, text: text)
                return RoleRow(
                    label: label, role: assignment.role, projectID: assignment.projectId ?? "",
                    removeQuestion: text.text("role_remove_confirm", label, user.name))
            },
            hasRoles: !user.roles.isEmpty, canChange: canChange, active: user.status == .active,
            canChangeStatus: canChange && user.id != session.userID,
            disableQuestion: text.text("user_disable_confirm", user.name),
            add: add, problem: problem)
        return core.renderer.page("user", title: user.name, view, status: problem == nil ? .ok : .badRequest)
    }

    /// Adds or removes one assignment: the API replaces the whole list, so it is read first.
    private func changeRoles(id: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        guard let role = form["role"] else {
            var fields = await roleFields(form, projects: projectNames(), required: true)
            fields[0].fail(text.text("error_choose"))
            return try await detail(
                id: id, problem: ProblemView(detail: text.text("error_check_fields"), fields: fields), add: fields)
        }
        let assignment = Components.Schemas.RoleAssignment(role: role, projectId: form["projectId"])
        var roles = try await core.api.listUserRoles(path: .init(id: id)).ok.body.json.items
        let removing = form["action"] == "remove"
        if removing {
            roles.removeAll { $0 == assignment }
        } else if !roles.contains(assignment) {
            roles.append(assignment)
        }
        do {
            _ = try await core.api.setUserRoles(path: .init(id: id), body: .json(.init(roles: roles))).ok
            Visit.current?.flash(.success, text.text(removing ? "role_removed" : "role_added"))
        } catch let error where [400, 403].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            if removing {
                Visit.current?.flash(.error, problem.detail)
            } else {
                var fields = await roleFields(form, projects: projectNames(), required: true)
                let view = ProblemView(problem, fields: &fields)
                return try await detail(id: id, problem: view, add: fields)
            }
        }
        return ConsoleCore.redirect(to: "/console/users/\(id)")
    }

    private func setStatus(id: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let status = form["status"].flatMap(Components.Schemas.UserStatus.init(rawValue:)) ?? .disabled
        do {
            _ = try await core.api.updateUser(path: .init(id: id), body: .json(.init(status: status))).ok
            Visit.current?.flash(.success, core.language.text("user_now_\(status.rawValue)"))
        } catch let error where [400, 403, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        // Back to where the button was: the list, or the user's page.
        return ConsoleCore.redirect(to: form["back"] == "user" ? "/console/users/\(id)" : "/console/users")
    }
}
