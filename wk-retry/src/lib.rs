//! tower retry middleware: exponential backoff with full jitter, `Retry-After`, retry budgets.
//!
//! This crate is a skeleton: the middleware lands with its own issue.

#![forbid(unsafe_code)]
