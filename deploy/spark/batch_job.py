"""Batch layer: one day of raw CDC Parquet (written to S3 by the S3 sink)
merged into the Iceberg tables lake.shop.orders and lake.shop.customers,
then that day's changed rows upserted into the warehouse (raw.orders,
raw.customers) for dbt.

    batch_job.py --date 2026-01-01 --target postgres|snowflake

Run by the Airflow DAG lambda_batch_daily through deploy/spark/batch-app.yaml.
"""

import argparse
import sys

from pyspark.sql import SparkSession
from pyspark.sql import Window
from pyspark.sql import functions as F

sys.path.insert(0, "/opt/lambdaops/spark")
from common import env  # noqa: E402

RAW = "s3a://lake/raw"

# The CDC tables: Debezium topic, Iceberg table, columns (name, Spark SQL
# type) after the unwrap transform, and the warehouse table they land in.
TABLES = {
    "orders": {
        "topic": "shop.public.orders",
        "iceberg": "lake.shop.orders",
        "partitioned_by": "days(created_at)",
        "columns": [("id", "bigint"), ("customer_id", "bigint"), ("status", "string"),
                    ("amount", "decimal(12,2)"), ("created_at", "timestamp"),
                    ("updated_at", "timestamp")],
    },
    "customers": {
        "topic": "shop.public.customers",
        "iceberg": "lake.shop.customers",
        "partitioned_by": None,
        "columns": [("id", "bigint"), ("email", "string"), ("country", "string"),
                    ("created_at", "timestamp")],
    },
}


def upsert_sql(target, table, cols):
    """The statement that merges raw.<table>_stage into raw.<table>: the
    newer change (by source LSN) wins."""
    names = [c for c, _ in cols] + ["deleted", "source_lsn"]
    if target == "postgres":
        sets = ", ".join("%s = EXCLUDED.%s" % (c, c) for c in names if c != "id")
        return ("INSERT INTO raw.{t} ({cols}) SELECT {cols} FROM raw.{t}_stage "
                "ON CONFLICT (id) DO UPDATE SET {sets}, loaded_at = now() "
                "WHERE raw.{t}.source_lsn IS NULL OR EXCLUDED.source_lsn > raw.{t}.source_lsn"
                ).format(t=table, cols=", ".join(names), sets=sets)
    up = [c.upper() for c in names]
    sets = ", ".join("%s = s.%s" % (c, c) for c in up if c != "ID")
    return ("MERGE INTO RAW.{t} t USING RAW.{t}_STAGE s ON t.ID = s.ID "
            "WHEN MATCHED AND (t.SOURCE_LSN IS NULL OR s.SOURCE_LSN > t.SOURCE_LSN) THEN UPDATE SET "
            "{sets}, LOADED_AT = CURRENT_TIMESTAMP() "
            "WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})"
            ).format(t=table.upper(), sets=sets, cols=", ".join(up),
                     vals=", ".join("s." + c for c in up))


# Warehouse targets: JDBC URL, driver, user and password variables.
TARGETS = {
    "postgres": {
        "url": "jdbc:postgresql://postgres.data.svc:5432/warehouse",
        "driver": "org.postgresql.Driver",
        "user": "spark",
        "password_env": "SPARK_PASSWORD",
    },
    "snowflake": {
        "url_env": "SNOWFLAKE_JDBC_URL",
        "driver": "net.snowflake.client.jdbc.SnowflakeDriver",
        "user_env": "SNOWFLAKE_USER",
        "password_env": "SNOWFLAKE_PASSWORD",
    },
}


def session():
    """A session with the Iceberg catalog `lake`: a JDBC catalog in the
    PostgreSQL database `iceberg`, tables on S3 (MinIO). The catalog's
    password is set here from the environment, not in the Spark conf."""
    return (SparkSession.builder.appName("batch-orders")
            .config("spark.sql.extensions",
                    "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
            .config("spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog")
            .config("spark.sql.catalog.lake.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
            .config("spark.sql.catalog.lake.uri", env("ICEBERG_JDBC_URL",
                    "jdbc:postgresql://postgres.data.svc:5432/iceberg"))
            .config("spark.sql.catalog.lake.jdbc.user", "spark")
            .config("spark.sql.catalog.lake.jdbc.password", env("SPARK_PASSWORD"))
            .config("spark.sql.catalog.lake.warehouse", "s3://lake/iceberg")
            .config("spark.sql.catalog.lake.io-impl", "org.apache.iceberg.aws.s3.S3FileIO")
            .config("spark.sql.catalog.lake.s3.endpoint", env("S3_ENDPOINT",
                    "http://minio.data.svc:9000"))
            .config("spark.sql.catalog.lake.s3.path-style-access", "true")
            .config("spark.sql.catalog.lake.client.region", "us-east-1")
            .getOrCreate())


def run_sql(spark, url, user, password, statement):
    """One statement on the warehouse through the JDBC driver Spark loaded."""
    jvm = spark.sparkContext._gateway.jvm
    conn = jvm.java.sql.DriverManager.getConnection(url, user, password)
    try:
        stmt = conn.createStatement()
        stmt.setQueryTimeout(600)
        stmt.executeUpdate(statement)
        stmt.close()
    finally:
        conn.close()


def day_changes(spark, spec, day):
    """The day's change events of one table, the newest per id."""
    path = "%s/%s" % (RAW, spec["topic"])
    df = spark.read.option("basePath", path).parquet("%s/dt=%s" % (path, day))
    cols = []
    for name, typ in spec["columns"]:
        c = F.col(name)
        cols.append((F.to_timestamp(c) if typ == "timestamp" else c.cast(typ)).alias(name))
    cols.append((F.col("__deleted") == F.lit("true")).alias("deleted"))
    cols.append(F.col("__lsn").cast("long").alias("source_lsn"))
    newest = Window.partitionBy("id").orderBy(F.col("source_lsn").desc())
    return (df.select(*cols).withColumn("rn", F.row_number().over(newest))
            .where("rn = 1").drop("rn"))


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--date", required=True, help="the day to load, YYYY-MM-DD (UTC)")
    ap.add_argument("--target", choices=sorted(TARGETS), default="postgres")
    args = ap.parse_args(argv)

    target = TARGETS[args.target]
    url = target.get("url") or env(target["url_env"])
    user = target.get("user") or env(target["user_env"])
    password = env(target["password_env"])

    spark = session()
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.shop")
    for table, spec in TABLES.items():
        ddl = ", ".join("%s %s" % (c, t.upper()) for c, t in spec["columns"])
        spark.sql("CREATE TABLE IF NOT EXISTS %s (%s, deleted BOOLEAN, source_lsn BIGINT) USING iceberg%s"
                  % (spec["iceberg"], ddl,
                     " PARTITIONED BY (%s)" % spec["partitioned_by"] if spec["partitioned_by"] else ""))
        changes = day_changes(spark, spec, args.date)
        view = "changes_" + table
        changes.createOrReplaceTempView(view)
        spark.sql("""MERGE INTO %s t USING %s s ON t.id = s.id
                     WHEN MATCHED AND s.source_lsn > t.source_lsn THEN UPDATE SET *
                     WHEN NOT MATCHED THEN INSERT *""" % (spec["iceberg"], view))
        (changes.write.format("jdbc")
            .option("url", url).option("driver", target["driver"])
            .option("dbtable", "raw.%s_stage" % table)
            .option("user", user).option("password", password)
            .option("truncate", "true").option("batchsize", "10000")
            .mode("overwrite").save())
        run_sql(spark, url, user, password, upsert_sql(args.target, table, spec["columns"]))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
