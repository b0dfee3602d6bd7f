"""Taobao / Tmall Open Platform (TOP gateway, signed form requests)."""
