import Foundation

/// One language of the console, read from `languages/<code>.json`: its messages and how it
/// writes numbers. Adding a language is adding such a file.
struct Language: Sendable {
    /// How digits are grouped: `1,234,567` or the South Asian `12,34,567`.
    enum Grouping: String, Codable, Sendable {
        case thousands
        case southAsian = "south-asian"
    }

    /// The file's description of the language.
    struct Description: Codable, Sendable {
        /// BCP 47 code, e.g. `ne`.
        var code: String
        /// The language's name in itself, e.g. `नेपाली`.
        var name: String
        /// The ten digits the language writes, zero first; absent: ASCII digits.
        var digits: String?
        var grouping: Grouping
        var decimalSeparator: String
        var groupSeparator: String
    }

    private struct File: Codable {
        var language: Description
        var messages: [String: String]
    }

    let description: Description
    /// Every message by key; templates read them as `t.<key>`.
    let messages: [String: String]
    private let digits: [Character]?

    var code: String { description.code }
    var name: String { description.name }

    init(json: Data) throws {
        let file = try JSONDecoder().decode(File.self, from: json)
        description = file.language
        messages = file.messages
        if let digits = file.language.digits {
            let characters = Array(digits)
            guard characters.count == 10 else {
                throw ConsoleResourceError.invalid("language \(file.language.code): digits must list ten characters")
            }
            self.digits = characters
        } else {
            self.digits = nil
        }
    }

    /// The message `key`, with `{0}`, `{1}` … replaced by `arguments`; the key itself when the
    /// language has no such message, so a missing one shows rather than breaks the page.
    func text(_ key: String, _ arguments: String...) -> String {
        var text = messages[key] ?? key
        for (index, argument) in arguments.enumerated() {
            text = text.replacingOccurrences(of: "{\(index)}", with: argument)
        }
        return text
    }

    /// `value` in the language's digits and grouping.
    func number(_ value: Int64) -> String {
        let magnitude = value.magnitude
        return (value < 0 ? "-" : "") + localizedDigits(grouped(String(magnitude)))
    }

    /// An amount of `minorUnits` of an asset with `scale` decimal places, e.g. `1,234.50 NPR`.
    func money(_ minorUnits: Int64, scale: Int, asset: String) -> String {
        let magnitude = String(minorUnits.magnitude)
        let padded = String(repeating: "0", count: max(0, scale + 1 - magnitude.count)) + magnitude
        let whole = String(padded.dropLast(scale))
        let fraction = String(padded.suffix(scale))
        var text = grouped(whole)
        if scale > 0 { text += description.decimalSeparator + fraction }
        return (minorUnits < 0 ? "-" : "") + localizedDigits(text) + " " + asset
    }

    /// The minor units of an amount typed as `1,234.50` (or in the language's digits, `१,२३४.५०`)
    /// for an asset with `scale` decimal places; nil when it is not such an amount or has more
    /// decimals than the asset.
    func parseAmount(_ typed: String, scale: Int) -> Int64? {
        var text = ""
        for character in typed where character != " " && character != "\u{00A0}" {
            if let index = digits?.firstIndex(of: character) {
                text.append(Character(String(index)))
            } else {
                text.append(character)
            }
        }
        text = text.replacingOccurrences(of: description.groupSeparator, with: "")
        let parts = text.split(separator: Character(description.decimalSeparator), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty,
            whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber)
        else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= scale, fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
            parts.count == 1 || !fraction.isEmpty
        else { return nil }
        let padded = String(fraction) + String(repeating: "0", count: scale - fraction.count)
        guard let value = Int64(String(whole) + padded), value >= 0 else { return nil }
        return value
    }

    /// `date` as `2026-12-07 14:05` in `timeZone`, in the language's digits.
    func dateTime(_ date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ value: Int?) -> String {
            let text = String(value ?? 0)
            return text.count < 2 ? "0" + text : text
        }
        let text = "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute))"
        return localizedDigits(text)
    }

    /// `digits` (ASCII, no sign) with group separators.
    private func grouped(_ digits: String) -> String {
        var groups: [Substring] = []
        var rest = Substring(digits)
        var size = 3
        while rest.count > size {
            groups.append(rest.suffix(size))
            rest = rest.dropLast(size)
            if description.grouping == .southAsian { size = 2 }
        }
        groups.append(rest)
        return groups.reversed().joined(separator: description.groupSeparator)
    }

    private func localizedDigits(_ text: String) -> String {
        guard let digits else { return text }
        return String(
            text.map { character in
                guard let ascii = character.asciiValue, (48...57).contains(ascii) else { return character }
                return digits[Int(ascii) - 48]
            })
    }
}

/// The console's resources could not be read or are inconsistent.
enum ConsoleResourceError: Error, CustomStringConvertible {
    case notFound([String])
    case invalid(String)

    var description: String {
        switch self {
        case .notFound(let paths):
            "the console's resources were not found (looked in \(paths.joined(separator: ", "))); "
                + "set RAHAT_CONSOLE_RESOURCES to the rahat_Console.resources directory, or RAHAT_CONSOLE=false"
        case .invalid(let reason): "the console's resources are invalid: \(reason)"
        }
    }
}
