"""Shopify Admin GraphQL API: adapter, wire mapping and emulator."""
