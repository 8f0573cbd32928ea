import AuthService
import C2CService
import CoreService
import Foundation
import LedgerService
import Messaging

/// The PostgreSQL roles of a distributed deployment: one login per service, owning its own
/// schema and reaching no other, so that the credentials of a process that parses uploaded files
/// (core, the worker) cannot read the auth service's password hashes or signing keys.
///
/// `rahat database roles` prints ``statements(database:prefix:)`` for an operator to run once as
/// the database's owner; each process then connects with its service's role through
/// `RAHAT_<SERVICE>_DATABASE_URL`. Running the statements again is harmless, and they also take
/// over a schema that an earlier single-role deployment created.
package enum DatabaseRoles {
    /// Each role and the schemas it owns. Core's role also owns the schema where a single-process
    /// platform on PostgreSQL without Redis keeps its events and jobs, because core migrates it.
    package static func plan(prefix: String) -> [(role: String, schemas: [String])] {
        [
            ("\(prefix)auth", [AuthService.schema]),
            ("\(prefix)core", [CoreService.schema, InProcessEventBus.schema]),
            ("\(prefix)ledger", [LedgerService.schema]),
            ("\(prefix)c2c", [C2CService.schema]),
        ]
    }

    /// The SQL, one statement per element, for the database named `database`. Roles are created
    /// without a password: set one with `ALTER ROLE … PASSWORD` (or use certificate or peer
    /// authentication) — a password written into a script ends up in shell histories and logs.
    package static func statements(database: String, prefix: String = "rahat_") -> [String] {
        let db = quoted(database)
        var statements = [
            // Nobody connects, or creates schemas or temporary tables, unless granted here.
            "REVOKE ALL ON DATABASE \(db) FROM PUBLIC",
            "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        ]
        for (role, schemas) in plan(prefix: prefix) {
            let name = quoted(role)
            statements.append(
                """
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = \(literal(role))) THEN
                    CREATE ROLE \(name) LOGIN;
                  END IF;
                END $$
                """)
            statements.append("GRANT CONNECT ON DATABASE \(db) TO \(name)")
            for schema in schemas {
                statements.append("CREATE SCHEMA IF NOT EXISTS \(quoted(schema)) AUTHORIZATION \(name)")
                statements.append("ALTER SCHEMA \(quoted(schema)) OWNER TO \(name)")
                statements.append(takeOver(schema: schema, role: role))
            }
        }
        return statements
    }

    /// The statements as a script for `psql`.
    package static func script(database: String, prefix: String = "rahat_") -> String {
        let header = """
            -- Rahat: one PostgreSQL role per service, each owning only its own schema.
            -- Run as the owner of database \(quoted(database)) (or a superuser), then give each role a
            -- password and point each process at it, e.g.
            --   ALTER ROLE \(prefix)auth PASSWORD '…';
            --   RAHAT_AUTH_DATABASE_URL=postgres://\(prefix)auth:…@host/\(database)

            """
        return header + statements(database: database, prefix: prefix).map { $0 + ";\n" }.joined()
    }

    /// Gives `role` what an earlier deployment created in `schema` as another role: tables,
    /// views, free-standing sequences (a column's sequence follows its table), functions and types.
    private static func takeOver(schema: String, role: String) -> String {
        """
        DO $$
        DECLARE item record;
        BEGIN
          FOR item IN
            SELECT c.relname, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(literal(schema)) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
              AND NOT EXISTS (
                SELECT FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
          LOOP
            EXECUTE format('ALTER %s %I.%I OWNER TO %I',
              CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              \(literal(schema)), item.relname, \(literal(role)));
          END LOOP;
          FOR item IN
            SELECT p.oid::regprocedure AS signature FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = \(literal(schema))
          LOOP
            EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.signature, \(literal(role)));
          END LOOP;
          FOR item IN
            SELECT t.typname FROM pg_type t
            JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = \(literal(schema)) AND t.typtype IN ('e', 'd')
          LOOP
            EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', \(literal(schema)), item.typname, \(literal(role)));
          END LOOP;
        END $$
        """
    }

    /// An SQL identifier, quoted.
    private static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// An SQL string literal.
    private static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
