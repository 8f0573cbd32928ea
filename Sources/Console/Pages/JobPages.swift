import Foundation
import Gateway
import Hummingbird
import SharedModels

/// Background jobs: what failed and what runs, newest first, and a failed job sent back to its
/// queue. Callers see the jobs their own requests started; `job:read` shows everyone's.
struct JobPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("jobs") { request, _ in try await list(request) }
        console.post("jobs/:id/retry") { _, context in try await retry(id: context.parameters.require("id")) }
    }

    struct ListPage: Sendable {
        var rows: [Row]
        var hasRows: Bool
        var status: Field
        var next: String?
    }

    struct Row: Sendable {
        var id: String
        var queue: String
        var name: String
        var status: String
        var attempts: String
        var progress: String
        var error: String
        var created: String
        var canRetry: Bool
        var retryQuestion: String
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let query = request.uri.queryParameters
        // What needs someone first: failed jobs, unless another status is asked for.
        let asked = query["status"].map(String.init)
        let status: Components.Schemas.JobStatus? =
            asked == nil ? .failed : asked.flatMap(Components.Schemas.JobStatus.init(rawValue:))
        let page = try await core.api.listJobs(
            query: .init(status: status, limit: 50, cursor: query["cursor"].map(String.init))
        ).ok.body.json
        let view = ListPage(
            rows: page.items.map { job in
                Row(
                    id: job.id, queue: job.queue, name: job.name,
                    status: core.label(job.status, prefix: "job_status"),
                    attempts: text.text(
                        "attempts_of", text.number(Int64(job.attempts)), text.number(Int64(job.maxAttempts))),
                    progress: "\(text.number(Int64(job.progress)))%",
                    error: job.error ?? job.progressMessage ?? "",
                    created: core.dateTime(job.createdAt),
                    canRetry: job.status == .failed,
                    retryQuestion: text.text("job_retry_confirm", job.name))
            },
            hasRows: !page.items.isEmpty,
            status: .select(
                "status", label: text.text("field_status"),
                choices: core.choices(Components.Schemas.JobStatus.self, prefix: "job_status", any: true),
                value: status?.rawValue ?? ""),
            next: page.nextCursor.map { Pager.link("/console/jobs", ["status": status?.rawValue ?? "", "cursor": $0]) })
        return core.renderer.page("jobs", title: text.text("nav_jobs"), view)
    }

    private func retry(id: String) async throws -> Response {
        _ = try core.requireSession()
        do {
            _ = try await core.api.retryJob(path: .init(id: id)).ok
            Visit.current?.flash(.success, core.language.text("job_retried"))
        } catch let error where [403, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/jobs")
    }
}
