import AuthAPI
import CoreAPI
import CoreService
import Foundation
import GRPCCore
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Beneficiaries through the core service's gRPC API, on every database engine.
@Suite("Beneficiaries")
struct BeneficiaryTests {
    static func person(
        _ name: String,
        phone: String? = nil,
        nationalID: String? = nil,
        country: String = "NP"
    ) -> Rahat_Core_V1_NewBeneficiary {
        .with {
            $0.name = name
            if let phone { $0.phone = phone }
            if let nationalID { $0.nationalID = nationalID }
            $0.gender = "female"
            $0.defaultCountry = country
        }
    }

    @Test("personal data is sealed at rest and found again by blind index", arguments: DatabaseEngine.available)
    func encryptedAtRest(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let created = try await harness.beneficiaries.createBeneficiary(
                .with {
                    $0.beneficiary = Self.person("Sita Kumari Tharu", phone: "981-234-5678", nationalID: "12-34-56789")
                },
                metadata: admin
            )
            // when
            let stored = try await harness.coreDatabase.sql.raw("SELECT * FROM beneficiaries").all()
            let raw = try #require(stored.first)
            let sealedName = try raw.decode(column: "name_sealed", as: String.self)
            let sealedPhone = try raw.decode(column: "phone_sealed", as: String.self)
            let byPhone = try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.phone = "+977 9812345678"
                },
                metadata: admin
            )
            let byNationalID = try await harness.beneficiaries.listBeneficiaries(
                .with { $0.nationalID = "1234 56789" },
                metadata: admin
            )
            // then
            #expect(created.pii.phone == "+9779812345678")
            #expect(!sealedName.contains("Sita"))
            #expect(!sealedPhone.contains("9812345678"))
            #expect(byPhone.beneficiaries.map(\.id) == [created.id])
            #expect(byNationalID.beneficiaries.map(\.id) == [created.id])
        }
    }

    @Test("only callers with beneficiary_pii:read see personal data", arguments: DatabaseEngine.available)
    func piiVisibility(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let adminToken = try await harness.login().accessToken
            let created = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Ram Bahadur", phone: "9812345670") },
                metadata: ServiceHarness.bearer(adminToken)
            )
            let analyst = try await harness.createUser(
                holding: "analyst", permissions: ["beneficiary:read"], as: adminToken)
            let seenByAnalyst = try await harness.beneficiaries.getBeneficiary(
                .with { $0.id = created.id },
                metadata: ServiceHarness.bearer(analyst.accessToken)
            )
            let seenByAdmin = try await harness.beneficiaries.getBeneficiary(
                .with { $0.id = created.id },
                metadata: ServiceHarness.bearer(adminToken)
            )
            let edit = await serviceFailure {
                try await harness.beneficiaries.updateBeneficiary(
                    .with {
                        $0.id = created.id
                        $0.changes.name = "Someone else"
                        $0.fields = ["name"]
                    },
                    metadata: ServiceHarness.bearer(analyst.accessToken)
                )
            }
            #expect(!seenByAnalyst.hasPii)
            #expect(seenByAnalyst.gender == "female")
            #expect(seenByAdmin.pii.name == "Ram Bahadur")
            #expect(edit?.kind == .permissionDenied)
        }
    }

    @Test("a batch is all or nothing, with every item's problems named", arguments: DatabaseEngine.available)
    func batch(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let bad = await serviceFailure {
                try await harness.beneficiaries.createBeneficiaries(
                    .with {
                        $0.beneficiaries = [
                            Self.person("Fine One", phone: "9800000001"),
                            Self.person("", phone: "12"),
                            Self.person("Twin", phone: "9800000001"),
                        ]
                    },
                    metadata: admin
                )
            }
            let none = try await harness.beneficiaries.listBeneficiaries(.init(), metadata: admin)
            let good = try await harness.beneficiaries.createBeneficiaries(
                .with {
                    $0.beneficiaries = (1...50).map {
                        Self.person("Person \($0)", phone: "98000\(String(format: "%05d", $0))")
                    }
                },
                metadata: admin
            )
            let duplicate = await serviceFailure {
                try await harness.beneficiaries.createBeneficiary(
                    .with { $0.beneficiary = Self.person("Again", phone: "+977 98000 00007") },
                    metadata: admin
                )
            }
            #expect(
                Set(bad?.violations.map(\.field) ?? []) == [
                    "beneficiaries[1].name", "beneficiaries[1].phone", "beneficiaries[2].phone",
                ]
            )
            #expect(none.beneficiaries.isEmpty)
            #expect(good.beneficiaries.count == 50)
            #expect(duplicate?.reason == "beneficiary.duplicate")
            #expect(duplicate?.violations.map(\.field) == ["phone"])
            #expect(try await harness.coreOutbox().filter { $0.type == "rahat.core.beneficiary.created" }.count == 50)
        }
    }

    @Test(
        "archiving hides a beneficiary and frees its phone; events carry no personal data",
        arguments: DatabaseEngine.available)
    func archive(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let created = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Gita Devi", phone: "9811111111") },
                metadata: admin
            )
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = created.id
                    $0.changes.bankedStatus = "banked"
                    $0.fields = ["bankedStatus"]
                },
                metadata: admin
            )
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = created.id }, metadata: admin)
            let gone = await serviceFailure {
                try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
            }
            let again = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Gita Devi", phone: "9811111111") },
                metadata: admin
            )
            let events = try await harness.coreOutbox().filter { $0.aggregateID == created.id }
            #expect(gone?.kind == .notFound)
            #expect(again.id != created.id)
            #expect(
                events.map(\.type) == [
                    "rahat.core.beneficiary.created", "rahat.core.beneficiary.updated",
                    "rahat.core.beneficiary.archived",
                ]
            )
            #expect(events.allSatisfy { !$0.json.contains("Gita") && !$0.json.contains("9811111111") })
            #expect(events[1].json.contains("bankedStatus"))
        }
    }

    @Test("bad input names each field", arguments: DatabaseEngine.available)
    func validation(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let error = await serviceFailure {
                try await harness.beneficiaries.createBeneficiary(
                    .with {
                        $0.beneficiary = .with {
                            $0.name = "X"
                            $0.phone = "call me"
                            $0.email = "not-an-email"
                            $0.gender = "f"
                            $0.birthDate = "2031-02-30"
                            $0.latitude = 91
                            $0.walletAddress = "short"
                            $0.extrasJson = "[]"
                            $0.bankedStatus = "rich"
                        }
                    },
                    metadata: admin
                )
            }
            #expect(
                Set(error?.violations.map(\.field) ?? []) == [
                    "phone", "email", "gender", "birthDate", "latitude", "walletAddress", "extras", "bankedStatus",
                ]
            )
            let listing = await serviceFailure {
                try await harness.beneficiaries.listBeneficiaries(
                    .with {
                        $0.limit = 500
                        $0.gender = "f"
                    },
                    metadata: admin
                )
            }
            #expect(Set(listing?.violations.map(\.field) ?? []) == ["limit", "gender"])
        }
    }
}

@Suite("PII keys")
struct PIIKeyTests {
    @Test("keys parse from configuration, and malformed keys are refused")
    func parsing() {
        let key = Data(repeating: 1, count: 32).base64EncodedString()
        let parsed = PIIKeys.parse(keys: "k2:\(key),k1:\(key)", indexKey: key)
        #expect((try? parsed.get())?.currentKeyID == "k2")
        #expect(PIIKeys.parse(keys: "k1:short", indexKey: key) == .failure(.malformedKey("k1")))
        #expect(PIIKeys.parse(keys: "k1:\(key)", indexKey: "nope") == .failure(.malformedIndexKey))
    }

    @Test("the embedded default creates its keys once, owner-readable only, and reuses them")
    func keyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pii-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try PIIKeyFile.loadOrCreate(in: directory)
        let second = try PIIKeyFile.loadOrCreate(in: directory)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/pii-keys.json")
        #expect(first == second)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}

extension BeneficiaryTests {
    @Test(
        "a wallet address belongs to one beneficiary, archived ones included; re-sending one's own phone is no duplicate",
        arguments: DatabaseEngine.available)
    func wallets(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            var holder = Self.person("Holder", phone: "9800000001")
            holder.walletAddress = "wallet-0001"
            let held = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = holder }, metadata: admin)
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = held.id }, metadata: admin)
            var again = Self.person("Again")
            again.walletAddress = "wallet-0001"
            var first = Self.person("First")
            first.walletAddress = "wallet-0002"
            var second = Self.person("Second")
            second.walletAddress = "wallet-0002"
            let kept = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Kept", phone: "9800000002") }, metadata: admin)
            // when
            let taken = await serviceFailure {
                try await harness.beneficiaries.createBeneficiary(.with { $0.beneficiary = again }, metadata: admin)
            }
            let repeated = await serviceFailure {
                try await harness.beneficiaries.createBeneficiaries(
                    .with { $0.beneficiaries = [first, second] }, metadata: admin)
            }
            let samePhone = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = kept.id
                    $0.changes = Self.person("Kept", phone: "+977 980-000-0002")
                    $0.fields = ["phone"]
                },
                metadata: admin)
            // then
            #expect(taken?.violations.map(\.field) == ["walletAddress"])
            #expect(taken?.kind == .alreadyExists)
            #expect(repeated?.violations.map(\.field) == ["beneficiaries[1].walletAddress"])
            #expect(samePhone.pii.phone == "+9779800000002")
        }
    }

    @Test(
        "registrations racing for one wallet address: one wins, the others are told it is taken",
        arguments: DatabaseEngine.available)
    func walletRace(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            // when
            let outcomes = await withTaskGroup(of: ServiceError?.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        await serviceFailure {
                            try await harness.beneficiaries.createBeneficiary(
                                .with {
                                    $0.beneficiary = Self.person("Racer \(index)", phone: "98000001\(10 + index)")
                                    $0.beneficiary.walletAddress = "wallet-raced-0001"
                                }, metadata: admin)
                        }
                    }
                }
                var outcomes: [ServiceError?] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            // then
            #expect(outcomes.count { $0 == nil } == 1)
            #expect(outcomes.compactMap { $0?.reason } == Array(repeating: "beneficiary.duplicate", count: 5))
            #expect(
                outcomes.compactMap { $0?.violations.map(\.field) } == Array(repeating: ["walletAddress"], count: 5))
        }
    }
}
