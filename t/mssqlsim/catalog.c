/*
 * catalog.c: the metadata of mssqlsim and the DDL that changes it.
 *
 * Every database file holds, beside its user tables "schema.table",
 * metadata tables named sim_*: schemas, objects (object_id never
 * reused), columns (column_id never reused after DROP COLUMN, so gaps
 * appear as in SQL Server), indexes and their columns, permissions,
 * database principals and role members, and sim_meta counters (next
 * object_id, the database-wide rowversion counter behind @@DBTS).
 * master also holds the logins and the list of databases with their
 * options (snapshot isolation, read committed snapshot).
 *
 * Catalog views (sys.*, INFORMATION_SCHEMA.*) are TEMP views created on
 * each connection over those tables; their column types are declared
 * here once, so that the compiler sees them as tables with typed
 * columns and COLMETADATA describes them as SQL Server does.  The views
 * keep values in the canonical stored forms of sim.h.
 *
 * DDL runs inside the session's write transaction like DML (statement
 * savepoint), so a CREATE TABLE inside BEGIN TRAN rolls back with it.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

#define COLLATION_NAME "SQL_Latin1_General_CP1_CI_AS"

static const char *catalog_schema_sql =
    "CREATE TABLE IF NOT EXISTS sim_meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS sim_schemas(schema_id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE COLLATE NOCASE, principal_id INTEGER);"
    "CREATE TABLE IF NOT EXISTS sim_objects(object_id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL COLLATE NOCASE, schema_id INTEGER NOT NULL,"
    " type TEXT NOT NULL, parent_object_id INTEGER NOT NULL DEFAULT 0,"
    " create_date TEXT, modify_date TEXT, next_column_id INTEGER DEFAULT 1,"
    " ident_seed INTEGER, ident_incr INTEGER, ident_last INTEGER);"
    "CREATE TABLE IF NOT EXISTS sim_columns(object_id INTEGER, column_id"
    " INTEGER, name TEXT COLLATE NOCASE, type TEXT, system_type_id INTEGER,"
    " max_length INTEGER, precision INTEGER, scale INTEGER, is_nullable"
    " INTEGER, is_identity INTEGER, is_computed INTEGER, is_rowversion"
    " INTEGER, definition TEXT, is_persisted INTEGER, default_def TEXT,"
    " default_object_id INTEGER DEFAULT 0, PRIMARY KEY(object_id,"
    " column_id));"
    "CREATE TABLE IF NOT EXISTS sim_indexes(object_id INTEGER, index_id"
    " INTEGER, name TEXT COLLATE NOCASE, type INTEGER, is_unique INTEGER,"
    " is_primary_key INTEGER, is_unique_constraint INTEGER,"
    " constraint_id INTEGER, PRIMARY KEY(object_id, index_id));"
    "CREATE TABLE IF NOT EXISTS sim_index_columns(object_id INTEGER,"
    " index_id INTEGER, index_column_id INTEGER, column_id INTEGER,"
    " key_ordinal INTEGER, is_descending_key INTEGER, is_included INTEGER);"
    "CREATE TABLE IF NOT EXISTS sim_perms(class INTEGER, major_id INTEGER,"
    " grantee TEXT COLLATE NOCASE, permission TEXT COLLATE NOCASE,"
    " state TEXT);"
    "CREATE TABLE IF NOT EXISTS sim_principals(principal_id INTEGER PRIMARY"
    " KEY, name TEXT UNIQUE COLLATE NOCASE, type TEXT, login_name TEXT"
    " COLLATE NOCASE, default_schema TEXT, create_date TEXT);"
    "CREATE TABLE IF NOT EXISTS sim_role_members(role TEXT COLLATE NOCASE,"
    " member TEXT COLLATE NOCASE);"
    "CREATE TABLE IF NOT EXISTS sim_checks(object_id INTEGER PRIMARY KEY,"
    " definition TEXT, column_id INTEGER);"
    /* views (view.c): the text of CREATE VIEW */
    "CREATE TABLE IF NOT EXISTS sim_modules(object_id INTEGER PRIMARY KEY,"
    " definition TEXT);"
    /* FOREIGN KEY constraints (fk.c): actions 0 NO ACTION .. 3 SET DEFAULT */
    "CREATE TABLE IF NOT EXISTS sim_fks(object_id INTEGER PRIMARY KEY,"
    " parent_object_id INTEGER, referenced_object_id INTEGER, key_index_id"
    " INTEGER, delete_action INTEGER, update_action INTEGER, is_disabled"
    " INTEGER, is_not_trusted INTEGER, is_system_named INTEGER);"
    "CREATE TABLE IF NOT EXISTS sim_fk_columns(constraint_object_id INTEGER,"
    " constraint_column_id INTEGER, parent_object_id INTEGER,"
    " parent_column_id INTEGER, referenced_object_id INTEGER,"
    " referenced_column_id INTEGER);"
    /* Change Tracking (ct.c): the database's settings, tracked tables
     * and the commit time of every version */
    "CREATE TABLE IF NOT EXISTS sim_ct_db(id INTEGER PRIMARY KEY,"
    " enabled INTEGER, retention INTEGER, units INTEGER,"
    " auto_cleanup INTEGER);"
    "CREATE TABLE IF NOT EXISTS sim_ct_tables(object_id INTEGER PRIMARY"
    " KEY, track_columns INTEGER, begin_version INTEGER, cleanup_version"
    " INTEGER, min_valid_version INTEGER);"
    "CREATE TABLE IF NOT EXISTS sim_ct_versions(ver INTEGER PRIMARY KEY,"
    " commit_time REAL);"
    /* CDC (cdc.c): the log the capture job scans, its scan sessions */
    "CREATE TABLE IF NOT EXISTS sim_cdc_log(id INTEGER PRIMARY KEY,"
    " lsn BLOB, seqval BLOB, cmd INTEGER, op INTEGER, object_id INTEGER,"
    " tran_id BLOB, begin_lsn BLOB, tran_time TEXT, img BLOB);"
    "CREATE TABLE IF NOT EXISTS sim_cdc_scans(session_id INTEGER PRIMARY"
    " KEY, start_time TEXT, end_time TEXT, duration INTEGER, scan_phase"
    " TEXT, error_count INTEGER, start_lsn TEXT, current_lsn TEXT, end_lsn"
    " TEXT, tran_count INTEGER, last_commit_lsn TEXT, last_commit_time"
    " TEXT, log_record_count INTEGER, schema_change_count INTEGER,"
    " command_count INTEGER, first_begin_cdc_lsn TEXT, last_commit_cdc_lsn"
    " TEXT, last_commit_cdc_time TEXT, latency INTEGER, empty_scan_count"
    " INTEGER, failed_sessions_count INTEGER);"
    "INSERT OR IGNORE INTO sim_schemas VALUES (1, 'dbo', 1), (2, 'guest', 2),"
    " (3, 'INFORMATION_SCHEMA', 3), (4, 'sys', 4),"
    " (16384, 'db_owner', 16384);"
    "INSERT OR IGNORE INTO sim_principals VALUES"
    " (0, 'public', 'R', NULL, NULL, '2003-04-08 09:10:42.287'),"
    " (1, 'dbo', 'S', 'sa', 'dbo', '2003-04-08 09:10:42.287'),"
    " (2, 'guest', 'S', NULL, 'guest', '2003-04-08 09:10:42.287'),"
    " (3, 'INFORMATION_SCHEMA', 'S', NULL, NULL, '2009-04-13 12:59:11.093'),"
    " (4, 'sys', 'S', NULL, NULL, '2009-04-13 12:59:11.093'),"
    " (16384, 'db_owner', 'R', NULL, NULL, '2003-04-08 09:10:42.317');"
    "INSERT OR IGNORE INTO sim_meta VALUES ('next_object_id', 885578193),"
    " ('dbts', 2000), ('next_principal_id', 5);";

static const char *catalog_master_sql =
    "CREATE TABLE IF NOT EXISTS sim_logins(name TEXT PRIMARY KEY COLLATE"
    " NOCASE, password TEXT, default_db TEXT, principal_id INTEGER,"
    " create_date TEXT);"
    "CREATE TABLE IF NOT EXISTS sim_databases(database_id INTEGER PRIMARY"
    " KEY, name TEXT UNIQUE COLLATE NOCASE, create_date TEXT,"
    " allow_snapshot INTEGER DEFAULT 0, rcsi INTEGER DEFAULT 0,"
    " compat INTEGER DEFAULT 150);"
    "CREATE TABLE IF NOT EXISTS sim_ct_databases(name TEXT PRIMARY KEY"
    " COLLATE NOCASE, database_id INTEGER, auto_cleanup INTEGER,"
    " retention INTEGER, units INTEGER);" /* ct.c */
    "INSERT OR IGNORE INTO sim_databases(database_id, name, create_date)"
    " VALUES (1, 'master', '2003-04-08 09:13:36.390'),"
    " (2, 'tempdb', '2003-04-08 09:13:36.390'),"
    " (3, 'model', '2003-04-08 09:13:36.390'),"
    " (4, 'msdb', '2003-04-08 09:13:36.390');";

/* A catalog view: its columns (name and type) and its SELECT. */
struct catview {
	const char *schema;
	const char *name;
	const char *cols; /* "name type;name type;..." */
	const char *sql; /* $M = schema of master's tables */
};

#define DTNOW "strftime('%Y-%m-%d %H:%M:%f', 'now')"
#define BASECOLS \
	"name nvarchar(128);object_id int;principal_id int;schema_id int;" \
	"parent_object_id int;type char(2);type_desc nvarchar(60);" \
	"create_date datetime;modify_date datetime;is_ms_shipped bit;" \
	"is_published bit;is_schema_published bit"
#define BASESQL \
	"o.name, o.object_id, NULL, o.schema_id, o.parent_object_id, " \
	"substr(o.type || ' ', 1, 2), CASE o.type WHEN 'U' THEN " \
	"'USER_TABLE' WHEN 'PK' THEN 'PRIMARY_KEY_CONSTRAINT' WHEN 'UQ' " \
	"THEN 'UNIQUE_CONSTRAINT' WHEN 'D' THEN 'DEFAULT_CONSTRAINT' WHEN " \
	"'C' THEN 'CHECK_CONSTRAINT' WHEN 'F' THEN " \
	"'FOREIGN_KEY_CONSTRAINT' WHEN 'V' THEN 'VIEW' ELSE " \
	"'USER_TABLE' END, o.create_date, o.modify_date, " \
	"sim_cdc_ms_shipped(o.schema_id, o.name), 0, 0"

static const struct catview catalog_views[] = {
	{ "sys", "schemas", "name nvarchar(128);schema_id int;principal_id int",
	    "SELECT name, schema_id, principal_id FROM main.sim_schemas" },
	{ "sys", "objects", BASECOLS,
	    "SELECT " BASESQL " FROM main.sim_objects o" },
	{ "sys", "tables",
	    BASECOLS
	    ";lob_data_space_id int;filestream_data_space_id int;"
	    "max_column_id_used int;lock_on_bulk_load bit;uses_ansi_nulls bit;"
	    "is_replicated bit;has_replication_filter bit;is_merge_published "
	    "bit;is_sync_tran_subscribed bit;has_unchecked_assembly_data bit;"
	    "text_in_row_limit int;large_value_types_out_of_row bit;"
	    "is_tracked_by_cdc bit;lock_escalation tinyint;"
	    "lock_escalation_desc nvarchar(60);is_filetable bit;"
	    "is_memory_optimized bit;durability tinyint;durability_desc "
	    "nvarchar(60);temporal_type tinyint;temporal_type_desc "
	    "nvarchar(60);history_table_id int;is_remote_data_archive_enabled "
	    "bit;is_external bit",
	    "SELECT " BASESQL ", 0, NULL, o.next_column_id - 1, 0, 1, 0, 0, 0, "
	    "0, 0, 0, 0, sim_cdc_tracked(o.object_id), 0, 'TABLE', 0, 0, 0, "
	    "'SCHEMA_AND_DATA', 0, "
	    "'NON_TEMPORAL_TABLE', NULL, 0, 0 FROM main.sim_objects o "
	    "WHERE o.type = 'U'" },
	{ "sys", "columns",
	    "object_id int;name nvarchar(128);column_id int;system_type_id "
	    "tinyint;user_type_id int;max_length smallint;precision tinyint;"
	    "scale tinyint;collation_name nvarchar(128);is_nullable bit;"
	    "is_ansi_padded bit;is_rowguidcol bit;is_identity bit;is_computed "
	    "bit;is_filestream bit;is_replicated bit;is_non_sql_subscribed bit;"
	    "is_merge_published bit;is_dts_replicated bit;is_xml_document bit;"
	    "xml_collection_id int;default_object_id int;rule_object_id int;"
	    "is_sparse bit;is_column_set bit;generated_always_type tinyint;"
	    "generated_always_type_desc nvarchar(60);is_hidden bit;is_masked "
	    "bit",
	    "SELECT c.object_id, c.name, c.column_id, c.system_type_id, "
	    "c.system_type_id, c.max_length, c.precision, c.scale, CASE WHEN "
	    "c.system_type_id IN (35, 99, 167, 175, 231, 239) THEN "
	    "'" COLLATION_NAME
	    "' END, c.is_nullable, CASE WHEN c.system_type_id "
	    "IN (167, 175, 231, 239, 165, 173) THEN 1 ELSE 0 END, 0, "
	    "c.is_identity, c.is_computed, 0, 0, 0, 0, 0, 0, 0, "
	    "c.default_object_id, 0, 0, 0, 0, 'NOT_APPLICABLE', 0, 0 "
	    "FROM main.sim_columns c" },
	{ "sys", "indexes",
	    "object_id int;name nvarchar(128);index_id int;type tinyint;"
	    "type_desc nvarchar(60);is_unique bit;data_space_id int;"
	    "ignore_dup_key bit;is_primary_key bit;is_unique_constraint bit;"
	    "fill_factor tinyint;is_padded bit;is_disabled bit;"
	    "is_hypothetical bit;allow_row_locks bit;allow_page_locks bit;"
	    "has_filter bit;filter_definition nvarchar(max)",
	    "SELECT object_id, name, index_id, type, CASE type WHEN 0 THEN "
	    "'HEAP' WHEN 1 THEN 'CLUSTERED' ELSE 'NONCLUSTERED' END, "
	    "is_unique, 1, 0, is_primary_key, is_unique_constraint, 0, 0, 0, "
	    "0, 1, 1, 0, NULL FROM main.sim_indexes" },
	{ "sys", "index_columns",
	    "object_id int;index_id int;index_column_id int;column_id int;"
	    "key_ordinal tinyint;partition_ordinal tinyint;is_descending_key "
	    "bit;is_included_column bit",
	    "SELECT object_id, index_id, index_column_id, column_id, "
	    "key_ordinal, 0, is_descending_key, is_included FROM "
	    "main.sim_index_columns" },
	{ "sys", "identity_columns",
	    "object_id int;name nvarchar(128);column_id int;system_type_id "
	    "tinyint;seed_value sql_variant;increment_value sql_variant;"
	    "last_value sql_variant;is_not_for_replication bit",
	    "SELECT c.object_id, c.name, c.column_id, c.system_type_id, "
	    "o.ident_seed, o.ident_incr, o.ident_last, 0 FROM main.sim_columns "
	    "c JOIN main.sim_objects o USING (object_id) WHERE c.is_identity = "
	    "1" },
	{ "sys", "computed_columns",
	    "object_id int;name nvarchar(128);column_id int;system_type_id "
	    "tinyint;definition nvarchar(max);is_persisted bit",
	    "SELECT object_id, name, column_id, system_type_id, definition, "
	    "is_persisted FROM main.sim_columns WHERE is_computed = 1" },
	{ "sys", "check_constraints",
	    BASECOLS
	    ";is_disabled bit;is_not_for_replication bit;"
	    "is_not_trusted bit;parent_column_id int;definition "
	    "nvarchar(max);uses_database_collation bit;is_system_named bit",
	    "SELECT " BASESQL ", 0, 0, 0, c.column_id, c.definition, 1, 0 FROM "
	    "main.sim_objects o JOIN main.sim_checks c USING (object_id) WHERE "
	    "o.type = 'C'" },
	{ "sys", "key_constraints",
	    BASECOLS ";unique_index_id int;is_system_named bit;"
		     "is_enforced bit",
	    "SELECT " BASESQL ", i.index_id, 0, 1 FROM main.sim_objects o JOIN "
	    "main.sim_indexes i ON i.constraint_id = o.object_id WHERE o.type "
	    "IN ('PK', 'UQ')" },
	{ "sys", "foreign_keys", /* fk.c */
	    BASECOLS ";referenced_object_id int;key_index_id int;is_disabled "
		     "bit;is_not_for_replication bit;is_not_trusted bit;"
		     "delete_referential_action tinyint;"
		     "delete_referential_action_desc nvarchar(60);"
		     "update_referential_action tinyint;"
		     "update_referential_action_desc nvarchar(60);"
		     "is_system_named bit",
	    "SELECT " BASESQL ", f.referenced_object_id, f.key_index_id, "
	    "f.is_disabled, 0, f.is_not_trusted, f.delete_action, CASE "
	    "f.delete_action WHEN 1 THEN 'CASCADE' WHEN 2 THEN 'SET_NULL' "
	    "WHEN 3 THEN 'SET_DEFAULT' ELSE 'NO_ACTION' END, f.update_action, "
	    "CASE f.update_action WHEN 1 THEN 'CASCADE' WHEN 2 THEN "
	    "'SET_NULL' WHEN 3 THEN 'SET_DEFAULT' ELSE 'NO_ACTION' END, "
	    "f.is_system_named FROM main.sim_objects o JOIN main.sim_fks f "
	    "USING (object_id)" },
	{ "sys", "foreign_key_columns",
	    "constraint_object_id int;constraint_column_id int;"
	    "parent_object_id int;parent_column_id int;referenced_object_id "
	    "int;referenced_column_id int",
	    "SELECT * FROM main.sim_fk_columns" },
	{ "INFORMATION_SCHEMA", "REFERENTIAL_CONSTRAINTS",
	    "CONSTRAINT_CATALOG nvarchar(128);CONSTRAINT_SCHEMA nvarchar(128);"
	    "CONSTRAINT_NAME nvarchar(128);UNIQUE_CONSTRAINT_CATALOG "
	    "nvarchar(128);UNIQUE_CONSTRAINT_SCHEMA nvarchar(128);"
	    "UNIQUE_CONSTRAINT_NAME nvarchar(128);MATCH_OPTION varchar(7);"
	    "UPDATE_RULE varchar(11);DELETE_RULE varchar(11)",
	    "SELECT sim_db_name(), s.name, o.name, sim_db_name(), rs.name, "
	    "i.name, 'SIMPLE', CASE f.update_action WHEN 1 THEN 'CASCADE' "
	    "WHEN 2 THEN 'SET NULL' WHEN 3 THEN 'SET DEFAULT' ELSE 'NO "
	    "ACTION' END, CASE f.delete_action WHEN 1 THEN 'CASCADE' WHEN 2 "
	    "THEN 'SET NULL' WHEN 3 THEN 'SET DEFAULT' ELSE 'NO ACTION' END "
	    "FROM main.sim_fks f JOIN main.sim_objects o USING (object_id) "
	    "JOIN main.sim_schemas s ON s.schema_id = o.schema_id JOIN "
	    "main.sim_objects r ON r.object_id = f.referenced_object_id JOIN "
	    "main.sim_schemas rs ON rs.schema_id = r.schema_id JOIN "
	    "main.sim_indexes i ON i.object_id = f.referenced_object_id AND "
	    "i.index_id = f.key_index_id" },
	{ "sys", "partitions",
	    "partition_id bigint;object_id int;index_id int;partition_number "
	    "int;hobt_id bigint;rows bigint;filestream_filegroup_id smallint;"
	    "data_compression tinyint;data_compression_desc nvarchar(60)",
	    "SELECT 72057594000000000 + object_id % 1000000 * 100 + index_id, "
	    "object_id, index_id, 1, 72057594000000000 + object_id % 1000000 * "
	    "100 + index_id, sim_rowcount(object_id), 0, 0, 'NONE' FROM "
	    "main.sim_indexes WHERE index_id < 2 OR type = 2" },
	{ "sys", "databases",
	    "name nvarchar(128);database_id int;source_database_id int;"
	    "owner_sid varbinary(85);create_date datetime;compatibility_level "
	    "tinyint;collation_name nvarchar(128);user_access tinyint;"
	    "user_access_desc nvarchar(60);is_read_only bit;is_auto_close_on "
	    "bit;is_auto_shrink_on bit;state tinyint;state_desc nvarchar(60);"
	    "is_in_standby bit;is_cleanly_shutdown "
	    "bit;snapshot_isolation_state "
	    "tinyint;snapshot_isolation_state_desc nvarchar(60);"
	    "is_read_committed_snapshot_on bit;recovery_model tinyint;"
	    "recovery_model_desc nvarchar(60);is_cdc_enabled bit;"
	    "is_encrypted bit;is_broker_enabled bit;"
	    "is_change_feed_enabled bit",
	    "SELECT name, database_id, NULL, X'01', create_date, compat, "
	    "'" COLLATION_NAME
	    "', 0, 'MULTI_USER', 0, 0, 0, 0, 'ONLINE', 0, 0, "
	    "allow_snapshot, CASE allow_snapshot WHEN 1 THEN 'ON' ELSE 'OFF' "
	    "END, rcsi, 3, 'SIMPLE', sim_cdc_db_enabled(name), 0, 0, 0 FROM "
	    "$M.sim_databases" },
	{ "sys", "server_principals",
	    "name nvarchar(128);principal_id int;sid varbinary(85);type "
	    "char(1);type_desc nvarchar(60);is_disabled int;create_date "
	    "datetime;modify_date datetime;default_database_name "
	    "nvarchar(128);default_language_name nvarchar(128)",
	    "SELECT 'sa', 1, X'01', 'S', 'SQL_LOGIN', 0, "
	    "'2003-04-08 09:10:35.460', '2003-04-08 09:10:35.460', 'master', "
	    "'us_english' UNION ALL SELECT 'sysadmin', 3, X'03', 'R', "
	    "'SERVER_ROLE', 0, '2009-04-13 12:59:06.910', "
	    "'2009-04-13 12:59:06.910', NULL, NULL UNION ALL SELECT name, "
	    "principal_id, NULL, 'S', 'SQL_LOGIN', 0, create_date, "
	    "create_date, ifnull(default_db, 'master'), 'us_english' FROM "
	    "$M.sim_logins" },
	{ "sys", "database_principals",
	    "name nvarchar(128);principal_id int;type char(1);type_desc "
	    "nvarchar(60);default_schema_name nvarchar(128);create_date "
	    "datetime;modify_date datetime;owning_principal_id int;sid "
	    "varbinary(85);is_fixed_role bit;authentication_type int;"
	    "authentication_type_desc nvarchar(60)",
	    "SELECT name, principal_id, type, CASE type WHEN 'R' THEN "
	    "'DATABASE_ROLE' ELSE 'SQL_USER' END, default_schema, create_date, "
	    "create_date, CASE type WHEN 'R' THEN 1 END, NULL, CASE WHEN "
	    "principal_id >= 16384 THEN 1 ELSE 0 END, CASE WHEN login_name IS "
	    "NULL THEN 0 ELSE 1 END, CASE WHEN login_name IS NULL THEN 'NONE' "
	    "ELSE 'INSTANCE' END FROM main.sim_principals" },
	{ "sys", "types",
	    "name nvarchar(128);system_type_id tinyint;user_type_id int;"
	    "schema_id int;principal_id int;max_length smallint;precision "
	    "tinyint;scale tinyint;collation_name nvarchar(128);is_nullable "
	    "bit;is_user_defined bit;is_assembly_type bit;default_object_id "
	    "int;rule_object_id int;is_table_type bit",
	    "SELECT column1, column2, column3, 4, NULL, column4, column5, "
	    "column6, CASE WHEN column2 IN (35, 99, 167, 175, 231, 239) THEN "
	    "'" COLLATION_NAME "' END, 1, 0, 0, 0, 0, 0 FROM (VALUES "
	    "('image', 34, 34, 16, 0, 0), ('text', 35, 35, 16, 0, 0), "
	    "('uniqueidentifier', 36, 36, 16, 0, 0), ('date', 40, 40, 3, 10, "
	    "0), ('time', 41, 41, 5, 16, 7), ('datetime2', 42, 42, 8, 27, 7), "
	    "('datetimeoffset', 43, 43, 10, 34, 7), ('tinyint', 48, 48, 1, 3, "
	    "0), ('smallint', 52, 52, 2, 5, 0), ('int', 56, 56, 4, 10, 0), "
	    "('smalldatetime', 58, 58, 4, 16, 0), ('real', 59, 59, 4, 24, 0), "
	    "('money', 60, 60, 8, 19, 4), ('datetime', 61, 61, 8, 23, 3), "
	    "('float', 62, 62, 8, 53, 0), ('sql_variant', 98, 98, 8016, 0, 0), "
	    "('ntext', 99, 99, 16, 0, 0), ('bit', 104, 104, 1, 1, 0), "
	    "('decimal', 106, 106, 17, 38, 38), ('numeric', 108, 108, 17, 38, "
	    "38), ('smallmoney', 122, 122, 4, 10, 4), ('bigint', 127, 127, 8, "
	    "19, 0), ('varbinary', 165, 165, 8000, 0, 0), ('varchar', 167, "
	    "167, 8000, 0, 0), ('binary', 173, 173, 8000, 0, 0), ('char', 175, "
	    "175, 8000, 0, 0), ('timestamp', 189, 189, 8, 0, 0), ('nvarchar', "
	    "231, 231, 8000, 0, 0), ('nchar', 239, 239, 8000, 0, 0), ('xml', "
	    "241, 241, -1, 0, 0), ('sysname', 231, 256, 256, 0, 0))" },
	{ "INFORMATION_SCHEMA", "SCHEMATA",
	    "CATALOG_NAME nvarchar(128);SCHEMA_NAME nvarchar(128);SCHEMA_OWNER "
	    "nvarchar(128)",
	    "SELECT sim_db_name(), name, 'dbo' FROM main.sim_schemas" },
	{ "INFORMATION_SCHEMA", "TABLES",
	    "TABLE_CATALOG nvarchar(128);TABLE_SCHEMA nvarchar(128);TABLE_NAME "
	    "nvarchar(128);TABLE_TYPE varchar(10)",
	    "SELECT sim_db_name(), s.name, o.name, CASE o.type WHEN 'V' THEN "
	    "'VIEW' ELSE 'BASE TABLE' END FROM main.sim_objects o JOIN "
	    "main.sim_schemas s USING (schema_id) WHERE o.type IN ('U', 'V')" },
	{ "INFORMATION_SCHEMA", "VIEWS", /* view.c */
	    "TABLE_CATALOG nvarchar(128);TABLE_SCHEMA nvarchar(128);TABLE_NAME "
	    "nvarchar(128);VIEW_DEFINITION nvarchar(4000);CHECK_OPTION "
	    "varchar(7);IS_UPDATABLE varchar(2)",
	    "SELECT sim_db_name(), s.name, o.name, substr(m.definition, 1, "
	    "4000), 'NONE', 'NO' FROM main.sim_objects o JOIN main.sim_schemas "
	    "s USING (schema_id) JOIN main.sim_modules m USING (object_id) "
	    "WHERE o.type = 'V'" },
	{ "sys", "views",
	    BASECOLS ";is_replicated bit;has_replication_filter bit;"
		     "has_opaque_metadata bit;has_unchecked_assembly_data bit;"
		     "with_check_option bit;is_date_correlation_view bit;"
		     "is_tracked_by_cdc bit",
	    "SELECT " BASESQL ", 0, 0, 0, 0, 0, 0, 0 FROM main.sim_objects o "
	    "WHERE o.type = 'V'" },
	{ "sys", "sql_modules",
	    "object_id int;definition nvarchar(max);uses_ansi_nulls bit;"
	    "uses_quoted_identifier bit;is_schema_bound bit;"
	    "uses_database_collation bit;is_recompiled bit;null_on_null_input "
	    "bit;execute_as_principal_id int;uses_native_compilation bit",
	    "SELECT object_id, definition, 1, 1, 0, 1, 0, 0, NULL, 0 FROM "
	    "main.sim_modules" },
	{ "INFORMATION_SCHEMA", "COLUMNS",
	    "TABLE_CATALOG nvarchar(128);TABLE_SCHEMA nvarchar(128);TABLE_NAME "
	    "nvarchar(128);COLUMN_NAME nvarchar(128);ORDINAL_POSITION int;"
	    "COLUMN_DEFAULT nvarchar(4000);IS_NULLABLE varchar(3);DATA_TYPE "
	    "nvarchar(128);CHARACTER_MAXIMUM_LENGTH int;"
	    "CHARACTER_OCTET_LENGTH int;NUMERIC_PRECISION tinyint;"
	    "NUMERIC_PRECISION_RADIX smallint;NUMERIC_SCALE int;"
	    "DATETIME_PRECISION smallint;CHARACTER_SET_CATALOG nvarchar(128);"
	    "CHARACTER_SET_SCHEMA nvarchar(128);CHARACTER_SET_NAME "
	    "nvarchar(128);COLLATION_CATALOG nvarchar(128);COLLATION_SCHEMA "
	    "nvarchar(128);COLLATION_NAME nvarchar(128);DOMAIN_CATALOG "
	    "nvarchar(128);DOMAIN_SCHEMA nvarchar(128);DOMAIN_NAME "
	    "nvarchar(128)",
	    "SELECT sim_db_name(), s.name, o.name, c.name, c.column_id, "
	    "CASE WHEN c.default_def IS NOT NULL THEN '(' || c.default_def || "
	    "')' END, CASE c.is_nullable WHEN 1 THEN 'YES' ELSE 'NO' END, "
	    "sim_type_name(c.system_type_id), CASE WHEN c.system_type_id IN "
	    "(167, 175, 165, 173) THEN c.max_length WHEN c.system_type_id IN "
	    "(231, 239) THEN CASE WHEN c.max_length < 0 THEN -1 ELSE "
	    "c.max_length / 2 END WHEN c.system_type_id IN (35, 34) THEN "
	    "2147483647 WHEN c.system_type_id = 99 THEN 1073741823 END, CASE "
	    "WHEN c.system_type_id IN (167, 175, 165, 173, 231, 239) THEN "
	    "c.max_length WHEN c.system_type_id IN (35, 34, 99) THEN "
	    "2147483647 END, CASE WHEN c.system_type_id IN (48, 52, 56, 127, "
	    "59, 62, 60, 122, 106, 108) THEN c.precision END, CASE WHEN "
	    "c.system_type_id IN (48, 52, 56, 127, 60, 122, 106, 108) THEN 10 "
	    "WHEN c.system_type_id IN (59, 62) THEN 2 END, CASE WHEN "
	    "c.system_type_id IN (48, 52, 56, 127, 60, 122, 106, 108) THEN "
	    "c.scale END, CASE WHEN c.system_type_id IN (40, 41, 42, 43, 58, "
	    "61) THEN c.scale END, NULL, NULL, CASE WHEN c.system_type_id IN "
	    "(35, 167, 175) THEN 'iso_1' WHEN c.system_type_id IN (99, 231, "
	    "239) THEN 'UNICODE' END, NULL, NULL, CASE WHEN c.system_type_id "
	    "IN (35, 99, 167, 175, 231, 239) THEN '" COLLATION_NAME "' END, "
	    "NULL, NULL, NULL FROM main.sim_columns c JOIN main.sim_objects o "
	    "USING (object_id) JOIN main.sim_schemas s ON s.schema_id = "
	    "o.schema_id WHERE o.type IN ('U', 'V')" },
	{ "INFORMATION_SCHEMA", "TABLE_CONSTRAINTS",
	    "CONSTRAINT_CATALOG nvarchar(128);CONSTRAINT_SCHEMA nvarchar(128);"
	    "CONSTRAINT_NAME nvarchar(128);TABLE_CATALOG nvarchar(128);"
	    "TABLE_SCHEMA nvarchar(128);TABLE_NAME nvarchar(128);"
	    "CONSTRAINT_TYPE varchar(11);IS_DEFERRABLE varchar(2);"
	    "INITIALLY_DEFERRED varchar(2)",
	    "SELECT sim_db_name(), s.name, k.name, sim_db_name(), s.name, "
	    "t.name, CASE k.type WHEN 'PK' THEN 'PRIMARY KEY' WHEN 'C' THEN "
	    "'CHECK' WHEN 'F' THEN 'FOREIGN KEY' ELSE 'UNIQUE' END, 'NO', "
	    "'NO' FROM main.sim_objects k JOIN main.sim_objects t ON "
	    "t.object_id = k.parent_object_id JOIN main.sim_schemas s ON "
	    "s.schema_id = k.schema_id WHERE k.type IN ('PK', 'UQ', 'C', "
	    "'F')" },
	{ "INFORMATION_SCHEMA", "KEY_COLUMN_USAGE",
	    "CONSTRAINT_CATALOG nvarchar(128);CONSTRAINT_SCHEMA nvarchar(128);"
	    "CONSTRAINT_NAME nvarchar(128);TABLE_CATALOG nvarchar(128);"
	    "TABLE_SCHEMA nvarchar(128);TABLE_NAME nvarchar(128);COLUMN_NAME "
	    "nvarchar(128);ORDINAL_POSITION int",
	    "SELECT sim_db_name(), s.name, k.name, sim_db_name(), s.name, "
	    "t.name, c.name, ic.key_ordinal FROM main.sim_objects k JOIN "
	    "main.sim_indexes i ON i.constraint_id = k.object_id JOIN "
	    "main.sim_index_columns ic ON ic.object_id = i.object_id AND "
	    "ic.index_id = i.index_id JOIN main.sim_columns c ON c.object_id "
	    "= ic.object_id AND c.column_id = ic.column_id JOIN "
	    "main.sim_objects t ON t.object_id = k.parent_object_id JOIN "
	    "main.sim_schemas s ON s.schema_id = k.schema_id WHERE k.type IN "
	    "('PK', 'UQ')" },
	{ "sys", "change_tracking_tables",
	    "object_id int;is_track_columns_updated_on bit;"
	    "min_valid_version bigint;begin_version bigint;cleanup_version "
	    "bigint",
	    "SELECT object_id, track_columns, min_valid_version, "
	    "begin_version, cleanup_version FROM main.sim_ct_tables" },
	{ "sys", "change_tracking_databases",
	    "database_id int;is_auto_cleanup_on bit;retention_period int;"
	    "retention_period_units tinyint;retention_period_units_desc "
	    "nvarchar(60)",
	    "SELECT database_id, auto_cleanup, retention, units, CASE units "
	    "WHEN 1 THEN 'MINUTES' WHEN 2 THEN 'HOURS' ELSE 'DAYS' END FROM "
	    "$M.sim_ct_databases" },
	{ "sys", "dm_cdc_log_scan_sessions", /* cdc.c */
	    "session_id int;start_time datetime;end_time datetime;duration "
	    "int;scan_phase nvarchar(200);error_count int;start_lsn "
	    "nvarchar(23);current_lsn nvarchar(23);end_lsn nvarchar(23);"
	    "tran_count bigint;last_commit_lsn nvarchar(23);last_commit_time "
	    "datetime;log_record_count int;schema_change_count int;"
	    "command_count int;first_begin_cdc_lsn nvarchar(23);"
	    "last_commit_cdc_lsn nvarchar(23);last_commit_cdc_time datetime;"
	    "latency int;empty_scan_count int;failed_sessions_count int",
	    "SELECT * FROM main.sim_cdc_scans" },
	{ NULL, NULL, NULL, NULL }
};

/* Run SQL with no results. */
static int
catalog_exec(sqlite3 *db, const char *sql, struct sim_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return (0);
	if (sim_error_from_sqlite(msg, err) == -1)
		sim_error_set(
		    err, 50000, 16, 1, "mssqlsim catalog: %s", msg ? msg : "?");
	sqlite3_free(msg);
	return (-1);
}

/* The metadata tables of #temp tables, in the connection's TEMP db. */
int
catalog_init_temp(sqlite3 *db, struct sim_error *err)
{
	struct sbuf b;
	const char *q = catalog_schema_sql;
	int rc;

	sbuf_init(&b);
	while (*q != '\0') {
		if (strncmp(q, "CREATE TABLE ", 13) == 0) {
			sbuf_add(&b, "CREATE TEMP TABLE ", 18);
			q += 13;
		} else if (strncmp(q, "INSERT OR IGNORE INTO ", 22) == 0) {
			sbuf_add(&b, "INSERT OR IGNORE INTO temp.", 27);
			q += 22;
		} else
			sbuf_add(&b, q++, 1);
	}
	sbuf_add(&b, "", 1);
	rc = catalog_exec(db, (char *)b.data, err);
	sbuf_free(&b);
	return (rc);
}

/* Create the metadata tables of a database file. */
int
catalog_init_db(sqlite3 *db, int dbid, struct sim_error *err)
{
	(void)dbid;
	return (catalog_exec(db, catalog_schema_sql, err));
}

/* Create master's server-wide tables. */
int
catalog_init_master(sqlite3 *db, struct sim_error *err)
{
	return (catalog_exec(db, catalog_master_sql, err));
}

/* Read a sim_meta counter. */
int64_t
catalog_meta_get(sqlite3 *db, const char *alias, const char *key, int64_t def)
{
	sqlite3_stmt *st;
	int64_t v = def;
	char sql[200];

	snprintf(sql, sizeof(sql),
	    "SELECT value FROM \"%s\".sim_meta WHERE "
	    "key = ?",
	    alias);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return (def);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

/* Write a sim_meta counter. */
int
catalog_meta_set(sqlite3 *db, const char *alias, const char *key, int64_t v)
{
	sqlite3_stmt *st;
	char sql[200];
	int rc;

	snprintf(sql, sizeof(sql),
	    "INSERT OR REPLACE INTO \"%s\".sim_meta "
	    "VALUES (?, ?)",
	    alias);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return (rc);
}

/* The column names of a view, "a, b, c". */
static void
catalog_view_colnames(const struct catview *v, struct sbuf *b)
{
	const char *p = v->cols, *sp;
	int first = 1;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		if (!first)
			sbuf_add(b, ", ", 2);
		sbuf_add(b, "\"", 1);
		sbuf_add(b, p, sp - p);
		sbuf_add(b, "\"", 1);
		first = 0;
		p = strchr(sp, ';');
		if (p == NULL)
			break;
		p++;
	}
}

/*
 * Create a catalog view as a TEMP view the first time the session's
 * connection needs it (creating all of them made every login slow).
 */
static int
catalog_ensure_view(
    struct sim_session *s, const struct catview *v, struct sim_error *err)
{
	uint64_t bit = 1ULL << (v - catalog_views);
	struct sbuf b;
	const char *p;
	int rc;

	if (s->views_made & bit)
		return (0);
	sbuf_init(&b);
	sbuf_add(&b, "CREATE TEMP VIEW IF NOT EXISTS \"", 32);
	sbuf_add(&b, v->schema, strlen(v->schema));
	sbuf_add(&b, ".", 1);
	sbuf_add(&b, v->name, strlen(v->name));
	sbuf_add(&b, "\"(", 2);
	catalog_view_colnames(v, &b);
	sbuf_add(&b, ") AS ", 5);
	for (p = v->sql; *p != '\0'; p++) {
		if (p[0] == '$' && p[1] == 'M') {
			sbuf_add(&b, s->mschema, strlen(s->mschema));
			p++;
		} else
			sbuf_add(&b, p, 1);
	}
	sbuf_add(&b, "", 1);
	if ((rc = catalog_exec(s->db, (char *)b.data, err)) == 0)
		s->views_made |= bit;
	sbuf_free(&b);
	return (rc);
}

void
catalog_table_free(struct table *t)
{
	int i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].defexpr);
		free(t->cols[i].compexpr);
	}
	free(t->cols);
	free(t);
}

/* Build a catalog view's table from its column list. */
static struct table *
catalog_view_table(const struct catview *v)
{
	struct table *t = util_xmalloc(sizeof(*t));
	char buf[2048], *tok, *sp, *save = NULL;
	struct sim_error e;
	struct tcol *c;

	memset(t, 0, sizeof(*t));
	strcpy(t->db, "main");
	snprintf(t->schema, sizeof(t->schema), "%s", v->schema);
	snprintf(t->name, sizeof(t->name), "%s", v->name);
	snprintf(
	    t->sqlname, sizeof(t->sqlname), "\"%s.%s\"", v->schema, v->name);
	t->is_view = 1;
	snprintf(buf, sizeof(buf), "%s", v->cols);
	for (tok = strtok_r(buf, ";", &save); tok != NULL;
	     tok = strtok_r(NULL, ";", &save)) {
		t->cols =
		    util_xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
		c = &t->cols[t->ncols++];
		memset(c, 0, sizeof(*c));
		sp = strchr(tok, ' ');
		*sp = '\0';
		snprintf(c->c.name, sizeof(c->c.name), "%s", tok);
		if (engine_parse_typename(sp + 1, &c->c.type, &e) == -1)
			c->c.type.id = SIMT_INT;
		c->c.nullable = 1;
		c->column_id = t->ncols;
	}
	return (t);
}

/* Fill a column from a sim_columns row. */
static void
catalog_col_row(sqlite3_stmt *st, struct tcol *c)
{
	struct sim_error e;
	const char *def, *comp;

	memset(c, 0, sizeof(*c));
	c->column_id = sqlite3_column_int(st, 0);
	snprintf(
	    c->c.name, sizeof(c->c.name), "%s", sqlite3_column_text(st, 1));
	if (engine_parse_typename(
		(const char *)sqlite3_column_text(st, 2), &c->c.type, &e) == -1)
		c->c.type.id = SIMT_INT;
	c->c.nullable = sqlite3_column_int(st, 3);
	c->c.identity = sqlite3_column_int(st, 4);
	c->c.computed = sqlite3_column_int(st, 5);
	c->rowversion = sqlite3_column_int(st, 6);
	c->c.updateable = !c->c.identity && !c->c.computed && !c->rowversion;
	def = (const char *)sqlite3_column_text(st, 7);
	comp = (const char *)sqlite3_column_text(st, 8);
	c->defexpr = def ? util_xstrdup(def) : NULL;
	c->compexpr = comp ? util_xstrdup(comp) : NULL;
}

/* Load the columns of a user table. */
static void
catalog_load_cols(struct sim_session *s, struct table *t)
{
	sqlite3_stmt *st;
	struct tcol *c;
	char sql[800];

	snprintf(sql, sizeof(sql),
	    "SELECT column_id, name, type, "
	    "is_nullable, is_identity, is_computed, is_rowversion, "
	    "default_def, "
	    "definition FROM \"%s\".sim_columns WHERE object_id = ? ORDER BY "
	    "column_id",
	    t->db);
	if ((st = engine_stmt_get(s, sql, NULL)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, t->object_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		t->cols =
		    util_xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
		c = &t->cols[t->ncols++];
		catalog_col_row(st, c);
		t->has_identity |= c->c.identity;
		t->has_rowversion |= c->rowversion;
		t->has_computed |= c->c.computed;
	}
	engine_stmt_put(s, st);
}

/* Find a user table or view; 0 when missing. */
static int
catalog_find_table(struct sim_session *s, const char *schema, const char *name,
    struct table *t)
{
	sqlite3_stmt *st;
	char sql[800];
	int found = 0;

	snprintf(sql, sizeof(sql),
	    "SELECT o.object_id, o.name, s.name, "
	    "s.schema_id, o.type FROM \"%s\".sim_objects o JOIN "
	    "\"%s\".sim_schemas s USING (schema_id) WHERE o.type IN ('U', "
	    "'V') AND o.name = ? AND s.name = ?",
	    t->db, t->db);
	if ((st = engine_stmt_get(s, sql, NULL)) == NULL)
		return (0);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		t->object_id = sqlite3_column_int64(st, 0);
		snprintf(
		    t->name, sizeof(t->name), "%s", sqlite3_column_text(st, 1));
		snprintf(t->schema, sizeof(t->schema), "%s",
		    sqlite3_column_text(st, 2));
		t->schema_id = sqlite3_column_int(st, 3);
		if (strcmp((const char *)sqlite3_column_text(st, 4), "V") == 0)
			t->is_view = 3; /* view.c */
		if (strcmp(t->db, "main") == 0)
			snprintf(t->sqlname, sizeof(t->sqlname), "\"%s.%s\"",
			    t->schema, t->name);
		else
			snprintf(t->sqlname, sizeof(t->sqlname),
			    "\"%s\".\"%s.%s\"", t->db, t->schema, t->name);
		found = 1;
	}
	engine_stmt_put(s, st);
	return (found);
}

/* Resolve schema.name to a table or catalog view (208 when missing). */
struct table *
catalog_table(struct sim_session *s, const char *schema, const char *name,
    struct sim_error *err)
{
	return (catalog_table_in(s, "main", schema, name, err));
}

/* The same in an attached database (SQLite schema alias). */
struct table *
catalog_table_in(struct sim_session *s, const char *alias, const char *schema,
    const char *name, struct sim_error *err)
{
	const struct catview *v;
	struct table *t;

	if (name[0] == '#')
		alias = "temp";
	for (v = catalog_views; schema != NULL && v->name != NULL; v++)
		if (strcasecmp(v->schema, schema) == 0 &&
		    strcasecmp(v->name, name) == 0 &&
		    (strcmp(alias, "main") == 0 ||
			strcmp(v->name, "databases") == 0 ||
			strcmp(v->name, "server_principals") == 0)) {
			if (strcmp(v->name, "databases") == 0 ||
			    strcmp(v->name, "server_principals") == 0)
				engine_master_sync(s);
			if (strcmp(v->name, "change_tracking_databases") == 0)
				ct_master_sync(s);
			if (catalog_ensure_view(s, v, err) == -1)
				return (NULL);
			return (catalog_view_table(v));
		}
	t = util_xmalloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	snprintf(t->db, sizeof(t->db), "%s", alias);
	if ((schema == NULL && strcmp(alias, "main") == 0 &&
		strcasecmp(s->defschema, "dbo") != 0 &&
		catalog_find_table(s, s->defschema, name, t)) ||
	    catalog_find_table(s, schema ? schema : "dbo", name, t)) {
		catalog_load_cols(s, t);
		return (t);
	}
	free(t);
	if (err != NULL)
		sim_error_set(err, 208, 16, 1, "Invalid object name '%s%s%s'.",
		    schema ? schema : "", schema ? "." : "", name);
	return (NULL);
}

/* schema_id of a schema, -1 if none. */
int
catalog_schema_id(struct sim_session *s, const char *name)
{
	sqlite3_stmt *st;
	int id = -1;

	if (sqlite3_prepare_v2(s->db,
		"SELECT schema_id FROM main.sim_schemas "
		"WHERE name = ?",
		-1, &st, NULL) != SQLITE_OK)
		return (-1);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (id);
}

/* Is the session's user a member of a database role? */
int
catalog_is_member(struct sim_session *s, const char *role)
{
	sqlite3_stmt *st;
	int found = 0;

	if (s->sysadmin || strcasecmp(s->user, "dbo") == 0)
		return (1);
	if (strcasecmp(role, "public") == 0)
		return (1);
	if (sqlite3_prepare_v2(s->db,
		"SELECT 1 FROM main.sim_role_members "
		"WHERE role = ? AND member = ?",
		-1, &st, NULL) != SQLITE_OK)
		return (0);
	sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->user, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return (found);
}

/* The state of a permission: 'G', 'D' or 0, for class/major. */
static int
catalog_perm_state(
    struct sim_session *s, int class, int64_t major, const char *perm)
{
	sqlite3_stmt *st;
	int state = 0;
	const char *v;

	if (sqlite3_prepare_v2(s->db,
		"SELECT state FROM main.sim_perms WHERE "
		"class = ? AND major_id = ? AND permission = ? AND grantee IN "
		"(?, "
		"'public') ORDER BY state = 'D' DESC",
		-1, &st, NULL) != SQLITE_OK)
		return (0);
	sqlite3_bind_int(st, 1, class);
	sqlite3_bind_int64(st, 2, major);
	sqlite3_bind_text(st, 3, perm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (v = (const char *)sqlite3_column_text(st, 0)) != NULL)
		state = v[0];
	sqlite3_finalize(st);
	return (state);
}

/* Does the user hold perm on the table (object, schema, database)? */
int
catalog_has_perm(
    struct sim_session *s, int64_t object_id, int schema_id, const char *perm)
{
	int o, sc, d;

	if (catalog_is_member(s, "db_owner"))
		return (1);
	o = catalog_perm_state(s, 1, object_id, perm);
	sc = catalog_perm_state(s, 3, schema_id, perm);
	d = catalog_perm_state(s, 0, 0, perm);
	if (o == 'D' || sc == 'D' || d == 'D')
		return (0);
	if (o == 'G' || sc == 'G' || d == 'G')
		return (1);
	if (catalog_perm_state(s, 0, 0, "CONTROL") == 'G')
		return (1);
	return (0);
}

/* Error 229 unless the user may perm the table. */
int
catalog_check_perm(struct sim_session *s, struct table *t, const char *perm,
    struct sim_error *err)
{
	if (t->is_view || catalog_has_perm(s, t->object_id, t->schema_id, perm))
		return (0);
	sim_error_set(err, 229, 14, 5,
	    "The %s permission was denied on the "
	    "object '%s', database '%s', schema '%s'.",
	    perm, t->name, s->dbname, t->schema);
	return (-1);
}

/* A database option from master (allow_snapshot, rcsi, compat). */
int
catalog_db_option(struct sim_session *s, const char *db, const char *opt)
{
	char sql[200];
	sqlite3_stmt *st;
	int v = 0;

	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM main.sim_databases WHERE "
	    "name = ?",
	    opt);
	if (sqlite3_prepare_v2(engine_mdb(s), sql, -1, &st, NULL) != SQLITE_OK)
		return (0);
	sqlite3_bind_text(st, 1, db, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (v);
}
