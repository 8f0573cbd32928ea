import FluentKit
import SQLKit

/// Accounts, the append-only transfers, and the chain head every writer locks first.
struct CreateLedger: AsyncMigration {
    var name: String { "ledger.0001_CreateLedger" }

    func prepare(on database: any Database) async throws {
        try await database.schema("accounts")
            .field("id", .uuid, .identifier(auto: false))
            .field("ref", .string, .required)
            .field("kind", .string, .required)
            .field("project_id", .uuid, .required)
            .field("owner_id", .uuid)
            .field("asset", .string, .required)
            .field("balance", .int64, .required)
            .field("last_sequence", .int64, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "ref")
            .create()
        try await database.schema("transfers")
            .field("id", .uuid, .identifier(auto: false))
            .field("sequence", .int64, .required)
            .field("idempotency_key", .string, .required)
            .field("debit_account_id", .uuid, .required, .references("accounts", "id"))
            .field("credit_account_id", .uuid, .required, .references("accounts", "id"))
            .field("amount", .int64, .required)
            .field("asset", .string, .required)
            .field("kind", .string, .required)
            .field("reference", .string, .required)
            .field("project_id", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("debit_balance_after", .int64, .required)
            .field("credit_balance_after", .int64, .required)
            .field("prev_hash", .string, .required)
            .field("hash", .string, .required)
            .unique(on: "sequence")
            // Per project: one project's keys say nothing about another's.
            .unique(on: "project_id", "idempotency_key")
            .create()
        try await database.schema("chain_head")
            .field("id", .int64, .identifier(auto: false))
            .field("sequence", .int64, .required)
            .field("hash", .string, .required)
            .field("last_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("INSERT INTO chain_head (id, sequence, hash) VALUES (1, 0, \(bind: TransferChain.genesis))")
            .run()
        // Statements read one account's side of the chain in order; projects list and reconcile theirs.
        try await sql.create(index: "transfers_debit_idx").on("transfers").column("debit_account_id")
            .column("sequence").run()
        try await sql.create(index: "transfers_credit_idx").on("transfers").column("credit_account_id")
            .column("sequence").run()
        try await sql.create(index: "transfers_project_idx").on("transfers").column("project_id").column("sequence")
            .run()
        try await sql.create(index: "accounts_project_idx").on("accounts").column("project_id").column("kind").run()
        // Transfers are never changed or removed, whoever asks: the database refuses it too. (Someone
        // with the rights to drop the guard is what the hash chain is for.)
        if sql.dialect.name == "postgresql" {
            try await sql.raw(
                """
                CREATE FUNCTION refuse_transfer_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'ledger transfers are append-only'; END $$
                """
            ).run()
            try await sql.raw(
                """
                CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
                FOR EACH ROW EXECUTE FUNCTION refuse_transfer_change()
                """
            ).run()
        } else {
            for event in ["UPDATE", "DELETE"] {
                try await sql.raw(
                    """
                    CREATE TRIGGER transfers_append_only_\(unsafeRaw: event.lowercased()) BEFORE \(unsafeRaw: event)
                    ON transfers BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END
                    """
                ).run()
            }
        }
    }

    func revert(on database: any Database) async throws {
        if let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" {
            try await database.schema("transfers").delete()
            try await sql.raw("DROP FUNCTION refuse_transfer_change()").run()
        } else {
            try await database.schema("transfers").delete()
        }
        try await database.schema("chain_head").delete()
        try await database.schema("accounts").delete()
    }
}
