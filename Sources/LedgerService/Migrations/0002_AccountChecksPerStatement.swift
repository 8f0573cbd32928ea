import FluentKit
import SQLKit

/// On PostgreSQL, the transfers' references to their accounts are checked once per statement
/// instead of twice per row. A foreign key probes `accounts` for each row as a query of its own
/// (and locks the row it finds); a ledger batch of 1,000 transfers made 2,000 of them, a third of
/// the batch's insert. The check below asks the same question of the whole batch in one join, and
/// accounts, which foreign keys kept from being removed while referenced, are never removed or
/// renumbered at all (nor truncated). SQLite keeps its foreign keys: its checks are in-process
/// B-tree look-ups, not queries, and the embedded default is not where batches need the speed.
struct AccountChecksPerStatement: AsyncMigration {
    var name: String { "ledger.0002_AccountChecksPerStatement" }

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        // All or nothing: the foreign keys go only with their replacement in place.
        try await database.transaction { tx in
            guard let sql = tx as? any SQLDatabase else { return }
            try await Self.replaceForeignKeys(on: sql)
        }
    }

    private static func replaceForeignKeys(on sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            DO $$ DECLARE foreign_key record; BEGIN
                FOR foreign_key IN SELECT conname FROM pg_constraint
                    WHERE conrelid = 'transfers'::regclass AND contype = 'f'
                LOOP
                    EXECUTE format('ALTER TABLE transfers DROP CONSTRAINT %I', foreign_key.conname);
                END LOOP;
            END $$
            """
        ).run()
        // `SET search_path FROM CURRENT`: the functions find the ledger's tables whoever's session
        // fires them.
        try await sql.raw(
            """
            CREATE FUNCTION transfers_name_held_accounts() RETURNS trigger LANGUAGE plpgsql
            SET search_path FROM CURRENT AS $$
            BEGIN
                IF EXISTS (
                    SELECT 1 FROM new_transfers t
                    WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.debit_account_id)
                        OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.credit_account_id)
                ) THEN
                    RAISE EXCEPTION 'a transfer names an account the ledger does not hold'
                        USING ERRCODE = 'foreign_key_violation';
                END IF;
                RETURN NULL;
            END $$
            """
        ).run()
        try await sql.raw(
            """
            CREATE TRIGGER transfers_accounts_held AFTER INSERT ON transfers
            REFERENCING NEW TABLE AS new_transfers
            FOR EACH STATEMENT EXECUTE FUNCTION transfers_name_held_accounts()
            """
        ).run()
        try await sql.raw(
            """
            CREATE FUNCTION refuse_account_removal() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger accounts are never removed or renumbered'
                    USING ERRCODE = 'foreign_key_violation';
            END $$
            """
        ).run()
        try await sql.raw(
            """
            CREATE TRIGGER accounts_kept BEFORE DELETE OR UPDATE OF id ON accounts
            FOR EACH ROW EXECUTE FUNCTION refuse_account_removal()
            """
        ).run()
        try await sql.raw(
            """
            CREATE TRIGGER accounts_kept_whole BEFORE TRUNCATE ON accounts
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_account_removal()
            """
        ).run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("DROP TRIGGER accounts_kept_whole ON accounts").run()
        try await sql.raw("DROP TRIGGER accounts_kept ON accounts").run()
        try await sql.raw("DROP FUNCTION refuse_account_removal()").run()
        try await sql.raw("DROP TRIGGER transfers_accounts_held ON transfers").run()
        try await sql.raw("DROP FUNCTION transfers_name_held_accounts()").run()
        try await sql.raw(
            """
            ALTER TABLE transfers
                ADD FOREIGN KEY (debit_account_id) REFERENCES accounts (id),
                ADD FOREIGN KEY (credit_account_id) REFERENCES accounts (id)
            """
        ).run()
    }
}
