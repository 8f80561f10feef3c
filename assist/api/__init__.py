"""The JSON API (/api/v1): bearer tokens, the same services and policies as the pages."""
