"""Standard variable sets (a risk score's inputs, a core outcome set), how much of each a dataset
covers, feasibility across the catalogue, and the variable-level question ("which datasets have
variables for these terms?")."""
