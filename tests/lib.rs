//! Integration tests live in `it/` (one test binary, one link step); this
//! library is empty on purpose.
