import AuthAPI
import CoreAPI
import CoreService
import Foundation
import GRPCCore
import Persistence
import SQLKit
import ServerKit
import SharedModels
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Bulk imports: streamed in, processed in the background, every row accounted for.
@Suite("Imports")
struct ImportTests {
    /// Uploads `bytes` in small pieces and waits for the import to finish.
    static func importFile(
        _ bytes: [UInt8], options: Rahat_Core_V1_ImportOptions = .init(), harness: ServiceHarness, as caller: Metadata,
        waitingUpTo limit: Duration = .seconds(60)
    ) async throws -> Rahat_Core_V1_Import {
        let queued = try await harness.imports.uploadImport(metadata: caller) { writer in
            try await writer.write(.with { $0.options = options })
            for start in stride(from: 0, to: bytes.count, by: 4096) {
                try await writer.write(.with { $0.chunk = Data(bytes[start..<min(start + 4096, bytes.count)]) })
            }
        }
        #expect(queued.status == .queued)
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            // A poller rides out a busy moment (the jobs share the service's connections).
            if let current = try? await harness.imports.getImport(.with { $0.id = queued.id }, metadata: caller),
                current.status == .completed || current.status == .failed
            {
                return current
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("import \(queued.id) did not finish")
        return queued
    }

    /// The rejects file, as (line, column, reason) triples.
    static func rejects(_ id: String, harness: ServiceHarness, as caller: Metadata) async throws -> [[String]] {
        let data = try await harness.imports.getImportRejects(.with { $0.id = id }, metadata: caller) { response in
            var data = Data()
            for try await chunk in response.messages { data.append(chunk.data) }
            return data
        }
        var parser = CSVParser()
        let records = parser.feed(Array(data)) + parser.finish()
        return records.compactMap { try? $0.fields.get() }
    }

    @Test(
        "every kind of bad row is reported with its line and column; good rows are created, enrolled and grouped",
        arguments: DatabaseEngine.available)
    func badRows(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, runsJobs: true) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let group = try await harness.groups.createGroup(.with { $0.name = "Imported" }, metadata: admin)
            _ = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("Already here", phone: "9800000099") }, metadata: admin
            )
            var file: [UInt8] = [0xEF, 0xBB, 0xBF]
            file += Array(
                """
                Name,PHONE,national_id,Gender,birth_date,latitude\r
                Asha Tamang,9800000001,AB-123,female,1990-04-01,27.7\r
                Bad Phone,12,,female,,\r
                ,9800000003,,male,,\r
                Bad Gender,9800000004,,f,,\r
                Bad Date,9800000005,,male,1990-13-40,\r
                Bad Number,9800000006,,male,,north\r
                Repeat,9800000001,,male,,\r
                Existing,9800000099,,male,,\r
                Short row,9800000009\r

                """.utf8)
            file += Array("Bad bytes ".utf8) + [0xC3, 0x28] + Array(",9800000011,,male,,\r\n".utf8)
            file += Array("Fine again,9800000012,,other,,\r\n".utf8)
            // A quote never closed runs to the end of the file: one bad record, reported at its first line.
            file += Array("\"Broken \"\"quote\"\" x,9800000010,,male,,\r\nLost,9800000013,,male,,\r\n".utf8)
            // when
            let result = try await Self.importFile(
                file,
                options: .with {
                    $0.projectID = project.id
                    $0.groupID = group.id
                    $0.defaultCountry = "NP"
                    $0.fileName = "ward-9.csv"
                },
                harness: harness, as: admin)
            let rejects = try await Self.rejects(result.id, harness: harness, as: admin)
            let enrolled = try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.limit = 50
                    $0.projectID = project.id
                }, metadata: admin)
            let grouped = try await harness.groups.getGroup(.with { $0.id = group.id }, metadata: admin)
            let found = try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.limit = 50
                    $0.nationalID = "ab 123"
                }, metadata: admin)
            let completed = try await harness.coreOutbox().filter { $0.type == "rahat.core.import.completed" }
            // then
            #expect(result.status == .completed)
            #expect((result.rows, result.created, result.duplicates, result.rejected) == (12, 2, 2, 8))
            #expect(rejects.first == ["line", "column", "reason"])
            let byLine = Dictionary(grouping: rejects.dropFirst(), by: { $0[0] }).mapValues { $0.map { $0[1] } }
            #expect(byLine["3"] == ["phone"])
            #expect(byLine["4"] == ["name"])
            #expect(byLine["5"] == ["gender"])
            #expect(byLine["6"] == ["birthDate"])
            #expect(byLine["7"] == ["latitude"])
            #expect(byLine["8"] == ["phone"])
            #expect(byLine["9"] == ["phone"])
            #expect(byLine["10"] == [""])
            #expect(byLine["11"] == [""])
            #expect(byLine["13"] == [""])
            #expect(rejects.contains { $0[0] == "8" && $0[2].contains("repeats line 2") })
            #expect(enrolled.beneficiaries.count == 2)
            #expect(grouped.memberCount == 2)
            #expect(found.beneficiaries.first?.pii.name == "Asha Tamang")
            #expect(completed.count == 1)
        }
    }

    @Test("a file without a name column fails whole and writes nothing", arguments: DatabaseEngine.available)
    func missingColumn(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, runsJobs: true) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            // when
            let noName = try await Self.importFile(
                Array("phone,gender\n9800000001,male\n".utf8), harness: harness, as: admin)
            let unknown = try await Self.importFile(
                Array("name,shoe size\nAsha,38\n".utf8), harness: harness, as: admin)
            let empty = await serviceFailure {
                try await harness.imports.uploadImport(metadata: admin) { writer in
                    try await writer.write(.with { $0.options = .init() })
                }
            }
            let listed = try await harness.beneficiaries.listBeneficiaries(.with { $0.limit = 10 }, metadata: admin)
            let imports = try await harness.imports.listImports(.with { _ in }, metadata: admin)
            // then
            #expect(noName.status == .failed)
            #expect(noName.error.contains("'name'"))
            #expect(unknown.status == .failed && unknown.error.contains("shoe size"))
            #expect(empty?.violations.map(\.field) == ["file"])
            #expect(listed.beneficiaries.isEmpty)
            #expect(imports.imports.count == 2)
        }
    }

    @Test(
        "duplicates of registered people are skipped and reported, or update them", arguments: DatabaseEngine.available)
    func duplicatePolicies(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, runsJobs: true) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let existing = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("Old Name", phone: "9800000001") }, metadata: admin)
            let file = Array("name,phone,gender,phone_status\nNew Name,+977 980-000-0001,male,feature_phone\n".utf8)
            // Read once, so the update below must also drop a cached read.
            let before = try await harness.beneficiaries.getBeneficiary(.with { $0.id = existing.id }, metadata: admin)
            // when
            let skipped = try await Self.importFile(
                file, options: .with { $0.onDuplicate = .skip }, harness: harness, as: admin)
            let skipRejects = try await Self.rejects(skipped.id, harness: harness, as: admin)
            let updated = try await Self.importFile(
                file + Array("\n".utf8), options: .with { $0.onDuplicate = .update }, harness: harness, as: admin)
            let after = try await harness.beneficiaries.getBeneficiary(.with { $0.id = existing.id }, metadata: admin)
            let byOldName = try await NameSearchTests.found("old name", in: harness, as: admin)
            let byNewName = try await NameSearchTests.found("new name", in: harness, as: admin)
            // then
            #expect(byOldName.isEmpty, "an import that renames someone replaces their name's words")
            #expect(byNewName == ["New Name"])
            #expect((skipped.duplicates, skipped.created, skipped.updated) == (1, 0, 0))
            #expect(skipRejects.dropFirst().map { $0[1] } == ["phone"])
            #expect((updated.duplicates, updated.created, updated.updated, updated.rejected) == (0, 0, 1, 0))
            #expect(before.pii.name == "Old Name")
            #expect(after.pii.name == "New Name" && after.gender == "male" && after.phoneStatus == "feature_phone")
        }
    }

    @Test("JSON lines import with the same fields", arguments: DatabaseEngine.available)
    func jsonLines(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, runsJobs: true) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let file = Array(
                """
                {"name": "Asha", "phone": "9800000001", "latitude": 27.7, "extras": {"household": 4}}
                {"name": "Binod", "national_id": "X-12345"}
                not json
                {"name": "Chandra", "shoeSize": 40}

                """.utf8)
            // when
            let result = try await Self.importFile(
                file,
                options: .with {
                    $0.format = .jsonLines
                    $0.defaultCountry = "NP"
                },
                harness: harness, as: admin)
            let rejects = try await Self.rejects(result.id, harness: harness, as: admin)
            let byName = try await NameSearchTests.found("BINOD", in: harness, as: admin)
            // then
            #expect((result.rows, result.created, result.rejected) == (4, 2, 2))
            #expect(byName == ["Binod"], "imported people are found by name")
            #expect(rejects.dropFirst().map { $0[0] } == ["3", "4"])
        }
    }
    @Test(
        "10,000 rows with every kind of bad row: each one reported, the rest created",
        arguments: DatabaseEngine.available)
    func tenThousand(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, runsJobs: true) { harness in
            // given: every tenth row is bad in one of ten ways, in rotation
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            _ = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("Registered", phone: "9700000000") }, metadata: admin)
            var file = Array("name,phone,national_id,gender,birth_date,latitude,email\n".utf8)
            var expectedColumn: [Int: String] = [:]
            for index in 1...10_000 {
                let line = index + 1
                var fields = [
                    "Person \(index)", "98\(String(format: "%08d", index))", "NID-\(index)", "female", "1980-01-01",
                    "27.5", "p\(index)@example.org",
                ]
                if index % 10 == 0 {
                    switch (index / 10) % 10 {
                    case 0: (fields[0], expectedColumn[line]) = ("", "name")
                    case 1: (fields[1], expectedColumn[line]) = ("12", "phone")
                    case 2: (fields[3], expectedColumn[line]) = ("woman", "gender")
                    case 3: (fields[4], expectedColumn[line]) = ("1980-02-30", "birthDate")
                    case 4: (fields[5], expectedColumn[line]) = ("far", "latitude")
                    case 5: (fields[6], expectedColumn[line]) = ("not-an-email", "email")
                    case 6: (fields[1], expectedColumn[line]) = ("98\(String(format: "%08d", index - 1))", "phone")
                    case 7: (fields[2], expectedColumn[line]) = ("NID-\(index - 1)", "nationalId")
                    case 8: (fields[1], expectedColumn[line]) = ("9700000000", "phone")
                    default: (fields, expectedColumn[line]) = (Array(fields.prefix(3)), "")
                    }
                }
                file += Array((fields.joined(separator: ",") + "\n").utf8)
            }
            // when
            let result = try await Self.importFile(
                file, options: .with { $0.defaultCountry = "NP" }, harness: harness, as: admin,
                waitingUpTo: .seconds(600))
            let rejects = try await Self.rejects(result.id, harness: harness, as: admin)
            // then
            #expect(result.status == .completed)
            #expect(result.rows == 10_000)
            #expect(result.created == 9_000)
            #expect(result.duplicates == 300)
            #expect(result.rejected == 700)
            let reported = Dictionary(
                rejects.dropFirst().map { (Int($0[0]) ?? 0, $0[1]) }, uniquingKeysWith: { a, _ in a })
            #expect(reported == expectedColumn)
        }
    }
    @Test(
        "a wallet address is imported once: repeats in the file and addresses in use are rejected",
        arguments: DatabaseEngine.available)
    func wallets(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, runsJobs: true) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let holder = try await harness.beneficiaries.createBeneficiary(
                .with {
                    $0.beneficiary = BeneficiaryTests.person("Holder")
                    $0.beneficiary.walletAddress = "wallet-taken-1"
                }, metadata: admin)
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = holder.id }, metadata: admin)
            let file = Array(
                "name,wallet_address\nA,wallet-new-0001\nB,wallet-new-0001\nC,wallet-taken-1\nD,wallet-new-0002\n".utf8)
            // when
            let result = try await Self.importFile(file, harness: harness, as: admin)
            let rejects = try await Self.rejects(result.id, harness: harness, as: admin)
            // then
            #expect(result.status == .completed)
            #expect((result.created, result.rejected) == (2, 2))
            #expect(rejects.dropFirst().map { [$0[0], $0[1]] } == [["3", "walletAddress"], ["4", "walletAddress"]])
        }
    }

    /// Uploads `bytes` and returns the queued import, without waiting for it to run.
    static func upload(
        _ bytes: [UInt8], harness: ServiceHarness, as caller: Metadata
    ) async throws -> Rahat_Core_V1_Import {
        try await harness.imports.uploadImport(metadata: caller) { writer in
            try await writer.write(.with { $0.options = .init() })
            for start in stride(from: 0, to: bytes.count, by: 16_384) {
                try await writer.write(.with { $0.chunk = Data(bytes[start..<min(start + 16_384, bytes.count)]) })
            }
        }
    }

    /// Rows `name,phone`, one beneficiary each, with distinct Nepali mobile numbers.
    static func people(_ count: Int, repeating: [Int: Int] = [:]) -> [UInt8] {
        var text = "name,phone\n"
        for index in 1...count {
            let number = repeating[index] ?? index
            text += "Person \(index),+97798\(String(format: "%08d", 10_000_000 + number))\n"
        }
        return Array(text.utf8)
    }

    static func beneficiaryCount(_ harness: ServiceHarness) async throws -> Int {
        try await count("beneficiaries", harness)
    }

    /// `SELECT COUNT(*) FROM <from>` in the core database.
    static func count(_ from: String, _ harness: ServiceHarness) async throws -> Int {
        let sql = try #require(harness.coreDatabase.db as? any SQLDatabase)
        let row = try #require(try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: from)").first())
        return try row.decode(column: "n", as: Int.self)
    }

    @Test(
        "the import's job takes over a run that died holding the import, without waiting out its lease",
        arguments: DatabaseEngine.available)
    func jobTakesOverCrashedRun(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, configureCore: { $0.importBatchRows = 1000 }, runsJobs: false) {
            harness in
            // given an import whose first run stopped dead after one batch, its lease still running
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let queued = try await Self.upload(Self.people(2500), harness: harness, as: admin)
            #expect(try await harness.core.runNextImport(crashingAfterBatches: 1))
            #expect(queued.jobID == "import-\(queued.id)")

            // when its job runs
            let result = try await harness.runningJobs {
                var current = try await harness.imports.getImport(.with { $0.id = queued.id }, metadata: admin)
                let deadline = ContinuousClock.now + .seconds(120)
                while current.status != .completed && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    // A poller rides out a busy moment (the jobs share the service's connections).
                    if let now = try? await harness.imports.getImport(.with { $0.id = queued.id }, metadata: admin) {
                        current = now
                    }
                }
                return current
            }

            // then it resumed after the committed batch, well within the lease, every row once
            #expect(result.status == .completed)
            #expect((result.rows, result.created) == (2500, 2500))
            #expect(try await Self.beneficiaryCount(harness) == 2500)
        }
    }

    @Test(
        "an import whose process dies after a batch resumes after it once the lease lapses, counting every row once",
        arguments: DatabaseEngine.available)
    func resumesAfterCrash(engine: DatabaseEngine) async throws {
        let clock = TestClock()
        try await ServiceHarness.with(
            engine, configureCore: { $0.importBatchRows = 1000 }, runsJobs: false, now: clock.now
        ) { harness in
            // given: 2,500 rows, three batches; line 2,201 (row 2,200) repeats row 10's phone
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let queued = try await Self.upload(Self.people(2500, repeating: [2200: 10]), harness: harness, as: admin)
            // when
            let ranFirst = try await harness.core.runNextImport(crashingAfterBatches: 1)
            let midway = try await harness.imports.getImport(.with { $0.id = queued.id }, metadata: admin)
            let whileLeased = try await harness.core.runNextImport()
            clock.advance(by: 121)
            let resumed = try await harness.core.runNextImport()
            let result = try await harness.imports.getImport(.with { $0.id = queued.id }, metadata: admin)
            let rejects = try await Self.rejects(queued.id, harness: harness, as: admin)
            // then
            #expect(ranFirst && resumed && !whileLeased)
            #expect(midway.status == .running)
            #expect(midway.rows == 1000)
            #expect(result.status == .completed)
            #expect((result.rows, result.created, result.duplicates, result.rejected) == (2500, 2499, 1, 0))
            #expect(
                rejects.dropFirst().map { $0.joined(separator: "|") } == [
                    "2201|phone|duplicate: repeats line 11 of this file"
                ])
            #expect(try await Self.beneficiaryCount(harness) == 2499)
            #expect(try await Self.count("outbox WHERE type = 'rahat.core.beneficiary.created'", harness) == 2499)
        }
    }

    @Test(
        "one file is imported once at a time, and a file over the limit is refused as it streams",
        arguments: DatabaseEngine.available)
    func sameFileAndLimit(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(
            engine,
            configureCore: {
                $0.importMaxBytes = 64 * 1024
                // Room for all five racers: only the same-file rule may refuse them.
                $0.importsUnfinishedPerCaller = 5
            }, runsJobs: false
        ) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let file = Self.people(200)
            // when: five uploads of the same file race to be queued
            let outcomes = await withTaskGroup(of: ServiceError?.self) { group in
                for _ in 0..<5 {
                    group.addTask { await serviceFailure { try await Self.upload(file, harness: harness, as: admin) } }
                }
                var outcomes: [ServiceError?] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let tooLarge = await serviceFailure {
                try await Self.upload(Self.people(3000), harness: harness, as: admin)
            }
            let listed = try await harness.imports.listImports(.init(), metadata: admin)
            let ran = try await harness.core.runNextImport()
            let again = try await Self.upload(file, harness: harness, as: admin)
            // The database itself holds the line: the finished import cannot be queued beside `again`.
            let sql = try #require(harness.coreDatabase.db as? any SQLDatabase)
            let first = try #require(listed.imports.first?.id)
            await #expect(throws: (any Error).self) {
                try await sql.raw("UPDATE imports SET status = 'queued' WHERE id = \(bind: UUID(uuidString: first))")
                    .run()
            }
            // then
            #expect(outcomes.count { $0 == nil } == 1)
            #expect(outcomes.compactMap { $0?.reason } == Array(repeating: "import.in_progress", count: 4))
            #expect(tooLarge?.kind == .invalidArgument)
            #expect(tooLarge?.reason == "import.too_large")
            #expect(tooLarge?.violations.map(\.field) == ["file"])
            #expect(listed.imports.count == 1)
            #expect(ran)
            #expect(again.status == .queued)
            #expect(try await Self.beneficiaryCount(harness) == 200)
        }
    }

    @Test(
        "a user may have three imports unfinished and everyone together twelve; past either a start is refused and nothing is kept; stale uploads hold no place",
        arguments: DatabaseEngine.available)
    func unfinishedImportsBounded(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(
            engine,
            configureCore: {
                $0.importsUnfinishedPerCaller = 2
                $0.importsUnfinished = 3
            }, runsJobs: false
        ) { harness in
            // given an admin with two imports queued, and a field agent
            let tokens = try await harness.login()
            let admin = ServiceHarness.bearer(tokens.accessToken)
            let (_, agentTokens) = try await harness.createUser(
                email: "agent@example.org", roles: [.role("field_agent")], as: tokens.accessToken)
            let agent = ServiceHarness.bearer(agentTokens.accessToken)
            for count in [10, 20] { _ = try await Self.upload(Self.people(count), harness: harness, as: admin) }

            // when: the admin starts a third; the agent starts two; the admin's first import ends
            let third = await serviceFailure { try await Self.upload(Self.people(30), harness: harness, as: admin) }
            let agentsFirst = try await Self.upload(Self.people(40), harness: harness, as: agent)
            let agentsSecond = await serviceFailure {
                try await Self.upload(Self.people(50), harness: harness, as: agent)
            }
            let stored = try await Self.count("imports", harness)
            let chunks = try await Self.count("import_chunks", harness)
            let ran = try await harness.core.runNextImport()
            let afterOneEnded = try await Self.upload(Self.people(60), harness: harness, as: agent)
            // and every unfinished import is made to look like an upload a stopped process left two
            // hours ago: such leftovers hold no place
            let sql = try #require(harness.coreDatabase.db as? any SQLDatabase)
            try await sql.raw(
                """
                UPDATE imports SET status = 'uploading', created_at = \(bind: Date().addingTimeInterval(-7200))
                WHERE status IN ('queued', 'running')
                """
            ).run()
            let pastLeftovers = try await Self.upload(Self.people(70), harness: harness, as: admin)

            // then
            #expect(third?.kind == .resourceExhausted)
            #expect(third?.reason == "import.too_many_unfinished")
            #expect(third?.retryAfterSeconds == 60)
            #expect(agentsFirst.status == .queued)
            #expect(agentsSecond?.reason == "import.queue_full")
            #expect(agentsSecond?.retryAfterSeconds == 60)
            #expect(stored == 3)
            #expect(chunks == 3)
            #expect(ran)
            #expect(afterOneEnded.status == .queued)
            #expect(pastLeftovers.status == .queued)
        }
    }
}
