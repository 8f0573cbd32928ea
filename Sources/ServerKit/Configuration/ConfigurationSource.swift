import Configuration
package import Foundation
import SystemPackage

/// Every problem found while reading a process's configuration, reported together at start-up.
package struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    package var problems: [String]

    package init(problems: [String]) {
        self.problems = problems
    }

    package var description: String {
        "Invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Reads typed settings by their environment-variable names and collects every problem instead of
/// stopping at the first, so an operator fixes a bad deployment in one go.
///
/// Values come from the process environment, then from the optional env-format file named by
/// `RAHAT_CONFIG_FILE`. A secret `X` may instead be given as `X_FILE`, a path whose contents
/// (without the trailing newline) are the value: the way mounted Kubernetes or Docker secrets arrive.
package struct ConfigurationSource: Sendable {
    private let reader: ConfigReader
    package private(set) var problems: [String] = []

    /// A source over the given variables only, for tests and tools.
    package init(environment: [String: String]) {
        reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
    }

    /// The process environment plus, when `RAHAT_CONFIG_FILE` names one, an env-format file.
    package static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws
        -> ConfigurationSource
    {
        guard let path = environment["RAHAT_CONFIG_FILE"], !path.isEmpty else {
            return ConfigurationSource(environment: environment)
        }
        do {
            let file = try await EnvironmentVariablesProvider(environmentFilePath: FilePath(path))
            return ConfigurationSource(
                reader: ConfigReader(providers: [EnvironmentVariablesProvider(environmentVariables: environment), file])
            )
        } catch {
            throw ConfigurationError(problems: ["RAHAT_CONFIG_FILE: cannot read '\(path)': \(error)"])
        }
    }

    private init(reader: ConfigReader) {
        self.reader = reader
    }

    private static func key(_ name: String) -> ConfigKey {
        ConfigKey(name.lowercased().split(separator: "_").map(String.init))
    }

    /// Records a problem found by the caller's own cross-field validation.
    package mutating func report(_ problem: String) {
        problems.append(problem)
    }

    /// The raw text of a setting, `nil` when unset or empty.
    package func raw(_ name: String, isSecret: Bool = false) -> String? {
        guard let value = reader.string(forKey: Self.key(name), isSecret: isSecret), !value.isEmpty else {
            return nil
        }
        return value
    }

    package func string(_ name: String, default defaultValue: String) -> String {
        raw(name) ?? defaultValue
    }

    package mutating func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = raw(name) else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            problems.append("\(name): '\(text)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
            return defaultValue
        }
        return value
    }

    package mutating func bool(_ name: String, default defaultValue: Bool) -> Bool {
        guard let text = raw(name) else { return defaultValue }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problems.append("\(name): '\(text)' is not a boolean (true/false)")
            return defaultValue
        }
    }

    /// A value from a fixed set, e.g. a log level.
    package mutating func choice<T: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: T) -> T
    where T.RawValue == String {
        guard let text = raw(name) else { return defaultValue }
        guard let value = T(rawValue: text.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            problems.append("\(name): '\(text)' is not one of \(allowed)")
            return defaultValue
        }
        return value
    }

    /// A URL with one of the given schemes.
    package mutating func url(_ name: String, schemes: Set<String>) -> URL? {
        guard let text = raw(name, isSecret: true) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), schemes.contains(scheme),
            url.host != nil
        else {
            let allowed = schemes.sorted().joined(separator: ", ")
            problems.append("\(name): not a valid URL with scheme \(allowed)")
            return nil
        }
        return url
    }

    /// A secret given directly as `name` or as a file path in `name_FILE`; both at once is a problem.
    package mutating func secret(_ name: String) -> String? {
        let direct = raw(name, isSecret: true)
        guard let path = raw("\(name)_FILE") else { return direct }
        if direct != nil {
            problems.append("\(name) and \(name)_FILE are both set; set only one")
            return direct
        }
        do {
            var contents = try String(contentsOfFile: path, encoding: .utf8)
            while contents.hasSuffix("\n") || contents.hasSuffix("\r") { contents.removeLast() }
            guard !contents.isEmpty else {
                problems.append("\(name)_FILE: '\(path)' is empty")
                return nil
            }
            return contents
        } catch {
            problems.append("\(name)_FILE: cannot read '\(path)'")
            return nil
        }
    }

    /// Throws every collected problem at once, if there are any.
    package func validate() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}
