import Foundation
import MetricCatalog
import Metrics
import Persistence
import SQLKit
import ServerKit
import SharedModels

extension LedgerDomain {
    /// Rows read per query while walking the chain.
    static let verifyPage = 5_000
    /// Mismatched accounts a reconciliation lists; the rest are counted in `balanced` only.
    static let mismatchLimit = 100

    /// Walks the chain in order, recomputing every hash, or answers the walk that is running or
    /// finished within ``verifyReuse``: a walk reads every transfer, and anyone with the grant may
    /// ask as often as they like. Needs `ledger:read` for every project.
    func verifyChain(by caller: Principal) async throws -> ChainVerification {
        try caller.require(Permission(.ledger, .read))
        let database = database
        let now = now
        return try await chainWalks.value(maxAge: verifyReuse) {
            do {
                return .success(try await Self.verifyChain(on: database, now: now))
            } catch {
                return .failure(error)
            }
        }.get()
    }

    /// The walk itself, for the operator's CLI as well: the first missing row, broken link or
    /// row whose content does not match its hash, and whether the head agrees with the last row.
    static func verifyChain(
        on database: ServiceDatabase, now: @Sendable () -> Date = Date.init
    ) async throws -> ChainVerification {
        let startedAt = now()
        // One snapshot: transfers committed during the walk would otherwise show as rows past the head.
        let verification = try await database.transaction { tx in
            let sql = try Self.sql(tx)
            try await LedgerStore.readSnapshot(sql)
            return try await verifyChain(in: sql, at: startedAt)
        }
        LedgerServiceMetrics.verifications.counter(verification.isIntact ? "ok" : "broken").increment()
        return verification
    }

    private static func verifyChain(in sql: any SQLDatabase, at startedAt: Date) async throws -> ChainVerification {
        let head = try await LedgerStore.chainHead(on: sql)
        let headSequence = head.sequence
        let headHash = head.hash
        var expected: Int64 = 1
        var previous = TransferChain.genesis
        func result(_ chainBreak: ChainBreak?) -> ChainVerification {
            ChainVerification(checked: expected - 1, firstBreak: chainBreak, headHash: headHash, verifiedAt: startedAt)
        }
        while true {
            let rows = try await LedgerStore.transfers(from: expected, limit: verifyPage, on: sql)
            for transfer in rows {
                guard transfer.sequence == expected else {
                    return result(ChainBreak(sequence: expected, transferID: nil, reason: "the transfer is missing"))
                }
                guard transfer.prevHash == previous else {
                    return result(
                        ChainBreak(
                            sequence: expected, transferID: transfer.id,
                            reason: "its previous hash is not the hash of transfer \(expected - 1)"))
                }
                guard TransferChain.hash(of: transfer, after: previous) == transfer.hash else {
                    return result(
                        ChainBreak(
                            sequence: expected, transferID: transfer.id,
                            reason: "its content does not match its hash"))
                }
                previous = transfer.hash
                expected += 1
            }
            if rows.count < verifyPage { break }
        }
        guard headSequence == expected - 1, headHash == previous else {
            return result(
                ChainBreak(
                    sequence: expected, transferID: nil,
                    reason:
                        "the chain head records \(headSequence) transfers ending in \(headHash.prefix(12))…, the rows \(expected - 1) ending in \(previous.prefix(12))…"
                ))
        }
        return result(nil)
    }

    /// A project's books (docs/domain.md, flow 7), from its transfers, checked against every account's
    /// stored balance. Needs `ledger:read` for the project.
    func reconcile(projectID: String, by caller: Principal) async throws -> Reconciliation {
        let project = try parseID(projectID, field: "projectId")
        try caller.require(Permission(.ledger, .read, projectID: project.lowercasedString))
        // One snapshot, so that a transfer committed between the queries cannot unbalance the books.
        return try await database.transaction { tx in
            let sql = try Self.sql(tx)
            try await LedgerStore.readSnapshot(sql)
            return try await Self.books(of: project, in: sql)
        }
    }

    private static func books(of project: UUID, in sql: any SQLDatabase) async throws -> Reconciliation {
        // Value moved along each path between account kinds, whatever the transfer kind.
        let moved = try await LedgerStore.flows(of: project, on: sql)
        func net(_ from: AccountKind, _ to: AccountKind) -> Int64 {
            moved[TransferKind.Path(from, to), default: 0] - moved[TransferKind.Path(to, from), default: 0]
        }
        let holdings = try await LedgerStore.holdings(of: project, on: sql)
        let held = holdings.balances
        let counts = holdings.accounts
        let asset = holdings.asset
        var books = Reconciliation(projectID: project, asset: asset)
        books.funded = net(.externalFunding, .projectFund)
        books.disbursed = net(.projectFund, .beneficiaryWallet)
        books.remaining = held[.projectFund, default: 0]
        books.beneficiariesReceived = books.disbursed
        books.beneficiariesRedeemed = net(.beneficiaryWallet, .vendor)
        books.beneficiariesBalance = held[.beneficiaryWallet, default: 0]
        books.vendorsRedeemed = books.beneficiariesRedeemed
        books.vendorsSettled = net(.vendor, .settlementClearing)
        books.vendorsPending = held[.vendor, default: 0]
        books.paidOut = net(.settlementClearing, .externalPayout)
        books.inClearing = held[.settlementClearing, default: 0]
        books.beneficiaryAccounts = counts[.beneficiaryWallet, default: 0]
        books.vendorAccounts = counts[.vendor, default: 0]
        books.mismatches = try await LedgerStore.mismatchedAccounts(of: project, limit: mismatchLimit, on: sql)
        return books
    }
}
