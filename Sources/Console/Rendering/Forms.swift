/// One control of a form, as the `field` template draws it: label, hint, error and value.
struct Field: Sendable {
    struct Choice: Sendable {
        var value: String
        var label: String
        var selected: Bool
    }

    var id: String
    var name: String
    var label: String
    var type = "text"
    var value = ""
    var required = false
    var autocomplete: String?
    var inputmode: String?
    var hint: String?
    var multiline = false
    /// Whether it is a select of `choices`.
    var options = false
    var choices: [Choice] = []
    private(set) var error: String?
    /// The ids of the hint and error, for `aria-describedby`.
    private(set) var describedBy: String?

    init(
        _ name: String, label: String, type: String = "text", value: String = "", required: Bool = false,
        autocomplete: String? = nil, inputmode: String? = nil, hint: String? = nil
    ) {
        self.id = "field-" + name.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        self.name = name
        self.label = label
        self.type = type
        self.value = value
        self.required = required
        self.autocomplete = autocomplete
        self.inputmode = inputmode
        self.hint = hint
        self.describedBy = hint == nil ? nil : id + "-hint"
    }

    /// A select offering `choices`, with `value` selected.
    static func select(
        _ name: String, label: String, choices: [(value: String, label: String)], value: String,
        required: Bool = false, hint: String? = nil
    ) -> Field {
        var field = Field(name, label: label, value: value, required: required, hint: hint)
        field.options = true
        field.choices = choices.map { Choice(value: $0.value, label: $0.label, selected: $0.value == value) }
        return field
    }

    /// Marks the field as wrong, and why.
    mutating func fail(_ message: String) {
        error = message
        describedBy = [hint == nil ? nil : id + "-hint", id + "-error"].compactMap { $0 }.joined(separator: " ")
    }
}

/// The error summary at the top of a form: what the API said, with a link to each field it named.
struct ProblemView: Sendable {
    struct Link: Sendable {
        var id: String
        var label: String
        var error: String
    }

    var detail: String
    var links: [Link]
    var hasLinks: Bool

    /// Puts each of the problem's field errors on the field of that name (or the field its path
    /// starts with: `budget.amount` on `budget`), and summarises them.
    init(_ problem: APIProblem, fields: inout [Field]) {
        detail = problem.detail
        links = []
        for violation in problem.errors ?? [] {
            let index =
                fields.firstIndex { $0.name == violation.field }
                ?? fields.firstIndex {
                    violation.field.hasPrefix($0.name + ".") || violation.field.hasPrefix($0.name + "[")
                }
            guard let index else { continue }
            if fields[index].error == nil { fields[index].fail(violation.reason) }
            links.append(Link(id: fields[index].id, label: fields[index].label, error: violation.reason))
        }
        hasLinks = !links.isEmpty
    }

    /// A summary of errors the console found before calling the API.
    init(detail: String, fields: [Field]) {
        self.detail = detail
        links = fields.compactMap { field in field.error.map { Link(id: field.id, label: field.label, error: $0) } }
        hasLinks = !links.isEmpty
    }
}

/// One labelled value of a record, as a `<dt>`/`<dd>` pair.
struct Fact: Sendable {
    var label: String
    var value: String
}

/// A value a form sends back unseen, as an `<input type="hidden">`.
struct Hidden: Sendable {
    var name: String
    var value: String
}
