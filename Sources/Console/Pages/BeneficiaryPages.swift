import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import SharedModels

/// Beneficiaries: the register (filtered, paged), a search by name, phone or national ID, a
/// person's page with their verification history, registering, editing and archiving.
///
/// Personal data shows only where the API returns it (`beneficiary_pii:read`); lists mask phone
/// numbers even then, and searches by personal data are posted, never put in a URL (their next
/// pages too). A caller whose grants reach some projects only lists and searches one of them.
struct BeneficiaryPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("beneficiaries") { request, _ in try await list(request) }
        console.post("beneficiaries/search") { _, _ in try await search() }
        console.get("beneficiaries/new") { _, _ in try form(id: nil, fields: nil, problem: nil) }
        console.post("beneficiaries") { _, _ in try await save(id: nil) }
        console.get("beneficiaries/:id") { _, context in try await detail(id: context.parameters.require("id")) }
        console.get("beneficiaries/:id/edit") { _, context in try await edit(id: context.parameters.require("id")) }
        console.post("beneficiaries/:id") { _, context in try await save(id: context.parameters.require("id")) }
        console.post("beneficiaries/:id/archive") { _, context in
            try await archive(id: context.parameters.require("id"))
        }
    }

    // MARK: The register

    struct ListPage: Sendable {
        var rows: [Row]
        var hasRows: Bool
        var filters: [Field]
        var search: [Field]
        var canSearch: Bool
        var canCreate: Bool
        var next: String?
        var searched: Bool
        var problem: ProblemView?
        /// The project the register is limited to when no project filter is offered, kept by the form.
        var projectID: String?
        /// The next page of a search, posted like the search.
        var searchNext: SearchNext?
    }

    /// A search's next page: its criteria again, with the cursor.
    struct SearchNext: Sendable {
        var fields: [Hidden]
    }

    struct Row: Sendable {
        var href: String
        var name: String
        var phone: String
        var gender: String
        var verification: String
        var registered: String
    }

    /// The register's own filters and project, as asked.
    private struct Filters {
        var status: Components.Schemas.VerificationStatus?
        var gender: Components.Schemas.Gender?
        var projects: ProjectFilter
        /// The project the address asked for, kept as asked when no projects are offered to pick.
        var asked: String?

        var projectID: String? { projects.listed(asked: asked) }
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let query = request.uri.queryParameters
        let asked = query["projectId"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let readable = try await core.readableProjects()
        let filters = Filters(
            status: query["verificationStatus"].flatMap {
                Components.Schemas.VerificationStatus(rawValue: String($0))
            },
            gender: query["gender"].flatMap { Components.Schemas.Gender(rawValue: String($0)) },
            projects: try await core.projectFilter(.beneficiary, asked: asked, readable: readable), asked: asked)
        var people: [Components.Schemas.Beneficiary] = []
        var next: String?
        if filters.projects.canList(asked: filters.asked) {
            let page = try await core.api.listBeneficiaries(
                query: .init(
                    limit: 50, cursor: query["cursor"].map(String.init), gender: filters.gender,
                    verificationStatus: filters.status, projectId: filters.projectID)
            ).ok.body.json
            people = page.items
            next = page.nextCursor.map {
                Pager.link(
                    "/console/beneficiaries",
                    [
                        "verificationStatus": filters.status?.rawValue, "gender": filters.gender?.rawValue,
                        "projectId": filters.projectID, "cursor": $0,
                    ])
            }
        }
        // A search from a project's register searches that project, for those who must name one.
        let piiProjects = try await core.projectFilter(.beneficiaryPII, asked: filters.projectID, readable: readable)
        let search = searchFields(
            FormData(), projects: piiProjects, selected: piiProjects.listed(asked: filters.projectID))
        let view = listPage(people, filters: filters, search: search, next: next)
        return core.renderer.page("beneficiaries", title: core.language.text("nav_beneficiaries"), view)
    }

    private func filterFields(_ filters: Filters) -> [Field] {
        let text = core.language
        var fields = [
            Field.select(
                "verificationStatus", label: text.text("field_verification"),
                choices: core.choices(
                    Components.Schemas.VerificationStatus.self, prefix: "verification_status", any: true),
                value: filters.status?.rawValue ?? ""),
            Field.select(
                "gender", label: text.text("field_gender"),
                choices: core.choices(Components.Schemas.Gender.self, prefix: "gender", any: true),
                value: filters.gender?.rawValue ?? ""),
        ]
        if !filters.projects.projects.isEmpty || filters.projects.scoped {
            fields.insert(filters.projects.field(text, selected: filters.projectID), at: 0)
        }
        return fields
    }

    /// The search form's fields holding what `form` sent, with a choice among `projects` for
    /// callers who may read personal data in some projects only.
    private func searchFields(_ form: FormData, projects: ProjectFilter, selected: String? = nil) -> [Field] {
        let text = core.language
        var fields = [
            Field(
                "name", label: text.text("field_name"), value: form["name"] ?? "", autocomplete: "off",
                hint: text.text("name_search_hint")),
            Field(
                "phone", label: text.text("field_phone"), type: "tel", value: form["phone"] ?? "",
                autocomplete: "off", inputmode: "tel"),
            Field(
                "nationalId", label: text.text("field_national_id"), value: form["nationalId"] ?? "",
                autocomplete: "off"),
            Field(
                "country", label: text.text("field_country"), value: form["country"] ?? "",
                hint: text.text("country_hint")),
        ]
        if projects.scoped {
            fields.append(projects.field(text, selected: selected ?? projects.listed(asked: form["projectId"])))
        }
        return fields
    }

    private func listPage(
        _ people: [Components.Schemas.Beneficiary], filters: Filters, search: [Field], next: String?,
        searched: Bool = false, problem: ProblemView? = nil, searchNext: SearchNext? = nil
    ) -> ListPage {
        let text = core.language
        let permissions = core.permissions
        return ListPage(
            rows: people.map { person in
                Row(
                    href: "/console/beneficiaries/\(person.id)",
                    name: person.name ?? text.text("hidden_personal_data"),
                    phone: person.phone.map(Self.masked) ?? "",
                    gender: core.label(person.gender, prefix: "gender"),
                    verification: core.label(person.verificationStatus, prefix: "verification_status"),
                    registered: core.dateTime(person.createdAt))
            },
            hasRows: !people.isEmpty,
            filters: filterFields(filters),
            search: search,
            canSearch: permissions.allowsAnywhere(.beneficiaryPII, .read),
            canCreate: permissions.allowsAnywhere(.beneficiary, .create),
            next: next, searched: searched, problem: problem,
            projectID: filters.projects.projects.isEmpty && !filters.projects.scoped ? filters.asked : nil,
            searchNext: searchNext)
    }

    /// A phone number with all but its last four digits hidden, for lists read over a shoulder.
    static func masked(_ phone: String) -> String {
        let digits = phone.filter(\.isNumber)
        guard digits.count > 4 else { return "••••" }
        return String(repeating: "•", count: digits.count - 4) + digits.suffix(4)
    }

    private func search() async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let text = core.language
        let readable = try await core.readableProjects()
        let projects = try await core.projectFilter(.beneficiaryPII, asked: form["projectId"], readable: readable)
        var fields = searchFields(form, projects: projects)
        // The register's filters below the results start afresh.
        let filters = Filters(
            projects: try await core.projectFilter(.beneficiary, asked: nil, readable: readable), asked: nil)
        func failed(_ problem: ProblemView) -> Response {
            core.renderer.page(
                "beneficiaries", title: text.text("nav_beneficiaries"),
                listPage([], filters: filters, search: fields, next: nil, searched: true, problem: problem),
                status: .badRequest)
        }
        guard form["name"] != nil || form["phone"] != nil || form["nationalId"] != nil else {
            fields[0].fail(text.text("error_search_criteria"))
            return failed(ProblemView(detail: text.text("error_search_criteria"), fields: fields))
        }
        let projectID = projects.listed(asked: form["projectId"])
        guard projects.canList(asked: form["projectId"]) else {
            return failed(ProblemView(detail: text.text("no_projects"), fields: fields))
        }
        do {
            let found = try await core.api.searchBeneficiaries(
                body: .json(
                    .init(
                        name: form["name"], phone: form["phone"], nationalId: form["nationalId"],
                        country: form["country"]?.uppercased(), projectId: projectID, limit: 50,
                        cursor: form["cursor"]))
            ).ok.body.json
            let next = found.nextCursor.map { cursor in
                let criteria = ["name", "phone", "nationalId", "country"].compactMap { name in
                    form[name].map { Hidden(name: name, value: $0) }
                }
                let project = projectID.map { [Hidden(name: "projectId", value: $0)] } ?? []
                return SearchNext(fields: criteria + project + [Hidden(name: "cursor", value: cursor)])
            }
            let view = listPage(
                found.items, filters: filters, search: fields, next: nil, searched: true, searchNext: next)
            return core.renderer.page("beneficiaries", title: text.text("search_results"), view)
        } catch let error where APIProblem.of(error)?.status == 400 {
            guard let problem = APIProblem.of(error) else { throw error }
            return failed(ProblemView(problem, fields: &fields))
        }
    }

    // MARK: A person

    struct DetailPage: Sendable {
        var id: String
        var name: String
        var facts: [Fact]
        var verification: String
        var verificationReason: String?
        var history: [Check]
        var hasHistory: Bool
        var canEdit: Bool
        var canArchive: Bool
        var archiveQuestion: String
    }

    struct Check: Sendable {
        var href: String
        var status: String
        var requested: String
        var reasons: String
        var decision: String?
        var note: String?
    }

    private func detail(id: String) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let person = try await core.api.getBeneficiary(path: .init(id: id)).ok.body.json
        let history = try? await core.api.listVerifications(query: .init(beneficiaryId: id, limit: 20)).ok.body.json
        let permissions = core.permissions
        var facts: [Fact] = []
        func add(_ key: String, _ value: String?) {
            if let value, !value.isEmpty { facts.append(Fact(label: text.text(key), value: value)) }
        }
        add("field_phone", person.phone)
        add("field_email", person.email)
        add("field_national_id", person.nationalId)
        add("field_gender", core.label(person.gender, prefix: "gender"))
        add("field_birth_date", person.birthDate)
        add("field_location", person.location)
        add("field_banked", core.label(person.bankedStatus, prefix: "banked"))
        add("field_internet", core.label(person.internetStatus, prefix: "internet"))
        add("field_phone_status", core.label(person.phoneStatus, prefix: "phone_status"))
        add("registered", core.dateTime(person.createdAt))
        add("updated", core.dateTime(person.updatedAt))
        let page = DetailPage(
            id: person.id,
            name: person.name ?? text.text("hidden_personal_data"),
            facts: facts,
            verification: core.label(person.verificationStatus, prefix: "verification_status"),
            verificationReason: person.verificationReason,
            history: (history?.items ?? []).map { check in
                Check(
                    href: "/console/verifications/\(check.id)",
                    status: core.label(check.status, prefix: "verification_status"),
                    requested: core.dateTime(check.requestedAt),
                    reasons: check.reasons.joined(separator: "; "),
                    decision: check.decision.map { text.text("verification_status_\($0.rawValue)") },
                    note: check.note)
            },
            hasHistory: !(history?.items.isEmpty ?? true),
            canEdit: permissions.allowsAnywhere(.beneficiary, .update),
            canArchive: permissions.allowsAnywhere(.beneficiary, .delete),
            archiveQuestion: text.text("beneficiary_archive_confirm"))
        return core.renderer.page("beneficiary", title: page.name, page)
    }

    // MARK: Register and edit

    struct FormPage: Sendable {
        var title: String
        var action: String
        var fields: [Field]
        var problem: ProblemView?
        var cancel: String
    }

    /// The form's fields, filled from `values` (what was posted, or the person as stored).
    private func personFields(_ values: [String: String]) -> [Field] {
        let text = core.language
        return [
            Field(
                "name", label: text.text("field_name"), value: values["name"] ?? "", required: true, autocomplete: "off"
            ),
            Field(
                "phone", label: text.text("field_phone"), type: "tel", value: values["phone"] ?? "",
                autocomplete: "off", inputmode: "tel", hint: text.text("phone_hint")),
            Field(
                "country", label: text.text("field_country"), value: values["country"] ?? "",
                hint: text.text("country_hint")),
            Field(
                "nationalId", label: text.text("field_national_id"), value: values["nationalId"] ?? "",
                autocomplete: "off"),
            Field(
                "email", label: text.text("field_email"), type: "email", value: values["email"] ?? "",
                autocomplete: "off"),
            .select(
                "gender", label: text.text("field_gender"),
                choices: core.choices(Components.Schemas.Gender.self, prefix: "gender"),
                value: values["gender"] ?? "unknown"),
            Field(
                "birthDate", label: text.text("field_birth_date"), type: "date", value: values["birthDate"] ?? "",
                hint: text.text("birth_date_hint")),
            Field("location", label: text.text("field_location"), value: values["location"] ?? ""),
            .select(
                "bankedStatus", label: text.text("field_banked"),
                choices: core.choices(Components.Schemas.BankedStatus.self, prefix: "banked"),
                value: values["bankedStatus"] ?? "unknown"),
            .select(
                "internetStatus", label: text.text("field_internet"),
                choices: core.choices(Components.Schemas.InternetStatus.self, prefix: "internet"),
                value: values["internetStatus"] ?? "unknown"),
            .select(
                "phoneStatus", label: text.text("field_phone_status"),
                choices: core.choices(Components.Schemas.PhoneStatus.self, prefix: "phone_status"),
                value: values["phoneStatus"] ?? "unknown"),
        ]
    }

    private func form(id: String?, fields: [Field]?, problem: ProblemView?) throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let page = FormPage(
            title: text.text(id == nil ? "beneficiary_new_title" : "beneficiary_edit_title"),
            action: id.map { "/console/beneficiaries/\($0)" } ?? "/console/beneficiaries",
            fields: fields ?? personFields([:]), problem: problem,
            cancel: id.map { "/console/beneficiaries/\($0)" } ?? "/console/beneficiaries")
        return core.renderer.page(
            "beneficiary-form", title: page.title, page, status: problem == nil ? .ok : .badRequest)
    }

    private func edit(id: String) async throws -> Response {
        _ = try core.requireSession()
        let person = try await core.api.getBeneficiary(path: .init(id: id)).ok.body.json
        let values: [String: String?] = [
            "name": person.name, "phone": person.phone, "nationalId": person.nationalId, "email": person.email,
            "gender": person.gender.rawValue, "birthDate": person.birthDate, "location": person.location,
            "bankedStatus": person.bankedStatus.rawValue, "internetStatus": person.internetStatus.rawValue,
            "phoneStatus": person.phoneStatus.rawValue,
        ]
        var fields = personFields(values.compactMapValues { $0 })
        if person.name == nil {
            // Without the right to read personal data, its fields cannot be shown, so they are
            // not offered: leaving them blank would not say "unchanged".
            fields.removeAll {
                ["name", "phone", "country", "nationalId", "email", "birthDate", "location"].contains($0.name)
            }
        }
        return try form(id: id, fields: fields, problem: nil)
    }

    private func save(id: String?) async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let text = core.language
        let posted = Set(form.pairs.map(\.name))
        var fields = personFields(
            Dictionary(form.pairs.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        )
        .filter { posted.contains($0.name) }
        if id == nil || posted.contains("name"), form["name"] == nil,
            let index = fields.firstIndex(where: { $0.name == "name" })
        {
            fields[index].fail(text.text("error_required"))
            return try self.form(
                id: id, fields: fields, problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        do {
            let saved: Components.Schemas.Beneficiary
            if let id {
                let current = try await core.api.getBeneficiary(path: .init(id: id)).ok.body.json
                guard let changes = changes(form, from: current) else {
                    Visit.current?.flash(.success, text.text("nothing_changed"))
                    return ConsoleCore.redirect(to: "/console/beneficiaries/\(id)")
                }
                saved = try await core.api.updateBeneficiary(path: .init(id: id), body: .json(changes)).ok.body.json
                Visit.current?.flash(.success, text.text("beneficiary_saved"))
            } else {
                saved = try await core.api.createBeneficiary(body: .json(newPerson(form))).created.body.json
                Visit.current?.flash(.success, text.text("beneficiary_registered"))
            }
            return ConsoleCore.redirect(to: "/console/beneficiaries/\(saved.id)")
        } catch let error where [400, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try self.form(id: id, fields: fields, problem: view)
        }
    }

    private func newPerson(_ form: FormData) -> Components.Schemas.NewBeneficiary {
        Components.Schemas.NewBeneficiary(
            name: form["name"] ?? "", phone: form["phone"], email: form["email"], nationalId: form["nationalId"],
            gender: form["gender"].flatMap(Components.Schemas.Gender.init(rawValue:)), birthDate: form["birthDate"],
            location: form["location"],
            bankedStatus: form["bankedStatus"].flatMap(Components.Schemas.BankedStatus.init(rawValue:)),
            internetStatus: form["internetStatus"].flatMap(Components.Schemas.InternetStatus.init(rawValue:)),
            phoneStatus: form["phoneStatus"].flatMap(Components.Schemas.PhoneStatus.init(rawValue:)),
            country: form["country"]?.uppercased())
    }

    /// What the form changed, nil when nothing: a field sent as it was stored is left out, so an
    /// unchanged phone number starts no phone-change hold and no new check. An emptied optional
    /// field is sent as "", which the API reads as "clear it".
    private func changes(
        _ form: FormData, from current: Components.Schemas.Beneficiary
    ) -> Components.Schemas.BeneficiaryChanges? {
        func changed(_ name: String, _ stored: String?) -> String? {
            guard let posted = form.raw(name)?.trimmingCharacters(in: .whitespaces) else { return nil }
            return posted == (stored ?? "") ? nil : posted
        }
        var changes = Components.Schemas.BeneficiaryChanges(
            name: changed("name", current.name).flatMap { $0.isEmpty ? nil : $0 },
            phone: changed("phone", current.phone),
            email: changed("email", current.email),
            nationalId: changed("nationalId", current.nationalId),
            gender: changed("gender", current.gender.rawValue).flatMap(Components.Schemas.Gender.init(rawValue:)),
            birthDate: changed("birthDate", current.birthDate),
            location: changed("location", current.location),
            bankedStatus: changed("bankedStatus", current.bankedStatus.rawValue)
                .flatMap(Components.Schemas.BankedStatus.init(rawValue:)),
            internetStatus: changed("internetStatus", current.internetStatus.rawValue)
                .flatMap(Components.Schemas.InternetStatus.init(rawValue:)),
            phoneStatus: changed("phoneStatus", current.phoneStatus.rawValue)
                .flatMap(Components.Schemas.PhoneStatus.init(rawValue:)))
        if changes.phone != nil { changes.country = form["country"]?.uppercased() }
        let nothing = Components.Schemas.BeneficiaryChanges()
        return changes == nothing ? nil : changes
    }

    private func archive(id: String) async throws -> Response {
        _ = try core.requireSession()
        _ = try await core.api.archiveBeneficiary(path: .init(id: id)).noContent
        Visit.current?.flash(.success, core.language.text("beneficiary_archived"))
        return ConsoleCore.redirect(to: "/console/beneficiaries")
    }
}
