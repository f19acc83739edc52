"""Pure domain logic: working time, policies, targets. No CLI, rendering or SQL here."""
