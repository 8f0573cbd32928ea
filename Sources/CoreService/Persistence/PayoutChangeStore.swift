import FluentKit
import Foundation
import SQLKit

/// Vendors' payout account changes waiting for, or decided by, a second person
/// (`vendor_payout_changes`); the account is stored as its JSON.
enum PayoutChangeStore {
    /// Marks the vendor's pending change, if any, superseded by a newer request.
    static func supersedePending(of vendorID: UUID, at now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("vendor_payout_changes")
            .set("status", to: SQLBind(PayoutChangeStatus.superseded.rawValue))
            .set("decided_at", to: SQLBind(now))
            .where("vendor_id", .equal, SQLBind(vendorID))
            .where("status", .equal, SQLBind(PayoutChangeStatus.pending.rawValue))
            .run()
    }

    /// Records `account` as the vendor's pending change `id`.
    static func insertPending(
        _ id: UUID, vendorID: UUID, account: PayoutAccount, requestedBy: UUID, at now: Date,
        on sql: any SQLDatabase
    ) async throws {
        try await sql.insert(into: "vendor_payout_changes")
            .columns("id", "vendor_id", "account", "status", "requested_by", "requested_at")
            .values(
                SQLBind(id), SQLBind(vendorID), SQLBind(try encode(account)),
                SQLBind(PayoutChangeStatus.pending.rawValue), SQLBind(requestedBy), SQLBind(now)
            )
            .run()
    }

    /// The vendor's pending change, if any.
    static func pending(of vendorID: UUID, on sql: any SQLDatabase) async throws -> PayoutChange? {
        guard
            let row = try await sql.select()
                .columns("id", "account", "requested_by", "requested_at").from("vendor_payout_changes")
                .where("vendor_id", .equal, SQLBind(vendorID))
                .where("status", .equal, SQLBind(PayoutChangeStatus.pending.rawValue)).first()
        else { return nil }
        return PayoutChange(
            id: try row.decode(column: "id", as: UUID.self),
            account: try decodeAccount(try row.decode(column: "account", as: String.self)),
            requestedBy: try row.decode(column: "requested_by", as: UUID.self),
            requestedAt: try row.decode(column: "requested_at", as: Date.self))
    }

    /// Decides the vendor's pending change as `status` in one statement, so of two deciders at
    /// once one wins, and never for its requester. The change decided, or `nil` when there was
    /// none that `decider` may decide.
    static func decidePending(
        of vendorID: UUID, as status: PayoutChangeStatus, by decider: UUID, note: String?, at now: Date,
        on sql: any SQLDatabase
    ) async throws -> Decided? {
        let claimed = try await sql.update("vendor_payout_changes")
            .set("status", to: SQLBind(status.rawValue)).set("decided_by", to: SQLBind(decider))
            .set("decided_at", to: SQLBind(now)).set("note", to: SQLBind(note))
            .where("vendor_id", .equal, SQLBind(vendorID))
            .where("status", .equal, SQLBind(PayoutChangeStatus.pending.rawValue))
            .where("requested_by", .notEqual, SQLBind(decider))
            .returning("id", "account").first()
        guard let claimed else { return nil }
        return Decided(
            id: try claimed.decode(column: "id", as: UUID.self),
            accountJSON: try claimed.decode(column: "account", as: String.self))
    }

    /// A change just decided. Its account is read only when asked for: a rejection never needs it.
    struct Decided {
        var id: UUID
        fileprivate var accountJSON: String

        func account() throws -> PayoutAccount { try PayoutChangeStore.decodeAccount(accountJSON) }
    }

    /// The account as the `account` column stores it: its JSON.
    private static func encode(_ account: PayoutAccount) throws -> String {
        String(decoding: try JSONEncoder().encode(account), as: UTF8.self)
    }

    /// An account read back from its stored JSON.
    fileprivate static func decodeAccount(_ text: String) throws -> PayoutAccount {
        try JSONDecoder().decode(PayoutAccount.self, from: Data(text.utf8))
    }
}
