//! Python's `queue` module (in progress).
