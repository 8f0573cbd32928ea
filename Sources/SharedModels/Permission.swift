/// What a permission allows: an action on a subject, optionally only inside one project.
///
/// The text form is `subject:action`, or `subject:action@<project-id>` when scoped.
/// `manage` implies every action on its subject; the subject `all` covers every subject.
package struct Permission: Hashable, Sendable, CustomStringConvertible {
    /// The verbs a permission can grant.
    package enum Action: String, CaseIterable, Sendable {
        case create, read, update, delete, approve, manage
    }

    /// The things a permission can be about.
    package enum Subject: String, CaseIterable, Sendable {
        case project, beneficiary
        case beneficiaryPII = "beneficiary_pii"
        case vendor, disbursement, redemption, settlement, ledger, user, job
        case apiKey = "api_key"
        case role, all
    }

    package var subject: Subject
    package var action: Action
    /// The one project this permission is limited to; `nil` means every project.
    package var projectID: String?

    package init(_ subject: Subject, _ action: Action, projectID: String? = nil) {
        self.subject = subject
        self.action = action
        self.projectID = projectID
    }

    /// Parses `subject:action` or `subject:action@project`; `nil` when the text is not a permission.
    package init?(_ text: some StringProtocol) {
        var body = Substring(text)
        var project: String?
        if let at = body.firstIndex(of: "@") {
            let scope = body[body.index(after: at)...]
            guard !scope.isEmpty else { return nil }
            project = String(scope)
            body = body[..<at]
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let subject = Subject(rawValue: String(parts[0])),
            let action = Action(rawValue: String(parts[1]))
        else { return nil }
        self.init(subject, action, projectID: project)
    }

    package var description: String {
        let base = "\(subject.rawValue):\(action.rawValue)"
        guard let projectID else { return base }
        return "\(base)@\(projectID)"
    }

    /// The same grant without its project scope.
    package var unscoped: Permission { Permission(subject, action) }

    /// Whether holding `self` allows `wanted`.
    package func allows(_ wanted: Permission) -> Bool {
        let subjectMatches = subject == .all || subject == wanted.subject
        let actionMatches = action == .manage || action == wanted.action
        let projectMatches = projectID == nil || projectID == wanted.projectID
        return subjectMatches && actionMatches && projectMatches
    }
}

/// A set of granted permissions with the checks callers need.
package struct PermissionSet: Sendable, Equatable {
    package private(set) var grants: Set<Permission>

    package init(_ grants: some Sequence<Permission>) {
        self.grants = Set(grants)
    }

    /// Parses text permissions that were validated when stored; unparseable entries grant nothing.
    package init(parsing texts: some Sequence<String>) {
        self.grants = Set(texts.compactMap { Permission($0) })
    }

    /// Whether any grant allows `permission`.
    package func allows(_ permission: Permission) -> Bool {
        grants.contains { $0.allows(permission) }
    }

    /// Whether the caller may do `action` on `subject` in at least some scope: for list endpoints
    /// that then filter by project.
    package func allowsAnywhere(_ subject: Permission.Subject, _ action: Permission.Action) -> Bool {
        grants.contains { $0.unscoped.allows(Permission(subject, action)) }
    }

    /// Whether every grant in `other` is allowed by this set, so delegating `other` escalates nothing.
    ///
    /// ``Permission/allows(_:)`` already treats wildcards in the wanted grant correctly: wanting
    /// `all` needs `all`, wanting `manage` needs `manage`, wanting an unscoped grant needs an unscoped one.
    package func covers(_ other: PermissionSet) -> Bool {
        other.grants.allSatisfy(allows)
    }

    /// The permissions in their text form, sorted for stable output.
    package var texts: [String] { grants.map(\.description).sorted() }
}
