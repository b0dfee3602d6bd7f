"""`python -m listing_sync.syncer` is the `syncer` command."""

from listing_sync.syncer.cli import main

main()
