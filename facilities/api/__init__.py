"""The partner API: read-only JSON, CSV and GeoJSON under /api/v1/, filtered like the pages."""
