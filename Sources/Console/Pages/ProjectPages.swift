import Foundation
import Gateway
import Hummingbird
import SharedModels

/// Projects: the list, a new project, and a project's page with its statistics.
struct ProjectPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("projects") { request, _ in try await list(request) }
        console.get("projects/new") { _, _ in try newProject(fields: nil, problem: nil) }
        console.post("projects") { _, _ in try await create() }
        console.get("projects/:id") { _, context in try await detail(id: context.parameters.require("id")) }
        console.post("projects/:id/activate") { _, context in
            try await change(id: context.parameters.require("id"), to: .active)
        }
        console.post("projects/:id/close") { _, context in
            try await change(id: context.parameters.require("id"), to: .closed)
        }
    }

    // MARK: List

    struct ListPage: Sendable {
        var rows: [Row]
        var hasRows: Bool
        var canCreate: Bool
        var status: Field
        var next: String?
    }

    struct Row: Sendable {
        var href: String
        var name: String
        var type: String
        var status: String
        var asset: String
        var created: String
    }

    private func list(_ request: Request) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let query = request.uri.queryParameters
        let status = query["status"].flatMap { Components.Schemas.ProjectStatus(rawValue: String($0)) }
        let cursor = query["cursor"].map(String.init)
        let page = try await core.api.listProjects(query: .init(limit: 25, cursor: cursor, status: status))
            .ok.body.json
        let statuses = Components.Schemas.ProjectStatus.allCases.map {
            (value: $0.rawValue, label: text.text("project_status_\($0.rawValue)"))
        }
        let view = ListPage(
            rows: page.items.map { project in
                Row(
                    href: "/console/projects/\(project.id)", name: project.name,
                    type: text.text("project_type_\(project._type.rawValue)"),
                    status: text.text("project_status_\(project.status.rawValue)"), asset: project.asset,
                    created: core.dateTime(project.createdAt))
            },
            hasRows: !page.items.isEmpty,
            canCreate: PermissionSet(parsing: session.permissions).allows(Permission(.project, .create)),
            status: .select(
                "status", label: text.text("field_status"), choices: [("", text.text("any"))] + statuses,
                value: status?.rawValue ?? ""),
            next: page.nextCursor.map { cursor in
                Pager.link("/console/projects", ["status": status?.rawValue, "cursor": cursor])
            })
        return core.renderer.page("projects", title: text.text("nav_projects"), view)
    }

    // MARK: New

    struct NewPage: Sendable {
        var name: Field
        var description: Field
        var type: Field
        var asset: Field
        var assetScale: Field
        var defaultCountry: Field
        var problem: ProblemView?
    }

    private func projectFields(_ form: FormData = FormData()) -> [Field] {
        let text = core.language
        return [
            Field("name", label: text.text("field_name"), value: form["name"] ?? "", required: true),
            Field("description", label: text.text("field_description"), value: form["description"] ?? ""),
            .select(
                "type", label: text.text("field_project_type"),
                choices: Components.Schemas.ProjectType.allCases.map {
                    ($0.rawValue, text.text("project_type_\($0.rawValue)"))
                }, value: form["type"] ?? "c2c", required: true),
            Field(
                "asset", label: text.text("field_asset"), value: form["asset"] ?? "", required: true,
                hint: text.text("asset_hint")),
            Field(
                "assetScale", label: text.text("field_asset_scale"), type: "number", value: form["assetScale"] ?? "2",
                required: true, inputmode: "numeric", hint: text.text("asset_scale_hint")),
            Field(
                "defaultCountry", label: text.text("field_default_country"), value: form["defaultCountry"] ?? "",
                hint: text.text("country_hint")),
        ]
    }

    private func newProject(fields: [Field]?, problem: ProblemView?) throws -> Response {
        _ = try core.requireSession()
        let fields = fields ?? projectFields()
        let page = NewPage(
            name: fields[0], description: fields[1], type: fields[2], asset: fields[3], assetScale: fields[4],
            defaultCountry: fields[5], problem: problem)
        return core.renderer.page(
            "project-new", title: core.language.text("project_new_title"), page,
            status: problem == nil ? .ok : .badRequest)
    }

    private func create() async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let text = core.language
        var fields = projectFields(form)
        if form["name"] == nil { fields[0].fail(text.text("error_required")) }
        if form["asset"] == nil { fields[3].fail(text.text("error_required")) }
        let scale = form["assetScale"].flatMap { Int($0) }
        if scale == nil { fields[4].fail(text.text("error_whole_number")) }
        let type = form["type"].flatMap { Components.Schemas.ProjectType(rawValue: $0) }
        if type == nil { fields[2].fail(text.text("error_choose")) }
        guard let scale, let type, let name = form["name"], let asset = form["asset"] else {
            return try newProject(
                fields: fields, problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        do {
            let project = try await core.api.createProject(
                body: .json(
                    .init(
                        name: name, description: form["description"], _type: type, asset: asset.uppercased(),
                        assetScale: scale, defaultCountry: form["defaultCountry"]?.uppercased()))
            ).created.body.json
            Visit.current?.flash(.success, text.text("project_created", project.name))
            return ConsoleCore.redirect(to: "/console/projects/\(project.id)")
        } catch let error where [400, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try newProject(fields: fields, problem: view)
        }
    }

    // MARK: Detail

    /// What every page of a project starts with: its name and the links between its sections.
    struct Heading: Sendable {
        var id: String
        var name: String
        var tabs: [Tab]
    }

    struct Tab: Sendable {
        var href: String
        var label: String
        var current: Bool
    }

    /// The heading of `project`'s section `current`, offering the sections the caller may read.
    static func heading(_ project: Components.Schemas.Project, current: String, core: ConsoleCore) -> Heading {
        let permissions = core.permissions
        let id = project.id
        func reads(_ subject: Permission.Subject) -> Bool {
            permissions.allows(Permission(subject, .read, projectID: id))
        }
        let sections: [(key: String, href: String, label: String, shown: Bool)] = [
            ("overview", "/console/projects/\(id)", "project_overview", true),
            ("beneficiaries", "/console/beneficiaries?projectId=\(id)", "project_beneficiaries", reads(.beneficiary)),
            ("vendors", "/console/vendors?projectId=\(id)", "nav_vendors", reads(.vendor)),
            ("funding", "/console/projects/\(id)/funding", "project_funding", true),
            ("approvers", "/console/projects/\(id)/approvers", "approvers", true),
            (
                "settlement-schedule", "/console/projects/\(id)/settlement-schedule", "project_schedule",
                reads(.settlement)
            ),
        ]
        return Heading(
            id: id, name: project.name,
            tabs: sections.filter(\.shown).map {
                Tab(href: $0.href, label: core.language.text($0.label), current: $0.key == current)
            })
    }

    struct DetailPage: Sendable {
        var heading: Heading
        var id: String
        var name: String
        var description: String?
        var type: String
        var status: String
        var asset: String
        var created: String
        var activated: String?
        var closed: String?
        var stats: Stats?
        var canActivate: Bool
        var canClose: Bool
        var activateQuestion: String
        var closeQuestion: String
    }

    struct Stats: Sendable {
        var beneficiaries: String
        var received: String
        var beneficiariesReceived: String
        var vendorsActive: String
        var byVerification: [Count]
    }

    struct Count: Sendable {
        var label: String
        var value: String
    }

    private func detail(id: String) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let project = try await core.api.getProject(path: .init(id: id)).ok.body.json
        let stats = try? await core.api.getProjectStats(path: .init(id: id)).ok.body.json
        let permissions = PermissionSet(parsing: session.permissions)
        let mayUpdate = permissions.allows(Permission(.project, .update, projectID: project.id))
        let page = DetailPage(
            heading: Self.heading(project, current: "overview", core: core),
            id: project.id, name: project.name, description: project.description,
            type: text.text("project_type_\(project._type.rawValue)"),
            status: text.text("project_status_\(project.status.rawValue)"),
            asset: "\(project.asset) (\(text.text("decimal_places", text.number(Int64(project.assetScale)))))",
            created: core.dateTime(project.createdAt),
            activated: project.activatedAt.map { core.dateTime($0) },
            closed: project.closedAt.map { core.dateTime($0) },
            stats: stats.map { stats in
                Stats(
                    beneficiaries: text.number(Int64(stats.beneficiaries)),
                    received: text.money(stats.receivedTotal, scale: project.assetScale, asset: project.asset),
                    beneficiariesReceived: text.number(Int64(stats.beneficiariesReceived)),
                    vendorsActive: text.number(Int64(stats.vendors.active)),
                    byVerification: stats.byVerificationStatus.additionalProperties.sorted { $0.key < $1.key }.map {
                        Count(label: text.text("verification_status_\($0.key)"), value: text.number(Int64($0.value)))
                    })
            },
            canActivate: mayUpdate && project.status == .draft,
            canClose: mayUpdate && project.status == .active,
            activateQuestion: text.text("project_activate_confirm", project.name),
            closeQuestion: text.text("project_close_confirm", project.name))
        return core.renderer.page("project", title: project.name, page)
    }

    private func change(id: String, to status: Components.Schemas.ProjectStatus) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        do {
            if status == .active {
                _ = try await core.api.activateProject(path: .init(id: id)).ok
            } else {
                _ = try await core.api.closeProject(path: .init(id: id)).ok
            }
            Visit.current?.flash(.success, text.text("project_status_changed_\(status.rawValue)"))
        } catch let error where APIProblem.of(error)?.status == 409 {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/projects/\(id)")
    }
}

/// Links to the next page of a list, keeping its filters.
enum Pager {
    static func link(_ path: String, _ parameters: [String: String?]) -> String {
        let query = parameters.sorted { $0.key < $1.key }.compactMap { key, value -> String? in
            guard let value, !value.isEmpty,
                let encoded = value.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed)
            else { return nil }
            return "\(key)=\(encoded)"
        }
        return query.isEmpty ? path : path + "?" + query.joined(separator: "&")
    }
}

extension CharacterSet {
    /// What a query value may hold unescaped: unreserved characters only.
    static let urlQueryValueAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()
}
