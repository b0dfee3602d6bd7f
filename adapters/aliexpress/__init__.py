"""AliExpress Open Platform (IOP gateway ``api-sg.aliexpress.com``): adapter, signing, mapping, emulator."""
