package import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A secret the embedded default generates on first start and keeps in its data directory (the
/// PII keys, the service secret). Created owner-only and only when absent: a file that exists
/// but cannot be read or understood stops the process, because writing a fresh secret over it
/// would make everything the old one sealed unreadable for good.
package enum SecretFile {
    /// The file's contents, or, when there is no file, `generate()`'s, written owner-only (0600)
    /// first. Two processes starting at once agree: only one creates it, the other reads it.
    package static func loadOrCreate(at path: String, generate: () throws -> Data) throws -> Data {
        let directory = (path as NSString).deletingLastPathComponent
        try OwnerOnly.createDirectory(atPath: directory)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            let data = try generate()
            let written = data.withUnsafeBytes { bytes in write(fd, bytes.baseAddress, bytes.count) }
            let synced = fsync(fd)
            close(fd)
            guard written == data.count, synced == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(path)
                throw SecretFileError(path: path, problem: "could not be written (\(reason))")
            }
            return data
        }
        guard errno == EEXIST else {
            throw SecretFileError(path: path, problem: "could not be created (\(String(cString: strerror(errno)))")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SecretFileError(
                path: path,
                problem: "exists but cannot be read (\(error.localizedDescription)); fix its owner or permissions")
        }
    }
}

/// A secret file that exists but cannot be used: start-up stops instead of replacing it.
package struct SecretFileError: Error, CustomStringConvertible {
    package var path: String
    package var problem: String

    package init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    package var description: String {
        "\(path) \(problem). Rahat never replaces an existing secret file: what it sealed would be lost. "
            + "Restore the file from a backup, or move it away only if nothing sealed with it must be read again."
    }
}

/// Files and directories the embedded default keeps its data in: readable by its owner only.
package enum OwnerOnly {
    /// Creates `path` (and missing parents) as 0700; an existing directory is left as it is.
    package static func createDirectory(atPath path: String) throws {
        guard !path.isEmpty, !FileManager.default.fileExists(atPath: path) else { return }
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Makes `path` a 0600 file: created empty when absent, narrowed when it was wider.
    package static func prepareFile(atPath path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        fchmod(fd, 0o600)
    }
}
