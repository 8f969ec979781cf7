"""Every CSV the product writes shows a would-be formula as text; reading one back gives the value."""

import csv
import io

import pytest

from bot.imports.csvfile import clean_cell, csv_writer, guard_cell, parse_rows


@pytest.mark.parametrize("value", ["=1+1", "+49 30 1234", "-x", "@SUM(A1)", "\t=1+1", "\r=1", '=HYPERLINK("a","b")'])
def test_a_cell_that_would_start_a_formula_gets_a_quote_and_reads_back(value):
    assert guard_cell(value) == "'" + value
    assert clean_cell(guard_cell(value)) == value


@pytest.mark.parametrize("value", ["Acme", "12000", "-12.5", "+3", "", "a=b", "'quoted"])
def test_plain_text_and_numbers_are_left_alone(value):
    assert guard_cell(value) == value


def test_the_writer_guards_every_cell():
    out = io.StringIO()
    csv_writer(out).writerow(["=cmd|' /C calc'!A0", "ok", 3, None])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=cmd|' /C calc'!A0", "ok", "3", ""]


def test_reading_keeps_a_leading_tab_so_it_cannot_become_a_formula():
    rows, problems = parse_rows("name,x\n\t=1+1 , y \n", ("name", "x"))
    assert problems == [] and rows[0]["name"] == "\t=1+1" and rows[0]["x"] == "y"


def test_a_semicolon_file_is_named_as_such():
    _, problems = parse_rows("ref;name\nD-1;A\n", ("ref", "name"))
    assert "this file uses ';' between fields" in problems[0].message
