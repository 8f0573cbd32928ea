-- Rahat: one PostgreSQL role per service, each owning only its own schema.
-- Run as the owner of database "rahat" (or a superuser), then give each role a
-- password and point each process at it, e.g.
--   ALTER ROLE rahat_auth PASSWORD '…';
--   RAHAT_AUTH_DATABASE_URL=postgres://rahat_auth:…@host/rahat
REVOKE ALL ON DATABASE "rahat" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rahat_auth') THEN
    CREATE ROLE "rahat_auth" LOGIN;
  END IF;
END $$;
GRANT CONNECT ON DATABASE "rahat" TO "rahat_auth";
CREATE SCHEMA IF NOT EXISTS "auth" AUTHORIZATION "rahat_auth";
ALTER SCHEMA "auth" OWNER TO "rahat_auth";
DO $$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'auth' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I',
      CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
      'auth', item.relname, 'rahat_auth');
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS signature FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'auth'
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.signature, 'rahat_auth');
  END LOOP;
  FOR item IN
    SELECT t.typname FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'auth' AND t.typtype IN ('e', 'd')
  LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', 'auth', item.typname, 'rahat_auth');
  END LOOP;
END $$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rahat_core') THEN
    CREATE ROLE "rahat_core" LOGIN;
  END IF;
END $$;
GRANT CONNECT ON DATABASE "rahat" TO "rahat_core";
CREATE SCHEMA IF NOT EXISTS "core" AUTHORIZATION "rahat_core";
ALTER SCHEMA "core" OWNER TO "rahat_core";
DO $$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'core' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I',
      CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
      'core', item.relname, 'rahat_core');
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS signature FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'core'
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.signature, 'rahat_core');
  END LOOP;
  FOR item IN
    SELECT t.typname FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'core' AND t.typtype IN ('e', 'd')
  LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', 'core', item.typname, 'rahat_core');
  END LOOP;
END $$;
CREATE SCHEMA IF NOT EXISTS "messaging" AUTHORIZATION "rahat_core";
ALTER SCHEMA "messaging" OWNER TO "rahat_core";
DO $$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'messaging' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I',
      CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
      'messaging', item.relname, 'rahat_core');
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS signature FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'messaging'
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.signature, 'rahat_core');
  END LOOP;
  FOR item IN
    SELECT t.typname FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'messaging' AND t.typtype IN ('e', 'd')
  LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', 'messaging', item.typname, 'rahat_core');
  END LOOP;
END $$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rahat_ledger') THEN
    CREATE ROLE "rahat_ledger" LOGIN;
  END IF;
END $$;
GRANT CONNECT ON DATABASE "rahat" TO "rahat_ledger";
CREATE SCHEMA IF NOT EXISTS "ledger" AUTHORIZATION "rahat_ledger";
ALTER SCHEMA "ledger" OWNER TO "rahat_ledger";
DO $$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'ledger' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I',
      CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
      'ledger', item.relname, 'rahat_ledger');
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS signature FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'ledger'
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.signature, 'rahat_ledger');
  END LOOP;
  FOR item IN
    SELECT t.typname FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'ledger' AND t.typtype IN ('e', 'd')
  LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', 'ledger', item.typname, 'rahat_ledger');
  END LOOP;
END $$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rahat_c2c') THEN
    CREATE ROLE "rahat_c2c" LOGIN;
  END IF;
END $$;
GRANT CONNECT ON DATABASE "rahat" TO "rahat_c2c";
CREATE SCHEMA IF NOT EXISTS "c2c" AUTHORIZATION "rahat_c2c";
ALTER SCHEMA "c2c" OWNER TO "rahat_c2c";
DO $$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'c2c' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I',
      CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
      'c2c', item.relname, 'rahat_c2c');
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS signature FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'c2c'
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.signature, 'rahat_c2c');
  END LOOP;
  FOR item IN
    SELECT t.typname FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'c2c' AND t.typtype IN ('e', 'd')
  LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', 'c2c', item.typname, 'rahat_c2c');
  END LOOP;
END $$;
