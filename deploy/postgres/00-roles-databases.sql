-- PostgreSQL bootstrap, part 0: roles and databases.
-- Run once by the postgres image's entrypoint (docker-entrypoint-initdb.d,
-- psql -v ON_ERROR_STOP=1 as the superuser, files in name order) and by
-- tests/deploy.sh against a real PostgreSQL 15.
--
-- Passwords never appear here: psql's \getenv (PostgreSQL 15+) reads them
-- from the environment, which the StatefulSet fills from the Secret
-- `postgres-credentials`. An unset variable leaves :'name' unexpanded and
-- the statement fails, so a missing secret stops the bootstrap.
\getenv debezium_password DEBEZIUM_PASSWORD
\getenv lambdaops_password LAMBDAOPS_PASSWORD
\getenv spark_password SPARK_PASSWORD
\getenv dbt_password DBT_PASSWORD
\getenv airflow_password AIRFLOW_DB_PASSWORD
\getenv loadgen_password LOADGEN_PASSWORD

-- Debezium: logical replication from `shop` (REPLICATION attribute; table
-- SELECT is granted in 03-publication.sql).
CREATE ROLE debezium WITH LOGIN REPLICATION PASSWORD :'debezium_password';
-- lambdaops: monitoring (pg_monitor reads pg_replication_slots and
-- pg_stat_replication in full) and the reconcile queries on the warehouse.
CREATE ROLE lambdaops WITH LOGIN PASSWORD :'lambdaops_password';
GRANT pg_monitor TO lambdaops;
ALTER ROLE lambdaops SET default_transaction_read_only = on;
-- Spark batch job: owns the Iceberg JDBC catalog and loads warehouse.raw.
CREATE ROLE spark WITH LOGIN PASSWORD :'spark_password';
-- dbt: builds staging/intermediate/marts in the warehouse.
CREATE ROLE dbt WITH LOGIN PASSWORD :'dbt_password';
-- The load generator (deploy/loadgen): inserts orders, nothing else.
CREATE ROLE loadgen WITH LOGIN PASSWORD :'loadgen_password';
-- Airflow's metadata database.
CREATE ROLE airflow WITH LOGIN PASSWORD :'airflow_password';

CREATE DATABASE shop;
CREATE DATABASE warehouse OWNER dbt;
CREATE DATABASE iceberg OWNER spark;
CREATE DATABASE airflow OWNER airflow;
