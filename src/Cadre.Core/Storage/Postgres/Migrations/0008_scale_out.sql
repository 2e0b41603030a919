-- Schema 8: scale-out (issue 9): many nodes on one database. One section per part.
-- compatible-with: 7
-- Every section keeps this script additive (new tables; new columns nullable or with a default; new
-- indexes), so nodes of schema 7 keep working on it during an upgrade. Builds of schema 7 predate the
-- compatible-with rule: once this is applied they keep running, but refuse to restart.

-- Rolling upgrades: each applied migration records the oldest schema version whose builds may still
-- run on the database (its "-- compatible-with: N" line; NULL: only builds that know it).
ALTER TABLE cadre_schema_migrations ADD COLUMN compatible_with integer NULL;
