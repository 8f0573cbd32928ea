import FluentKit
import SQLKit

/// Lets beneficiaries be found by name: names are sealed, so each word of a name is stored as a
/// blind index (an HMAC under the index key) beside the beneficiary, and a search looks its
/// words up the same way.
///
/// The words can only be computed where the keys are, in the service, not in SQL: this
/// migration creates the empty table and ``NameWordIndexing`` fills it for the names already
/// registered. A trigger drops a beneficiary's words whenever its sealed name is written, so a
/// rename by any writer, even a service version that predates this table, never leaves the old
/// name findable; the service stores the new words in the same transaction, and the indexing
/// sweep catches any that a writer did not.
struct IndexNameWords: AsyncMigration {
    var name: String { "core.0018_IndexNameWords" }

    func prepare(on database: any Database) async throws {
        try await database.transaction { tx in
            try await tx.schema(BeneficiaryStore.nameWordsTable)
                .field("word_index", .string, .required)
                .field("beneficiary_id", .uuid, .required)
                .compositeIdentifier(over: "word_index", "beneficiary_id")
                .create()
            let sql = try tx.sql()
            // The primary key finds a word's holders; this finds a beneficiary's words.
            try await sql.create(index: "beneficiary_name_words_beneficiary_idx").on(BeneficiaryStore.nameWordsTable)
                .column("beneficiary_id").run()
            if sql.dialect.name == "postgresql" {
                try await sql.raw(
                    """
                    CREATE FUNCTION forget_name_words() RETURNS trigger LANGUAGE plpgsql
                    SET search_path FROM CURRENT AS $$
                    BEGIN
                        DELETE FROM beneficiary_name_words WHERE beneficiary_id = OLD.id;
                        RETURN NULL;
                    END $$
                    """
                ).run()
                try await sql.raw(
                    """
                    CREATE TRIGGER beneficiaries_name_words AFTER UPDATE OF name_sealed ON beneficiaries
                    FOR EACH ROW WHEN (OLD.name_sealed IS DISTINCT FROM NEW.name_sealed)
                    EXECUTE FUNCTION forget_name_words()
                    """
                ).run()
            } else {
                try await sql.raw(
                    """
                    CREATE TRIGGER beneficiaries_name_words AFTER UPDATE OF name_sealed ON beneficiaries
                    WHEN OLD.name_sealed IS NOT NEW.name_sealed
                    BEGIN DELETE FROM beneficiary_name_words WHERE beneficiary_id = OLD.id; END
                    """
                ).run()
            }
        }
    }

    func revert(on database: any Database) async throws {
        let sql = try database.sql()
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP TRIGGER beneficiaries_name_words ON beneficiaries").run()
            try await sql.raw("DROP FUNCTION forget_name_words()").run()
        } else {
            try await sql.raw("DROP TRIGGER beneficiaries_name_words").run()
        }
        try await database.schema(BeneficiaryStore.nameWordsTable).delete()
    }
}
