import Foundation
import Gateway
import Hummingbird
import SharedModels

/// The ledger as auditors and finance staff read it: a project's reconciliation, any account's
/// statement, and the check of the hash chain. Nothing here writes.
struct LedgerPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("ledger") { request, _ in try await overview(request) }
        console.get("ledger/find") { request, _ in try await find(request) }
        console.get("ledger/verify") { _, _ in try await verify() }
        console.get("ledger/accounts/:id") { request, context in
            try await statement(id: context.parameters.require("id"), request: request)
        }
    }

    struct OverviewPage: Sendable {
        var project: Field
        var hasProject: Bool
        var projectID: String
        var facts: [Fact]
        var balanced: Bool
        var mismatches: [Mismatch]
        var hasMismatches: Bool
        var fundHref: String?
        var kind: Field
        var owner: Field
        var canVerify: Bool
        var notFound: Bool
    }

    struct Mismatch: Sendable {
        var href: String
        var kind: String
        var reason: String
    }

    private func overview(_ request: Request, notFound: Bool = false) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let query = request.uri.queryParameters
        // The books are read a project at a time.
        let filter = try await core.projectFilter(.ledger, asked: query["projectId"].map(String.init))
        let projects = filter.projects
        let project = filter.chosen ?? projects.first
        var facts: [Fact] = []
        var balanced = true
        var mismatches: [Mismatch] = []
        var fundHref: String?
        if let project {
            let books = try await core.api.reconcileProject(path: .init(id: project.id)).ok.body.json
            func money(_ value: Int64) -> String { text.money(value, scale: project.assetScale, asset: books.asset) }
            facts = [
                Fact(label: text.text("funded"), value: money(books.funded)),
                Fact(label: text.text("disbursed"), value: money(books.disbursed)),
                Fact(label: text.text("remaining"), value: money(books.remaining)),
                Fact(label: text.text("beneficiary_accounts"), value: text.number(Int64(books.beneficiaries.accounts))),
                Fact(label: text.text("received_total"), value: money(books.beneficiaries.received)),
                Fact(label: text.text("redeemed"), value: money(books.beneficiaries.redeemed)),
                Fact(label: text.text("held_by_beneficiaries"), value: money(books.beneficiaries.balance)),
                Fact(label: text.text("vendor_accounts"), value: text.number(Int64(books.vendors.accounts))),
                Fact(label: text.text("settled"), value: money(books.vendors.settled)),
                Fact(label: text.text("owed_to_vendors"), value: money(books.vendors.pending)),
                Fact(label: text.text("paid_out"), value: money(books.settlement.paidOut)),
                Fact(label: text.text("in_clearing"), value: money(books.settlement.inClearing)),
            ]
            balanced = books.balanced
            mismatches = books.mismatches.map { mismatch in
                Mismatch(
                    href: "/console/ledger/accounts/\(mismatch.accountId)",
                    kind: core.label(mismatch.kind, prefix: "account_kind"), reason: mismatch.reason)
            }
            let fund = try? await core.api.findLedgerAccount(
                query: .init(projectId: project.id, kind: .projectFund)
            ).ok.body.json
            fundHref = fund.map { "/console/ledger/accounts/\($0.id)" }
        }
        let page = OverviewPage(
            project: .select(
                "projectId", label: text.text("field_project"), choices: projects.map { ($0.id, $0.name) },
                value: project?.id ?? ""),
            hasProject: project != nil, projectID: project?.id ?? "",
            facts: facts, balanced: balanced, mismatches: mismatches, hasMismatches: !mismatches.isEmpty,
            fundHref: fundHref,
            kind: .select(
                "kind", label: text.text("field_account_kind"),
                choices: [Components.Schemas.LedgerAccountKind.beneficiaryWallet, .vendor, .projectFund].map {
                    ($0.rawValue, core.label($0, prefix: "account_kind"))
                }, value: query["kind"].map(String.init) ?? "beneficiary_wallet"),
            owner: Field(
                "ownerId", label: text.text("field_owner"), value: query["ownerId"].map(String.init) ?? "",
                hint: text.text("owner_hint")),
            canVerify: core.permissions.allows(Permission(.ledger, .read)),
            notFound: notFound)
        return core.renderer.page("ledger", title: text.text("nav_ledger"), page)
    }

    /// The account an owner holds in a project, by the search form.
    private func find(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let query = request.uri.queryParameters
        guard let projectID = query["projectId"].map(String.init),
            let kind = query["kind"].flatMap({ Components.Schemas.LedgerAccountKind(rawValue: String($0)) })
        else { return ConsoleCore.redirect(to: "/console/ledger") }
        let owner = query["ownerId"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        do {
            let account = try await core.api.findLedgerAccount(
                query: .init(projectId: projectID, kind: kind, ownerId: owner)
            ).ok.body.json
            return ConsoleCore.redirect(to: "/console/ledger/accounts/\(account.id)")
        } catch let error where [400, 404].contains(APIProblem.of(error)?.status) {
            return try await overview(request, notFound: true)
        }
    }

    struct StatementPage: Sendable {
        var kind: String
        var project: String
        var projectHref: String
        var owner: String?
        var ownerHref: String?
        var balance: String
        var rows: [Row]
        var hasRows: Bool
        var next: String?
    }

    struct Row: Sendable {
        var when: String
        var kind: String
        var reference: String
        var change: String
        var balance: String
        var counterparty: String
        var sequence: String
    }

    private func statement(id: String, request: Request) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let statement = try await core.api.getLedgerStatement(
            path: .init(id: id), query: .init(limit: 50, cursor: request.uri.queryParameters["cursor"].map(String.init))
        ).ok.body.json
        let account = statement.account
        let project = try? await core.api.getProject(path: .init(id: account.projectId)).ok.body.json
        let scale = project?.assetScale ?? 2
        let ownerHref: String? =
            switch account.kind {
            case .beneficiaryWallet: account.ownerId.map { "/console/beneficiaries/\($0)" }
            default: nil
            }
        let page = StatementPage(
            kind: core.label(account.kind, prefix: "account_kind"),
            project: project?.name ?? account.projectId, projectHref: "/console/projects/\(account.projectId)",
            owner: account.ownerId, ownerHref: ownerHref,
            balance: text.money(account.balance, scale: scale, asset: account.asset),
            rows: statement.items.map { entry in
                Row(
                    when: core.dateTime(entry.transfer.createdAt),
                    kind: text.text("transfer_kind_\(entry.transfer.kind.rawValue)"),
                    reference: entry.transfer.reference,
                    change: (entry.change > 0 ? "+" : "")
                        + text.money(entry.change, scale: scale, asset: account.asset),
                    balance: text.money(entry.balanceAfter, scale: scale, asset: account.asset),
                    counterparty: entry.counterpartyAccountId,
                    sequence: text.number(entry.transfer.sequence))
            },
            hasRows: !statement.items.isEmpty,
            next: statement.nextCursor.map { Pager.link("/console/ledger/accounts/\(id)", ["cursor": $0]) })
        return core.renderer.page("statement", title: text.text("statement_title"), page)
    }

    struct VerifyPage: Sendable {
        var ok: Bool
        var checked: String
        var head: String
        var when: String
        var breakSequence: String?
        var breakReason: String?
    }

    private func verify() async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let result = try await core.api.verifyLedger().ok.body.json
        let page = VerifyPage(
            ok: result.ok, checked: text.number(result.checked), head: result.headHash,
            when: core.dateTime(result.verifiedAt),
            breakSequence: result.firstBreak.map { text.number($0.sequence) }, breakReason: result.firstBreak?.reason)
        return core.renderer.page("ledger-verify", title: text.text("verify_title"), page)
    }
}
