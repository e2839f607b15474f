"""The warehouse commands, and the same code against a server given by DSN."""
import psycopg2

from c360.cli import main
from c360.warehouse import ConnectionParams, open_warehouse


def test_dsn_prints_a_uri_psycopg_accepts(warehouse, capsys):
    assert main(["warehouse", "dsn"]) == 0
    uri = capsys.readouterr().out.strip()
    assert uri.startswith("postgresql://")
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from information_schema.schemata where schema_name in ('raw', 'ops', 'marts')")
        assert cur.fetchone() == (3,)


def test_status_reports_the_embedded_server(warehouse, capsys):
    assert main(["warehouse", "status"]) == 0
    assert "running" in capsys.readouterr().out


def test_a_dsn_in_the_environment_is_used_instead_of_the_embedded_server(warehouse, monkeypatch, capsys):
    external = warehouse.params.uri()
    monkeypatch.setenv("C360_WAREHOUSE_DSN", external)
    other = open_warehouse()
    assert not other.is_embedded
    assert other.params == ConnectionParams.parse(external)
    with other.connect() as conn, conn.cursor() as cur:
        cur.execute("select current_database()")
        assert cur.fetchone() == ("c360",)
    assert main(["warehouse", "stop"]) == 0
    assert "does not stop a server it did not start" in capsys.readouterr().out


def test_the_databases_c360_creates_sort_text_bytewise_in_the_servers_character_set(warehouse):
    """Collation C, so text keys compare by memcmp; the server's own character
    classes (upper, lower) and encoding are kept."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select d.datname, d.datlocprovider, d.datcollate, d.datctype = t.datctype,"
                    " d.encoding = t.encoding from pg_database as d, pg_database as t"
                    " where t.datname = 'template0' and d.datname in ('c360', 'c360_shop', 'c360_airflow')"
                    " order by d.datname")
        assert cur.fetchall() == [(name, "c", "C", True, True) for name in ("c360", "c360_airflow", "c360_shop")]
        cur.execute("select upper('élan'), array_agg(word order by word) from unnest(array['b', 'B', 'é', 'a']) as word")
        assert cur.fetchone() == ("ÉLAN", ["B", "a", "b", "é"])


def test_connection_params_round_trip_through_every_form():
    socket = ConnectionParams(dbname="c360", user="loader", password="p@ss word", host="/tmp/pg sock", port="5433")
    assert ConnectionParams.parse(socket.uri(with_password=True)) == socket
    assert "p%40ss" not in socket.uri() and ConnectionParams.parse(socket.uri()).password == ""
    assert "host=/tmp/pg%20sock" in socket.sqlalchemy_url() and "@localhost/" in socket.sqlalchemy_url()
    tcp = ConnectionParams(dbname="c360", user="bi", password="", host="db.internal", port="5432")
    assert tcp.uri() == "postgresql://bi@db.internal:5432/c360"
    assert ConnectionParams.parse(tcp.uri()) == tcp
