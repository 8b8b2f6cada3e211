"""What guards the desktop: the policy fixed at start-up and the write-ahead audit log."""
