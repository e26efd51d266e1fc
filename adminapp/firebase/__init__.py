"""Firebase-facing stores and clients: Firestore collections, Firebase Auth, the
Identity Toolkit REST API. Each call has a timeout; "dependency down" is
:class:`~adminapp.errors.BackendUnavailable`."""
