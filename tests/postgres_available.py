"""Exit 0 when the PostgreSQL server the tests use answers, 1 otherwise (used by the Makefile)."""

import os
import sys

import psycopg

url = os.environ.get("OMS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
try:
    psycopg.connect(url, connect_timeout=3).close()
except psycopg.OperationalError as exc:
    print(f"PostgreSQL not reachable at {url}: {exc}", file=sys.stderr)
    sys.exit(1)
