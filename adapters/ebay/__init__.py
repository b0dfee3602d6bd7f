"""eBay: Sell Inventory API v1 (listings, price, stock) and Sell Fulfillment API v1 (orders), OAuth refresh."""
