"""Planning: `plan(desired, observed) -> Plan`. Purely data-manipulative: no I/O, no clock, no logs."""
