"""Postern's integration-test harness (standard library only).

Real peers, no mocks: a private test PKI made with the ``openssl`` CLI (:mod:`.pki`),
private Dovecot 2.3 instances started from their own config files (:mod:`.dovecot`),
and the Postern binary itself (:mod:`.postern`). Every process started here is
recorded by pid and stopped by pid (:mod:`.procs`); nothing is ever stopped by name.

Used by ``Tests/integration`` (pytest) and by ``scripts/demo`` (``python3 -m harness.demo``).
"""

from .procs import ProcessError  # noqa: F401
