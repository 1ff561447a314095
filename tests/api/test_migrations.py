"""Alembic migrations on SQLite and PostgreSQL: they build exactly the models' schema, keep the
skeleton's rows, go down and up again, and several replicas may start at once."""

import threading
from uuid import uuid4

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from api.db import Base
from api.migrate import alembic_config, current_revision, head_revision, migrate
from tests.fixtures.api import T0


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_build_exactly_the_models_schema(migrated_engine: Engine) -> None:
    assert _differences(migrated_engine) == []
    with migrated_engine.connect() as connection:
        assert current_revision(connection) == head_revision()
    migrate(migrated_engine)  # running again changes nothing
    assert _differences(migrated_engine) == []


def test_a_skeleton_database_is_stamped_upgraded_and_keeps_its_rows(
    migrated_engine: Engine,
) -> None:
    engine = migrated_engine
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0001")
        connection.commit()
    # what the skeleton's create_all() left: its tables and no alembic_version at all
    violation_id = uuid4()
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            text(
                "INSERT INTO violations (violation_id, schema_version, site, edge, camera, rule, "
                "kind, severity, confidence, boxes, zone, occurred_at, received_at, "
                "has_snapshot, has_clip) VALUES (:id, 1, 'site-1', 'edge-1', 'cam-1', 'r', "
                "'no_hat', 3, 0.9, '[]', NULL, :at, :at, false, false)"
            ),
            {
                "id": violation_id.hex if engine.dialect.name == "sqlite" else violation_id,
                "at": T0.replace(tzinfo=None) if engine.dialect.name == "sqlite" else T0,
            },
        )
    assert "users" not in inspect(engine).get_table_names()
    migrate(engine)
    assert _differences(engine) == []
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT state, track_id, count, ended_at, duration_s, max_count FROM violations")
        ).one()
        assert current_revision(connection) == head_revision()
    # reviewed from the start (0002); one target, an incident whose end is not known (0003)
    assert tuple(row) == ("new", None, 1, None, None, None)


def test_downgrade_to_nothing_and_up_again(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        command.downgrade(alembic_config(connection), "base")
        connection.commit()
    assert set(inspect(migrated_engine).get_table_names()) <= {"alembic_version"}
    migrate(migrated_engine)
    assert _differences(migrated_engine) == []


def test_replicas_starting_together_migrate_once(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        command.downgrade(alembic_config(connection), "base")
        connection.commit()
    if migrated_engine.dialect.name == "sqlite":
        migrate(migrated_engine)  # SQLite is the single-process demo database
        assert _differences(migrated_engine) == []
        return
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start() -> None:
        barrier.wait()
        try:
            migrate(migrated_engine)
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _differences(migrated_engine) == []
