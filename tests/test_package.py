"""The package imports, the CLI answers and the data model is consistent."""

from typer.testing import CliRunner

from boligmix import errors
from boligmix.cli.main import app
from boligmix.data.schema import TABLES


def test_cli_help_lists_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "boligmix" in result.output


def test_every_error_derives_from_the_one_base():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.BoligmixError)


def test_schema_keys_and_references_name_real_columns():
    for spec in TABLES.values():
        names = set(spec.column_names)
        assert len(names) == len(spec.columns), spec.name
        assert set(spec.primary_key) <= names, spec.name
        for column in spec.columns:
            if column.references:
                table, col = column.references.split(".")
                assert col in TABLES[table].column_names, (spec.name, column.name)


def test_data_validation_error_names_file_row_and_column():
    exc = errors.DataValidationError("expected an integer", path="persons.csv", row=7, column="sex")
    assert str(exc) == "persons.csv, row 7, column 'sex': expected an integer"
