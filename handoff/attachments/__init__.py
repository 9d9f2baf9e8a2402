"""Attachments (issue 12): a visitor sends a photo or a PDF, an agent sends a file.

| module | concern |
|---|---|
| `checks.py` | what a file is, from its bytes (never its name); images re-encoded, PDFs checked, size limit |
| `storage.py` | where the bytes live: the `AttachmentStorage` interface, a local directory by default |
| `links.py` | signed, expiring download links (HMAC with the service secret) |
| `desk.py` | an upload becomes a transcript message; who may fetch which file |
| `http.py` | the HTTP routes (`/api/attachments`), their rate limits and errors |

docs/protocol.md (Attachments) is the contract; docs/security.md lists the limits.
"""
