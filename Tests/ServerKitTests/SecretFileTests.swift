import Foundation
import ServerKit
import Testing

/// Secrets the embedded default keeps on disk are made once, owner-only, and never made again
/// over a file that is there (security review M8, M10).
@Suite("Secret files")
struct SecretFileTests {
    private static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)").path
        return path
    }

    private static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test("a missing secret is created 0600 in a directory created 0700, then read back as it was")
    func createdOwnerOnly() throws {
        // given
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/service-secret"

        // when
        let first = try ServiceSecret.loadOrCreate(in: directory)
        let again = try ServiceSecret.loadOrCreate(in: directory)

        // then
        #expect(first.count >= ServiceSecret.minimumLength)
        #expect(again == first)
        #expect(try Self.mode(path) == 0o600)
        #expect(try Self.mode(directory) == 0o700)
    }

    @Test("a secret file that is there but unusable stops start-up and is left as it was")
    func unusableIsKept() throws {
        // given a secret cut short (a partial restore), and a key file that cannot be read
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/service-secret"
        try Data("too short".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.createDirectory(atPath: directory + "/keys", withIntermediateDirectories: false)

        // when
        let short = #expect(throws: SecretFileError.self) { try ServiceSecret.loadOrCreate(in: directory) }
        let unreadable = #expect(throws: SecretFileError.self) {
            try SecretFile.loadOrCreate(at: directory + "/keys") { Data("fresh".utf8) }
        }

        // then nothing was written over them, and the message says what to do
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "too short")
        #expect(short?.description.contains("never replaces") == true)
        #expect(unreadable?.description.contains("cannot be read") == true)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory + "/keys", isDirectory: &isDirectory))
        #expect(isDirectory.boolValue)
    }
}
