"""Amazon Selling Partner API (Listings Items, JSON_LISTINGS_FEED, Orders v0, Login with Amazon)."""
