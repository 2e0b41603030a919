-- Schema 9: analytics, observability and the audit log (issue 10). One section per part.
-- compatible-with: 8
-- Every section keeps this script additive (new tables; new columns nullable or with a default; new
-- indexes), so nodes of schema 8 keep working on it during a rolling upgrade.

-- ─── Observability ──────────────────────────────────────────────────────────────────────────────
-- The W3C traceparent a run's spans hang under, wherever and whenever its attempts run: the span of
-- the run's creation (under the request that started it, if any). Null for runs made before schema 9.
ALTER TABLE runs ADD COLUMN trace_parent TEXT NULL;
