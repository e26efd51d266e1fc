"""The second factor at gate 2: its stages, the steps every factor shares, one
module per factor kind (TOTP, recovery codes, passkeys), the per-admin bound
on wrong codes, and the one rule for trusting Firebase's own factor."""
