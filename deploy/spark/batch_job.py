"""Batch layer: one day of raw CDC Parquet (written to S3 by the S3 sink)
merged into the Iceberg table lake.shop.orders, then that day's changed
rows upserted into the warehouse (raw.orders) for dbt.

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

RAW = "s3a://lake/raw/shop.public.orders"
TABLE = "lake.shop.orders"

# Warehouse targets: JDBC URL, driver, user/password variables, and the
# upsert from the landing table into raw.orders.
TARGETS = {
    "postgres": {
        "url": "jdbc:postgresql://postgres.data.svc:5432/warehouse",
        "driver": "org.postgresql.Driver",
        "user": "spark",
        "password_env": "SPARK_PASSWORD",
        "stage": "raw.orders_stage",
        "merge": (
            "INSERT INTO raw.orders (id, customer_id, status, amount, created_at,"
            " updated_at, deleted, source_lsn) "
            "SELECT id, customer_id, status, amount, created_at, updated_at, deleted,"
            " source_lsn FROM raw.orders_stage "
            "ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id,"
            " status = EXCLUDED.status, amount = EXCLUDED.amount,"
            " updated_at = EXCLUDED.updated_at, deleted = EXCLUDED.deleted,"
            " source_lsn = EXCLUDED.source_lsn, loaded_at = now() "
            "WHERE raw.orders.source_lsn IS NULL OR EXCLUDED.source_lsn > raw.orders.source_lsn"),
    },
    "snowflake": {
        "url_env": "SNOWFLAKE_JDBC_URL",
        "driver": "net.snowflake.client.jdbc.SnowflakeDriver",
        "user_env": "SNOWFLAKE_USER",
        "password_env": "SNOWFLAKE_PASSWORD",
        "stage": "RAW.ORDERS_STAGE",
        "merge": (
            "MERGE INTO RAW.ORDERS t USING RAW.ORDERS_STAGE s ON t.ID = s.ID "
            "WHEN MATCHED AND (t.SOURCE_LSN IS NULL OR s.SOURCE_LSN > t.SOURCE_LSN) THEN UPDATE SET"
            " CUSTOMER_ID = s.CUSTOMER_ID, STATUS = s.STATUS, AMOUNT = s.AMOUNT,"
            " UPDATED_AT = s.UPDATED_AT, DELETED = s.DELETED, SOURCE_LSN = s.SOURCE_LSN,"
            " LOADED_AT = CURRENT_TIMESTAMP() "
            "WHEN NOT MATCHED THEN INSERT (ID, CUSTOMER_ID, STATUS, AMOUNT, CREATED_AT,"
            " UPDATED_AT, DELETED, SOURCE_LSN) VALUES (s.ID, s.CUSTOMER_ID, s.STATUS,"
            " s.AMOUNT, s.CREATED_AT, s.UPDATED_AT, s.DELETED, s.SOURCE_LSN)"),
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


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--date", required=True, help="the day to load, YYYY-MM-DD (UTC)")
    ap.add_argument("--target", choices=sorted(TARGETS), default="postgres")
    args = ap.parse_args(argv)

    spark = session()
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.shop")
    spark.sql(f"""CREATE TABLE IF NOT EXISTS {TABLE} (
                    id BIGINT, customer_id BIGINT, status STRING,
                    amount DECIMAL(12,2), created_at TIMESTAMP, updated_at TIMESTAMP,
                    deleted BOOLEAN, source_lsn BIGINT)
                  USING iceberg PARTITIONED BY (days(created_at))""")

    day = (spark.read.option("basePath", RAW).parquet(f"{RAW}/dt={args.date}")
           .select(F.col("id").cast("long").alias("id"),
                   F.col("customer_id").cast("long").alias("customer_id"),
                   F.col("status"),
                   F.col("amount").cast("decimal(12,2)").alias("amount"),
                   F.to_timestamp("created_at").alias("created_at"),
                   F.to_timestamp("updated_at").alias("updated_at"),
                   (F.col("__deleted") == F.lit("true")).alias("deleted"),
                   F.col("__lsn").cast("long").alias("source_lsn")))
    # The newest change of each order of the day wins.
    newest = Window.partitionBy("id").orderBy(F.col("source_lsn").desc())
    changes = (day.withColumn("rn", F.row_number().over(newest))
               .where("rn = 1").drop("rn"))
    changes.createOrReplaceTempView("changes")
    spark.sql(f"""MERGE INTO {TABLE} t USING changes s ON t.id = s.id
                  WHEN MATCHED AND s.source_lsn > t.source_lsn THEN UPDATE SET *
                  WHEN NOT MATCHED THEN INSERT *""")

    target = TARGETS[args.target]
    url = target.get("url") or env(target["url_env"])
    user = target.get("user") or env(target["user_env"])
    password = env(target["password_env"])
    (changes.write.format("jdbc")
        .option("url", url).option("driver", target["driver"])
        .option("dbtable", target["stage"])
        .option("user", user).option("password", password)
        .option("truncate", "true").option("batchsize", "10000")
        .mode("overwrite").save())
    run_sql(spark, url, user, password, target["merge"])
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
