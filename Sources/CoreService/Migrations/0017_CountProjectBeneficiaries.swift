import FluentKit
import SQLKit

/// Keeps each project's beneficiary counts (per verification status, gender and phone status) as
/// rows change, so a project's statistics cost the same at a million people as at ten.
///
/// Counting at read time looked up every enrolled beneficiary: 1.65 s for a project of a million.
/// Instead the database records a change of count, a delta row, whenever an enrolment is added
/// or removed or an enrolled beneficiary changes bucket or is archived; the statistics sum the
/// project's rows, and ``StatsFolding`` folds them back into one row per bucket from time to
/// time. Deltas are appended, never updated, so concurrent imports and checks never wait on a
/// shared counter row. Triggers, not the code paths that change rows, keep them: every write
/// that will ever touch these tables is counted, whichever service version makes it.
///
/// On PostgreSQL the triggers run once per statement over its transition tables (one grouped
/// insert for an import batch of thousands), and an enrolment added or removed takes a share
/// lock on its beneficiary before reading its bucket: otherwise an enrolment and a concurrent
/// change of the same beneficiary could each miss the other's uncommitted row and the counts
/// would drift. SQLite has one writer at a time, so its row triggers need no lock.
struct CountProjectBeneficiaries: AsyncMigration {
    var name: String { "core.0017_CountProjectBeneficiaries" }

    func prepare(on database: any Database) async throws {
        try await database.transaction { tx in
            try await tx.schema(StatsStore.countsTable)
                .field("project_id", .uuid, .required)
                .field("verification_status", .string, .required)
                .field("gender", .string, .required)
                .field("phone_status", .string, .required)
                .field("delta", .int64, .required)
                .create()
            guard let sql = tx as? any SQLDatabase else { return }
            try await sql.create(index: "project_beneficiary_counts_project_idx").on(StatsStore.countsTable)
                .column("project_id").run()
            if sql.dialect.name == "postgresql" {
                // No enrolment or beneficiary changes between the count below and the triggers.
                try await sql.raw("LOCK TABLE enrolments, beneficiaries IN SHARE MODE").run()
                try await Self.createPostgresTriggers(on: sql)
            } else {
                try await Self.createSQLiteTriggers(on: sql)
            }
            try await sql.raw(
                """
                INSERT INTO project_beneficiary_counts (project_id, verification_status, gender, phone_status, delta)
                SELECT e.project_id, b.verification_status, b.gender, b.phone_status, COUNT(*)
                FROM enrolments e JOIN beneficiaries b ON b.id = e.beneficiary_id
                WHERE b.archived_at IS NULL
                GROUP BY e.project_id, b.verification_status, b.gender, b.phone_status
                """
            ).run()
        }
    }

    private static func createPostgresTriggers(on sql: any SQLDatabase) async throws {
        // One function for the three enrolment triggers (PostgreSQL allows transition tables only
        // on a trigger of one event): what left is counted out, what arrived counted in. The locks
        // are taken in id order, so two writers locking overlapping sets cannot deadlock on them.
        try await sql.raw(
            """
            CREATE FUNCTION count_enrolment_changes() RETURNS trigger LANGUAGE plpgsql
            SET search_path FROM CURRENT AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN
                    PERFORM 1 FROM beneficiaries b JOIN removed r ON r.beneficiary_id = b.id
                        ORDER BY b.id FOR SHARE OF b;
                    INSERT INTO project_beneficiary_counts
                        (project_id, verification_status, gender, phone_status, delta)
                    SELECT r.project_id, b.verification_status, b.gender, b.phone_status, -COUNT(*)
                    FROM removed r JOIN beneficiaries b ON b.id = r.beneficiary_id
                    WHERE b.archived_at IS NULL
                    GROUP BY r.project_id, b.verification_status, b.gender, b.phone_status;
                END IF;
                IF TG_OP <> 'DELETE' THEN
                    PERFORM 1 FROM beneficiaries b JOIN added a ON a.beneficiary_id = b.id
                        ORDER BY b.id FOR SHARE OF b;
                    INSERT INTO project_beneficiary_counts
                        (project_id, verification_status, gender, phone_status, delta)
                    SELECT a.project_id, b.verification_status, b.gender, b.phone_status, COUNT(*)
                    FROM added a JOIN beneficiaries b ON b.id = a.beneficiary_id
                    WHERE b.archived_at IS NULL
                    GROUP BY a.project_id, b.verification_status, b.gender, b.phone_status;
                END IF;
                RETURN NULL;
            END $$
            """
        ).run()
        for (event, references) in [
            ("INSERT", "NEW TABLE AS added"), ("DELETE", "OLD TABLE AS removed"),
            ("UPDATE", "OLD TABLE AS removed NEW TABLE AS added"),
        ] {
            try await sql.raw(
                """
                CREATE TRIGGER enrolments_counted_\(unsafeRaw: event.lowercased()) AFTER \(unsafeRaw: event)
                ON enrolments REFERENCING \(unsafeRaw: references)
                FOR EACH STATEMENT EXECUTE FUNCTION count_enrolment_changes()
                """
            ).run()
        }
        // A beneficiary that changes bucket, or is archived or restored, moves between the counts
        // of every project it is enrolled in. Updates that leave the bucket as it was add nothing.
        try await sql.raw(
            """
            CREATE FUNCTION count_beneficiary_changes() RETURNS trigger LANGUAGE plpgsql
            SET search_path FROM CURRENT AS $$
            BEGIN
                WITH changed AS (
                    SELECT o.id,
                        o.verification_status AS old_status, o.gender AS old_gender,
                        o.phone_status AS old_phone, o.archived_at IS NULL AS old_live,
                        n.verification_status AS new_status, n.gender AS new_gender,
                        n.phone_status AS new_phone, n.archived_at IS NULL AS new_live
                    FROM before o JOIN after n ON n.id = o.id
                    WHERE (o.verification_status, o.gender, o.phone_status, o.archived_at IS NULL)
                        IS DISTINCT FROM (n.verification_status, n.gender, n.phone_status, n.archived_at IS NULL)
                ), moves AS (
                    SELECT id, old_status AS status, old_gender AS gender, old_phone AS phone, -1 AS delta
                    FROM changed WHERE old_live
                    UNION ALL
                    SELECT id, new_status, new_gender, new_phone, 1 FROM changed WHERE new_live
                )
                INSERT INTO project_beneficiary_counts
                    (project_id, verification_status, gender, phone_status, delta)
                SELECT e.project_id, m.status, m.gender, m.phone, SUM(m.delta)
                FROM moves m JOIN enrolments e ON e.beneficiary_id = m.id
                GROUP BY e.project_id, m.status, m.gender, m.phone
                HAVING SUM(m.delta) <> 0;
                RETURN NULL;
            END $$
            """
        ).run()
        try await sql.raw(
            """
            CREATE TRIGGER beneficiaries_counted AFTER UPDATE ON beneficiaries
            REFERENCING OLD TABLE AS before NEW TABLE AS after
            FOR EACH STATEMENT EXECUTE FUNCTION count_beneficiary_changes()
            """
        ).run()
    }

    private static func createSQLiteTriggers(on sql: any SQLDatabase) async throws {
        let insert =
            "INSERT INTO project_beneficiary_counts (project_id, verification_status, gender, phone_status, delta)"
        func counted(_ row: String, _ delta: Int) -> String {
            """
            \(insert) SELECT \(row).project_id, b.verification_status, b.gender, b.phone_status, \(delta)
                FROM beneficiaries b WHERE b.id = \(row).beneficiary_id AND b.archived_at IS NULL;
            """
        }
        let triggers = [
            "enrolments_counted_insert AFTER INSERT ON enrolments BEGIN \(counted("NEW", 1)) END",
            "enrolments_counted_delete AFTER DELETE ON enrolments BEGIN \(counted("OLD", -1)) END",
            """
            enrolments_counted_update AFTER UPDATE OF project_id, beneficiary_id ON enrolments
            BEGIN \(counted("OLD", -1)) \(counted("NEW", 1)) END
            """,
            """
            beneficiaries_counted AFTER UPDATE OF verification_status, gender, phone_status, archived_at
            ON beneficiaries
            WHEN (OLD.verification_status, OLD.gender, OLD.phone_status, OLD.archived_at IS NULL)
                IS NOT (NEW.verification_status, NEW.gender, NEW.phone_status, NEW.archived_at IS NULL)
            BEGIN
                \(insert) SELECT e.project_id, OLD.verification_status, OLD.gender, OLD.phone_status, -1
                    FROM enrolments e WHERE e.beneficiary_id = OLD.id AND OLD.archived_at IS NULL;
                \(insert) SELECT e.project_id, NEW.verification_status, NEW.gender, NEW.phone_status, 1
                    FROM enrolments e WHERE e.beneficiary_id = NEW.id AND NEW.archived_at IS NULL;
            END
            """,
        ]
        for trigger in triggers { try await sql.raw("CREATE TRIGGER \(unsafeRaw: trigger)").run() }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP TRIGGER beneficiaries_counted ON beneficiaries").run()
            for event in ["insert", "delete", "update"] {
                try await sql.raw("DROP TRIGGER enrolments_counted_\(unsafeRaw: event) ON enrolments").run()
            }
            try await sql.raw("DROP FUNCTION count_beneficiary_changes()").run()
            try await sql.raw("DROP FUNCTION count_enrolment_changes()").run()
        } else {
            for trigger in [
                "beneficiaries_counted", "enrolments_counted_insert", "enrolments_counted_delete",
                "enrolments_counted_update",
            ] {
                try await sql.raw("DROP TRIGGER \(unsafeRaw: trigger)").run()
            }
        }
        try await database.schema(StatsStore.countsTable).delete()
    }
}
