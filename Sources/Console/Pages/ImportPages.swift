import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import NIOCore
import OpenAPIRuntime
import SharedModels

/// Imports: uploading a CSV of people (into a project, if chosen), following it live, its counts,
/// and the rejected rows as a CSV download.
struct ImportPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("imports") { request, _ in try await list(request, fields: nil, problem: nil) }
        console.post("imports") { request, _ in try await upload(request) }
        console.get("imports/:id") { _, context in try await detail(id: context.parameters.require("id")) }
        console.get("imports/:id/progress") { _, context in try progress(id: context.parameters.require("id")) }
        console.get("imports/:id/rejects") { _, context in try await rejects(id: context.parameters.require("id")) }
    }

    struct ListPage: Sendable {
        var rows: [Row]
        var hasRows: Bool
        var canUpload: Bool
        var fields: [Field]
        var problem: ProblemView?
        var next: String?
        var limit: String
    }

    struct Row: Sendable {
        var href: String
        var file: String
        var status: String
        var rows: String
        var created: String
        var rejected: String
        var when: String
    }

    private func uploadFields(projects: [Components.Schemas.Project], form: FormData) -> [Field] {
        let text = core.language
        return [
            Field(
                "file", label: text.text("field_import_file"), type: "file", required: true,
                hint: text.text("import_file_hint")),
            .select(
                "projectId", label: text.text("field_enrol_in"),
                choices: [("", text.text("no_project"))] + projects.map { ($0.id, $0.name) },
                value: form["projectId"] ?? ""),
            .select(
                "onDuplicate", label: text.text("field_on_duplicate"),
                choices: Components.Schemas.Import.OnDuplicatePayload.allCases.map {
                    ($0.rawValue, text.text("on_duplicate_\($0.rawValue)"))
                }, value: form["onDuplicate"] ?? "reject"),
            Field(
                "country", label: text.text("field_country"), value: form["country"] ?? "",
                hint: text.text("country_hint")),
        ]
    }

    private func list(_ request: Request, fields: [Field]?, problem: ProblemView?) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let page = try await core.api.listImports(
            query: .init(limit: 25, cursor: request.uri.queryParameters["cursor"].map(String.init))
        ).ok.body.json
        let projects = try await core.api.listProjects(query: .init(limit: 200)).ok.body.json.items
            .filter { $0.status != .closed }
        let view = ListPage(
            rows: page.items.map { item in
                Row(
                    href: "/console/imports/\(item.id)", file: item.fileName ?? text.text("unnamed_file"),
                    status: text.text("import_status_\(item.status.rawValue)"), rows: text.number(Int64(item.rows)),
                    created: text.number(Int64(item.created)), rejected: text.number(Int64(item.rejected)),
                    when: core.dateTime(item.createdAt))
            },
            hasRows: !page.items.isEmpty,
            canUpload: core.permissions.allowsAnywhere(.beneficiary, .create),
            fields: fields ?? uploadFields(projects: projects, form: FormData()),
            problem: problem,
            next: page.nextCursor.map { Pager.link("/console/imports", ["cursor": $0]) },
            limit: text.text("upload_limit", String(core.configuration.maxUploadBytes / (1024 * 1024))))
        return core.renderer.page(
            "imports", title: text.text("nav_imports"), view, status: problem == nil ? .ok : .badRequest)
    }

    private func upload(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        guard let visit = Visit.current else { throw SignInRequired() }
        let text = core.language
        let form = visit.form
        let projects = try await core.api.listProjects(query: .init(limit: 200)).ok.body.json.items
            .filter { $0.status != .closed }
        var fields = uploadFields(projects: projects, form: form)
        guard let file = visit.files["file"], !file.bytes.isEmpty else {
            fields[0].fail(text.text("error_choose_file"))
            return try await list(
                request, fields: fields, problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        do {
            let accepted = try await core.api.createImport(
                query: .init(
                    projectId: form["projectId"], onDuplicate: form["onDuplicate"].flatMap { .init(rawValue: $0) },
                    country: form["country"]?.uppercased(), fileName: String(file.fileName.prefix(255))),
                body: .csv(HTTPBody(file.bytes))
            ).accepted.body.json
            Visit.current?.flash(.success, text.text("import_started"))
            return ConsoleCore.redirect(to: "/console/imports/\(accepted.id)")
        } catch let error where [400, 409, 413].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            if !view.hasLinks { fields[0].fail(problem.detail) }
            return try await list(request, fields: fields, problem: view)
        }
    }

    struct DetailPage: Sendable {
        var id: String
        var file: String
        var project: String?
        var projectHref: String?
        var progress: Progress
        var live: Bool
        var error: String?
        var hasRejects: Bool
        var started: String
    }

    /// What the page and its live stream show.
    struct Progress: Sendable, Encodable, Equatable {
        var status: String
        var rows: String
        var created: String
        var updated: String
        var duplicates: String
        var rejected: String
        var percent: Int
        var done: Bool
    }

    static func progress(_ item: Components.Schemas.Import, text: Language) -> Progress {
        let done = item.status == .completed || item.status == .failed
        return Progress(
            status: text.text("import_status_\(item.status.rawValue)"), rows: text.number(Int64(item.rows)),
            created: text.number(Int64(item.created)), updated: text.number(Int64(item.updated)),
            duplicates: text.number(Int64(item.duplicates)), rejected: text.number(Int64(item.rejected)),
            percent: done ? 100 : (item.status == .running ? 50 : 0), done: done)
    }

    private func detail(id: String) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let item = try await core.api.getImport(path: .init(id: id)).ok.body.json
        let project = await item.projectId.asyncMap { try? await core.api.getProject(path: .init(id: $0)).ok.body.json }
        let page = DetailPage(
            id: item.id, file: item.fileName ?? text.text("unnamed_file"), project: project??.name,
            projectHref: item.projectId.map { "/console/projects/\($0)" },
            progress: Self.progress(item, text: text),
            live: item.status == .queued || item.status == .running, error: item.error,
            hasRejects: item.rejected > 0, started: core.dateTime(item.createdAt))
        return core.renderer.page("import", title: text.text("import_title"), page)
    }

    private func progress(id: String) throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let core = core
        return ProgressStream.response {
            let item = try await core.api.getImport(path: .init(id: id)).ok.body.json
            let progress = Self.progress(item, text: text)
            return (progress, progress.done)
        }
    }

    /// The rejected rows, streamed from the API as they are read.
    private func rejects(id: String) async throws -> Response {
        _ = try core.requireSession()
        let body = try await core.api.getImportRejects(path: .init(id: id)).ok.body.csv
        let authorization = ConsoleCall.authorization
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"import-\(id)-rejects.csv\"",
                .cacheControl: "no-store",
            ],
            body: ResponseBody { writer in
                try await ConsoleCall.$authorization.withValue(authorization) {
                    for try await chunk in body { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                }
            })
    }
}

extension Optional {
    /// `map` for an asynchronous transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
