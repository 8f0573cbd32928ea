import AuthAPI
import AuthService
import Foundation
import GRPCCore
import GRPCInProcessTransport
import LedgerAPI
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing
import TokenVerification

@testable import LedgerService

/// The ledger over gRPC: transfers, idempotency, batches, concurrency, the hash chain, balances,
/// statements and reconciliation, on SQLite and PostgreSQL.
@Suite("Ledger")
struct LedgerTests {
    static func ref(
        _ kind: Rahat_Ledger_V1_AccountKind, _ project: String, owner: String? = nil
    ) -> Rahat_Ledger_V1_AccountRef {
        .with {
            $0.kind = kind
            $0.projectID = project
            if let owner { $0.ownerID = owner }
        }
    }

    static func order(
        _ key: String, _ kind: Rahat_Ledger_V1_TransferKind, from debit: Rahat_Ledger_V1_AccountRef,
        to credit: Rahat_Ledger_V1_AccountRef, _ amount: Int64, asset: String = "NPR", reference: String = "test"
    ) -> Rahat_Ledger_V1_TransferRequest {
        .with {
            $0.idempotencyKey = key
            $0.kind = kind
            $0.debit = debit
            $0.credit = credit
            $0.amount = amount
            $0.asset = asset
            $0.reference = reference
        }
    }

    /// Funding of `project` from its external funding account.
    static func funding(_ key: String, _ project: String, _ amount: Int64) -> Rahat_Ledger_V1_TransferRequest {
        order(key, .fund, from: ref(.externalFunding, project), to: ref(.projectFund, project), amount)
    }

    /// A disbursement line from `project`'s fund to `beneficiary`'s wallet.
    static func line(
        _ key: String, _ project: String, _ beneficiary: String, _ amount: Int64
    ) -> Rahat_Ledger_V1_TransferRequest {
        order(
            key, .disburse, from: ref(.projectFund, project), to: ref(.beneficiaryWallet, project, owner: beneficiary),
            amount)
    }

    static func newID() -> String { UUID().uuidString.lowercased() }

    @Test(
        "a transfer opens its accounts, moves value, and a repeated key answers the first transfer",
        arguments: DatabaseEngine.available)
    func idempotentTransfer(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            // when
            let first = try await harness.ledger.recordTransfer(
                Self.funding("fund-1", project, 100_000), metadata: admin)
            let again = try await harness.ledger.recordTransfer(
                Self.funding("fund-1", project, 100_000), metadata: admin)
            let conflict = await serviceFailure {
                try await harness.ledger.recordTransfer(Self.funding("fund-1", project, 99_999), metadata: admin)
            }
            let elsewhere = try await harness.ledger.recordTransfer(
                Self.funding("fund-1", Self.newID(), 99_999), metadata: admin)
            let fund = try await harness.ledger.findAccount(Self.ref(.projectFund, project), metadata: admin)
            let external = try await harness.ledger.findAccount(Self.ref(.externalFunding, project), metadata: admin)
            let transfers = try await harness.ledger.listTransfers(.with { $0.projectID = project }, metadata: admin)
            // then
            #expect(!first.replayed && again.replayed)
            #expect(again.transfer == first.transfer)
            #expect(first.transfer.sequence == 1 && first.transfer.prevHash == String(repeating: "0", count: 64))
            #expect(conflict?.reason == "ledger.idempotency_conflict")
            #expect(!elsewhere.replayed && elsewhere.transfer.sequence == 2)
            #expect(conflict?.violations.map(\.field) == ["idempotencyKey"])
            #expect((fund.balance, fund.mayGoNegative, fund.asset) == (100_000, false, "NPR"))
            #expect((external.balance, external.mayGoNegative) == (-100_000, true))
            #expect(transfers.transfers.map(\.idempotencyKey) == ["fund-1"])
        }
    }

    @Test("bad transfers name every field and move nothing", arguments: DatabaseEngine.available)
    func validation(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            let other = Self.newID()
            // when
            let empty = await serviceFailure {
                try await harness.ledger.recordTransfer(
                    .with {
                        $0.debit = Self.ref(.beneficiaryWallet, project)
                        $0.credit = .with {
                            $0.kind = .vendor; $0.projectID = "not-a-uuid"; $0.ownerID = Self.newID()
                        }
                        $0.asset = "npr"
                    }, metadata: admin)
            }
            let wrongPath = await serviceFailure {
                try await harness.ledger.recordTransfer(
                    Self.order(
                        "k1", .redeem, from: Self.ref(.projectFund, project),
                        to: Self.ref(.vendor, project, owner: Self.newID()), 5),
                    metadata: admin)
            }
            let twoProjects = await serviceFailure {
                try await harness.ledger.recordTransfer(
                    Self.order(
                        "k2", .fund, from: Self.ref(.externalFunding, project), to: Self.ref(.projectFund, other), 5),
                    metadata: admin)
            }
            let batch = await serviceFailure {
                var nul = Self.funding("nul", project, 5)
                nul.reference = "line\u{0}1"
                return try await harness.ledger.recordTransferBatch(
                    .with { $0.transfers = [Self.funding("ok", project, 5), Self.funding("", project, -1), nul] },
                    metadata: admin)
            }
            let tooMany = await serviceFailure {
                try await harness.ledger.recordTransferBatch(
                    .with { $0.transfers = (0...10_000).map { Self.funding("f\($0)", project, 1) } }, metadata: admin)
            }
            let chain = try await harness.ledger.verifyChain(.init(), metadata: admin)
            // then
            #expect(
                Set(empty?.violations.map(\.field) ?? []) == [
                    "idempotencyKey", "amount", "asset", "kind", "reference", "debit.ownerId", "credit.projectId",
                ])
            #expect(wrongPath?.violations.map(\.field) == ["kind"])
            #expect(twoProjects?.violations.map(\.field) == ["credit.projectId"])
            #expect(
                Set(batch?.violations.map(\.field) ?? []) == [
                    "transfers[1].idempotencyKey", "transfers[1].amount", "transfers[2].reference",
                ])
            #expect(tooMany?.violations.map(\.field) == ["transfers"])
            #expect(chain.checked == 0 && chain.ok)
        }
    }

    @Test(
        "a batch is all or none: one overdraft refuses it whole and names the line", arguments: DatabaseEngine.available
    )
    func atomicBatch(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            let people = (0..<3).map { _ in Self.newID() }
            _ = try await harness.ledger.recordTransfer(Self.funding("fund", project, 1_000), metadata: admin)
            // when
            let refused = await serviceFailure {
                try await harness.ledger.recordTransferBatch(
                    .with { $0.transfers = people.enumerated().map { Self.line("line-\($0)", project, $1, 400) } },
                    metadata: admin)
            }
            let fundAfterRefusal = try await harness.ledger.findAccount(
                Self.ref(.projectFund, project), metadata: admin)
            let walletAfterRefusal = await serviceFailure {
                try await harness.ledger.findAccount(
                    Self.ref(.beneficiaryWallet, project, owner: people[0]), metadata: admin)
            }
            let paid = try await harness.ledger.recordTransferBatch(
                .with {
                    $0.transfers = [
                        Self.line("line-0", project, people[0], 400), Self.line("line-1", project, people[1], 400),
                        Self.line("line-0", project, people[0], 400),
                    ]
                }, metadata: admin)
            let fund = try await harness.ledger.findAccount(Self.ref(.projectFund, project), metadata: admin)
            // and a batch that repeats a recorded line beside a new one (PostgreSQL writes it first
            // without looking keys up, finds the repeat by the unique index and writes it again),
            // then one that changes a recorded line
            let mixed = try await harness.ledger.recordTransferBatch(
                .with {
                    $0.transfers = [
                        Self.line("line-1", project, people[1], 400), Self.line("line-2", project, people[2], 100),
                    ]
                }, metadata: admin)
            let changed = await serviceFailure {
                try await harness.ledger.recordTransferBatch(
                    .with {
                        $0.transfers = [
                            Self.line("line-3", project, people[0], 50), Self.line("line-2", project, people[2], 99),
                        ]
                    }, metadata: admin)
            }
            let fundAtEnd = try await harness.ledger.findAccount(Self.ref(.projectFund, project), metadata: admin)
            let chain = try await harness.ledger.verifyChain(.init(), metadata: admin)
            // then
            #expect(mixed.results.map(\.replayed) == [true, false])
            #expect(mixed.results.map(\.sequence) == [3, 4])
            #expect(changed?.reason == "ledger.idempotency_conflict")
            #expect(changed?.violations.map(\.field) == ["transfers[1].idempotencyKey"])
            #expect(fundAtEnd.balance == 100 && fundAtEnd.lastSequence == 4)
            #expect(chain.ok && chain.checked == 4)
            #expect(refused?.reason == "ledger.insufficient_funds")
            #expect(refused?.violations.map(\.field) == ["transfers[2].amount"])
            #expect(fundAfterRefusal.balance == 1_000)
            #expect(walletAfterRefusal?.reason == "ledger.account_not_found")
            #expect(paid.results.map(\.replayed) == [false, false, true])
            #expect(paid.results.map(\.sequence) == [2, 3, 2])
            #expect(paid.results[2].transferID == paid.results[0].transferID)
            #expect(fund.balance == 200 && fund.lastSequence == 3)
        }
    }

    /// A second ledger process on the same database: its own gate, its own connections, so only
    /// the database serialises it with the harness's ledger.
    static func withSecondLedger<T: Sendable>(
        _ harness: ServiceHarness, verifyReuse: Duration = .zero,
        _ body: @Sendable (Rahat_Ledger_V1_LedgerService.Client<InProcessTransport.Client>) async throws -> T
    ) async throws -> T {
        let database = try ServiceDatabase(
            configuration: ServiceDatabaseConfiguration(
                location: harness.ledgerDatabase.location, maxConnectionsPerEventLoop: 2),
            schema: LedgerService.schema, logger: .test)
        let service = harness.authService
        let ledger = LedgerService(
            database: database,
            verifier: AccessTokenVerifier(minimumRefetchInterval: .zero) { try await service.publishedSigningKeys() },
            verifyReuse: verifyReuse, logger: .test)
        let transport = InProcessTransport(serviceConfig: RPCDefaults.serviceConfig(timeout: .seconds(60)))
        let server = GRPCServer(
            transport: transport.server, services: ledger.rpcServices,
            interceptors: [IncomingCallInterceptor(), ErrorLoggingInterceptor(logger: .test)])
        let client = GRPCClient(transport: transport.client)
        defer { Task { await database.shutdown() } }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask { try await client.runConnections() }
            defer {
                client.beginGracefulShutdown()
                server.beginGracefulShutdown()
            }
            return try await body(Rahat_Ledger_V1_LedgerService.Client(wrapping: client))
        }
    }

    @Test(
        "a chain walk is shared by the callers asking while it runs and answered again within its reuse time",
        arguments: DatabaseEngine.available)
    func chainWalkReused(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given a ledger process that answers a walk again for an hour, and one that never does
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            _ = try await harness.ledger.recordTransfer(Self.funding("fund", project, 900), metadata: admin)
            let (concurrent, later) = try await Self.withSecondLedger(harness, verifyReuse: .seconds(3600)) {
                reusing in
                // when: ten auditors ask at once, a transfer is recorded, and they ask again
                let concurrent = try await withThrowingTaskGroup(of: Rahat_Ledger_V1_VerifyChainResponse.self) {
                    group in
                    for _ in 0..<10 { group.addTask { try await reusing.verifyChain(.init(), metadata: admin) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                _ = try await harness.ledger.recordTransfer(
                    Self.line("later", project, Self.newID(), 100), metadata: admin)
                return (concurrent, try await reusing.verifyChain(.init(), metadata: admin))
            }
            let fresh = try await harness.ledger.verifyChain(.init(), metadata: admin)

            // then: one walk answered all eleven; the process that walks every time sees the new row
            #expect(Set(concurrent.map(\.verifiedAt.seconds)).count == 1)
            #expect(Set(concurrent.map(\.verifiedAt.nanos)).count == 1)
            #expect(concurrent.allSatisfy { $0.ok && $0.checked == 1 })
            #expect(later.verifiedAt == concurrent.first?.verifiedAt)
            #expect(later.checked == 1)
            #expect(fresh.ok && fresh.checked == 2)
            #expect(fresh.verifiedAt.date >= later.verifiedAt.date)
        }
    }

    @Test(
        "100 concurrent debits of one account from two ledger processes never overdraw it or lose an update, and the chain verifies throughout",
        arguments: DatabaseEngine.available)
    func concurrentDebits(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given: enough for half of them
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            _ = try await harness.ledger.recordTransfer(Self.funding("fund", project, 5_000), metadata: admin)
            // when: the debits alternate between the two processes while auditors verify the chain
            let (outcomes, verifications) = try await Self.withSecondLedger(harness) { second in
                async let verifications = withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<5 {
                        group.addTask { try await second.verifyChain(.init(), metadata: admin).ok }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                let outcomes = await withTaskGroup(of: String.self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            do {
                                let line = Self.line("debit-\(index)", project, Self.newID(), 100)
                                _ = try await (index.isMultiple(of: 2) ? harness.ledger : second).recordTransfer(
                                    line, metadata: admin)
                                return "paid"
                            } catch let error as RPCError {
                                return ServiceError(error).reason
                            } catch {
                                return "\(error)"
                            }
                        }
                    }
                    var outcomes: [String: Int] = [:]
                    for await outcome in group { outcomes[outcome, default: 0] += 1 }
                    return outcomes
                }
                return (outcomes, try await verifications)
            }
            let fund = try await harness.ledger.findAccount(Self.ref(.projectFund, project), metadata: admin)
            let books = try await harness.ledger.reconcile(.with { $0.projectID = project }, metadata: admin)
            let chain = try await harness.ledger.verifyChain(.init(), metadata: admin)
            // then
            #expect(outcomes == ["paid": 50, "ledger.insufficient_funds": 50])
            #expect(verifications == [true, true, true, true, true])
            #expect(fund.balance == 0)
            #expect((books.disbursed, books.beneficiariesBalance, books.beneficiaryAccounts) == (5_000, 5_000, 50))
            #expect(books.balanced && books.mismatches.isEmpty)
            #expect(chain.ok && chain.checked == 51)
        }
    }

    @Test("statements, balances as of a time, and a project's books that add up", arguments: DatabaseEngine.available)
    func booksAndStatements(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given: funded, disbursed to three, one redeems at a vendor, the vendor is settled, a
            // payout fails and comes back
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            let (sita, ram, hari, vendor) = (Self.newID(), Self.newID(), Self.newID(), Self.newID())
            let wallet = Self.ref(.beneficiaryWallet, project, owner: sita)
            let shop = Self.ref(.vendor, project, owner: vendor)
            let clearing = Self.ref(.settlementClearing, project)
            _ = try await harness.ledger.recordTransfer(Self.funding("fund", project, 10_000), metadata: admin)
            _ = try await harness.ledger.recordTransferBatch(
                .with {
                    $0.transfers = [
                        Self.line("l1", project, sita, 2_000), Self.line("l2", project, ram, 2_000),
                        Self.line("l3", project, hari, 2_000),
                    ]
                }, metadata: admin)
            let beforeRedeem = Date()
            try await Task.sleep(for: .milliseconds(20))
            _ = try await harness.ledger.recordTransfer(
                Self.order("r1", .redeem, from: wallet, to: shop, 1_500), metadata: admin)
            _ = try await harness.ledger.recordTransfer(
                Self.order("s1", .settle, from: shop, to: clearing, 1_500), metadata: admin)
            _ = try await harness.ledger.recordTransfer(
                Self.order("s2", .settle, from: clearing, to: Self.ref(.externalPayout, project), 1_000),
                metadata: admin)
            _ = try await harness.ledger.recordTransfer(
                Self.order("back", .reverse, from: clearing, to: shop, 500), metadata: admin)
            // when
            let account = try await harness.ledger.findAccount(wallet, metadata: admin)
            let statement = try await harness.ledger.listStatement(
                .with {
                    $0.accountID = account.id
                    $0.limit = 1
                }, metadata: admin)
            let rest = try await harness.ledger.listStatement(
                .with {
                    $0.accountID = account.id
                    $0.cursor = statement.nextCursor
                }, metadata: admin)
            let then = try await harness.ledger.getAccount(
                .with {
                    $0.id = account.id
                    $0.asOf = Google_Protobuf_Timestamp(date: beforeRedeem)
                }, metadata: admin)
            let books = try await harness.ledger.reconcile(.with { $0.projectID = project }, metadata: admin)
            // then
            #expect(account.balance == 500)
            #expect(statement.entries.map(\.change) == [2_000] && statement.hasNextCursor)
            #expect(rest.entries.map(\.change) == [-1_500] && rest.entries.map(\.balanceAfter) == [500])
            #expect(!rest.hasNextCursor)
            #expect((then.balance, then.lastSequence) == (2_000, 2))
            #expect((books.funded, books.disbursed, books.remaining) == (10_000, 6_000, 4_000))
            #expect(
                (books.beneficiariesReceived, books.beneficiariesRedeemed, books.beneficiariesBalance)
                    == (6_000, 1_500, 4_500))
            #expect((books.vendorsRedeemed, books.vendorsSettled, books.vendorsPending) == (1_500, 1_000, 500))
            #expect((books.paidOut, books.inClearing) == (1_000, 0))
            #expect(books.balanced && books.beneficiaryAccounts == 3 && books.vendorAccounts == 1)
        }
    }

    @Test(
        "the chain names the first changed or removed row, and a changed balance shows in the books",
        arguments: DatabaseEngine.available)
    func tampering(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            _ = try await harness.ledger.recordTransfer(Self.funding("fund", project, 900), metadata: admin)
            let people = (1...3).map { _ in Self.newID() }
            _ = try await harness.ledger.recordTransferBatch(
                .with { $0.transfers = people.enumerated().map { Self.line("l\($0)", project, $1, 100) } },
                metadata: admin)
            let listed = try await harness.ledger.listTransfers(.with { $0.projectID = project }, metadata: admin)
            let second = try await harness.ledger.getTransfer(.with { $0.id = listed.transfers[2].id }, metadata: admin)
            let wallet = try await harness.ledger.findAccount(
                Self.ref(.beneficiaryWallet, project, owner: people[0]), metadata: admin)
            let intact = try await harness.ledger.verifyChain(.init(), metadata: admin)
            let sql = harness.ledgerDatabase.sql
            // when: the database refuses changes to transfers outright…
            let refused = await #expect(throws: (any Error).self) {
                try await sql.raw("UPDATE transfers SET amount = 1 WHERE sequence = 3").run()
            }
            // …so someone with the rights to lift that guard changes a line and a balance
            if harness.engine == .postgres {
                try await sql.raw("ALTER TABLE transfers DISABLE TRIGGER transfers_append_only").run()
            } else {
                try await sql.raw("DROP TRIGGER transfers_append_only_update").run()
            }
            try await sql.raw("UPDATE transfers SET amount = 1000 WHERE sequence = 3").run()
            try await sql.raw(
                "UPDATE accounts SET balance = balance + 50 WHERE id = \(bind: UUID(uuidString: wallet.id))"
            ).run()
            let changed = try await harness.ledger.verifyChain(.init(), metadata: admin)
            let books = try await harness.ledger.reconcile(.with { $0.projectID = project }, metadata: admin)
            // and a transfer naming an account the ledger does not hold, or the removal of one a
            // transfer names, is refused (a foreign key on SQLite, checks per statement on PostgreSQL)
            let stray = await #expect(throws: (any Error).self) {
                try await sql.raw(
                    """
                    INSERT INTO transfers (id, sequence, idempotency_key, debit_account_id, credit_account_id, amount,
                        asset, kind, reference, project_id, created_at, debit_balance_after, credit_balance_after,
                        prev_hash, hash)
                    SELECT \(bind: UUID()), 99, 'stray', debit_account_id, \(bind: UUID()), 1, asset, kind, reference,
                        project_id, created_at, 0, 0, hash, hash
                    FROM transfers WHERE sequence = 4
                    """
                ).run()
            }
            let removed = await #expect(throws: (any Error).self) {
                try await sql.raw("DELETE FROM accounts WHERE id = \(bind: UUID(uuidString: wallet.id))").run()
            }
            let held = try await sql.raw("SELECT count(*) AS n FROM transfers").first()?.decode(
                column: "n", as: Int.self)
            // then
            #expect(refused != nil)
            #expect(stray != nil && removed != nil, "\(String(describing: stray)) \(String(describing: removed))")
            #expect(held == 4)
            #expect(intact.ok && intact.checked == 4)
            #expect(!changed.ok && changed.checked == 2)
            #expect(changed.firstBreak.sequence == 3)
            #expect(changed.firstBreak.transferID == second.id)
            #expect(changed.firstBreak.reason.contains("does not match its hash"))
            #expect(!books.balanced)
            #expect(books.mismatches.map(\.accountID).contains(wallet.id))
        }
    }

    @Test(
        "auditors read the books but move nothing; a project's manager reads only that project",
        arguments: DatabaseEngine.available)
    func permissions(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let (mine, theirs) = (Self.newID(), Self.newID())
            _ = try await harness.ledger.recordTransfer(Self.funding("a", mine, 10), metadata: admin)
            let other = try await harness.ledger.recordTransfer(Self.funding("b", theirs, 10), metadata: admin)
            let auditor = ServiceHarness.bearer(
                try await harness.createUser(email: "audit@example.org", roles: [.role("auditor")], as: adminToken)
                    .tokens.accessToken)
            let manager = ServiceHarness.bearer(
                try await harness.createUser(
                    email: "manager@example.org", roles: [.role("manager", project: mine)], as: adminToken
                ).tokens.accessToken)
            // when
            let auditorMoves = await serviceFailure {
                try await harness.ledger.recordTransfer(Self.funding("c", mine, 10), metadata: auditor)
            }
            let auditorVerifies = try await harness.ledger.verifyChain(.init(), metadata: auditor)
            let auditorLists = try await harness.ledger.listTransfers(.init(), metadata: auditor)
            let managerOwn = try await harness.ledger.reconcile(.with { $0.projectID = mine }, metadata: manager)
            let managerOther = await serviceFailure {
                try await harness.ledger.getAccount(.with { $0.id = other.transfer.creditAccountID }, metadata: manager)
            }
            let managerAll = await serviceFailure {
                try await harness.ledger.listTransfers(.init(), metadata: manager)
            }
            // then
            #expect(auditorMoves?.reason == "auth.permission_denied")
            #expect(auditorVerifies.ok && auditorLists.transfers.count == 2)
            #expect(managerOwn.funded == 10)
            #expect(managerOther?.reason == "ledger.account_not_found")
            #expect(managerAll?.reason == "auth.permission_denied")
        }
    }

    @Test("10,000 transfers go in one call", arguments: DatabaseEngine.available)
    func largestBatch(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = Self.newID()
            _ = try await harness.ledger.recordTransfer(Self.funding("fund", project, 1_000_000), metadata: admin)
            // when
            let paid = try await harness.ledger.recordTransferBatch(
                .with {
                    $0.transfers = (0..<10_000).map { Self.line("d:\($0)", project, Self.newID(), 100) }
                }, metadata: admin)
            let books = try await harness.ledger.reconcile(.with { $0.projectID = project }, metadata: admin)
            let chain = try await harness.ledger.verifyChain(.init(), metadata: admin)
            // then
            #expect(paid.results.count == 10_000 && paid.results.allSatisfy { !$0.replayed })
            #expect(paid.results.last?.sequence == 10_001)
            #expect((books.remaining, books.beneficiariesBalance, books.beneficiaryAccounts) == (0, 1_000_000, 10_000))
            #expect(books.balanced)
            #expect(chain.ok && chain.checked == 10_001)
        }
    }
}

/// The parts of a transfer that are checked and hashed byte by byte, without a database.
@Suite("Ledger encoding")
struct LedgerEncodingTests {
    @Test("the chain hash is SHA-256 over the v1 encoding, byte for byte (computed independently in Python)")
    func chainHash() throws {
        let record = TransferRecord(
            id: try #require(UUID(uuidString: "0192F3A4-5B6C-7D8E-9FA0-B1C2D3E4F5A6")), sequence: 7,
            idempotencyKey: "disbursement:é:line:1",
            debitAccountID: try #require(UUID(uuidString: "00000000-0000-0000-0000-0000000000AA")),
            creditAccountID: try #require(UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")), amount: 50_000,
            asset: "NPR", kind: .disburse, reference: "disbursement:x",
            projectID: try #require(UUID(uuidString: "12345678-9ABC-DEF0-1234-56789ABCDEF0")),
            createdAt: Date(timeIntervalSince1970: 1_764_201_600.123), debitBalanceAfter: -50_000,
            creditBalanceAfter: 50_000, prevHash: TransferChain.genesis, hash: "")
        #expect(
            TransferChain.hash(of: record, after: TransferChain.genesis)
                == "d8e25c1868b1d6ed93d0271cfbe1931fd4067d4bc0d2cdd039c7bbab3f86d5de")
    }

    @Test("keys and references: printable ASCII is checked on its bytes, anything else by Unicode's rules, alike")
    func text() {
        let cases: [(text: String, key: Bool, reference: Bool)] = [
            ("disbursement:0192f3a4:line:17", true, true),
            ("with space", false, true),
            ("tab\there", false, false),
            ("new\nline", false, false),
            ("del\u{7F}", false, false),
            ("nbsp\u{A0}", false, true),
            ("ideographic\u{3000}space", false, true),
            ("café:é", true, true),
            ("", false, false),
            (String(repeating: "k", count: 200), true, true),
            (String(repeating: "k", count: 201), false, false),
            // 200 characters of two bytes each: characters are counted, not bytes.
            (String(repeating: "é", count: 200), true, true),
            (String(repeating: "é", count: 201), false, false),
        ]
        for item in cases {
            #expect(LedgerDomain.isValidText(item.text, allowingWhitespace: false) == item.key, "\(item.text)")
            #expect(LedgerDomain.isValidText(item.text, allowingWhitespace: true) == item.reference, "\(item.text)")
        }
    }
}
