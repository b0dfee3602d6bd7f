"""WooCommerce REST API v3 (the team's own web shop): adapter, wire mapping, auth and emulator."""
