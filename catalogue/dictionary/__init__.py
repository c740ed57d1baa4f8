"""Data dictionaries: import (REDCap, the HARMONY template, OMOP concept lists), export, and the
variables they hold. The readers turn a file into variable records plus the problems found,
with the row and column of each, without touching the database."""
