"""Planning: `plan(desired, observed) -> Plan`. Purely data-manipulative: no I/O, clock or logs."""
