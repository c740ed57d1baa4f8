"""Data-dictionary readers: each turns a file into variable records plus the problems found,
with the row and column of each, without touching the database."""
