"""The domain: plain functions that take the acting user, check authz, write the access log, raise domain errors."""
