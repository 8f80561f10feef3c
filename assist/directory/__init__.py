"""Local authorities, expert organisations and the taxonomy that describes them."""
