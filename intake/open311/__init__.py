"""Open311 GeoReport v2 (/open311/v2/): another system files and follows cases with an API key."""
