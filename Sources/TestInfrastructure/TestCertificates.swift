import Crypto
package import Foundation
import SwiftASN1
import X509

/// A private certificate authority made for one test, and certificates it issues, written as PEM
/// files into a temporary directory: what an operator's internal CA gives each Rahat process.
package struct TestCertificates: Sendable {
    /// The directory holding every file; removed by ``remove()``.
    package let directory: URL
    private let authorityKey: P256.Signing.PrivateKey
    private let authorityName: DistinguishedName

    /// A new authority named `name`, its certificate in `<directory>/<name>-ca.pem`.
    package init(authority name: String = "Rahat internal CA") throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rahat-tls-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authorityKey = P256.Signing.PrivateKey()
        authorityName = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(authorityKey.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(86_400),
            issuer: authorityName,
            subject: authorityName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(authorityKey)
        )
        try Self.write(certificate, to: authorityPath)
    }

    /// The authority's certificate (PEM).
    package var authorityPath: String { directory.appendingPathComponent("ca.pem").path }

    /// Issues a certificate for `name`, valid for the DNS names given and for 127.0.0.1, and
    /// returns the paths of it and its key.
    package func issue(_ name: String, dnsNames: [String]) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(86_400),
            issuer: authorityName,
            subject: try DistinguishedName { CommonName(name) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(
                    dnsNames.map { GeneralName.dnsName($0) }
                        + [.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(authorityKey)
        )
        let certificatePath = directory.appendingPathComponent("\(name).pem").path
        let keyPath = directory.appendingPathComponent("\(name)-key.pem").path
        try Self.write(certificate, to: certificatePath)
        try Data(key.pemRepresentation.utf8).write(to: URL(fileURLWithPath: keyPath))
        return (certificatePath, keyPath)
    }

    /// Deletes the files.
    package func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private static func write(_ certificate: Certificate, to path: String) throws {
        try Data(certificate.serializeAsPEM().pemString.utf8).write(to: URL(fileURLWithPath: path))
    }
}
