-- The role Grafana's "EAP PostgreSQL" datasource logs in as (docker compose stack and kind demo):
-- it can read what the provisioned dashboards query (deploy/grafana/dashboards/product-overview.json:
-- the rollups event_counts_hourly and event_user_days, and the id, name and creation time of
-- projects) and nothing else: no writes, no api_keys, no raw events. The dashboards need no more,
-- and a Grafana login (or a visitor's crafted query) then cannot reach key hashes or change data.
--
-- Run by psql after the migrations, as the database owner, with -v reader_password=...;
-- idempotent (every `docker compose up` runs it again).

SELECT format('CREATE ROLE grafana_reader LOGIN PASSWORD %L', :'reader_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') \gexec

ALTER ROLE grafana_reader WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'reader_password';
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '30s';

-- Start from nothing, so a grant given by hand or by an earlier version of this file goes away.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM grafana_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM grafana_reader;
-- PostgreSQL 15 and later already deny CREATE in public to other roles; older ones do not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

SELECT format('GRANT CONNECT ON DATABASE %I TO grafana_reader', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON event_counts_hourly, event_user_days TO grafana_reader;
GRANT SELECT (id, name, created_at) ON projects TO grafana_reader;
