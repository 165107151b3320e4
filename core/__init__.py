"""What any app may use and that imports no app: the page cache, work after the response,
resilience, the client IP, log redaction, CSRF, sending email, staff two-factor sign-in and
/healthz."""
