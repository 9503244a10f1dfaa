"""Social welfare (issue 14): households, cited programmes and their eligibility, the delivery ledger without
duplicates."""
