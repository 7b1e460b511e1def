//! Black-box tests of the `strata` binary: real processes, real files, a fresh home each.

mod support;

mod bad_input;
mod cache;
mod chaos;
mod concurrency;
mod crash;
mod free;
mod get;
mod ignore;
mod locks;
mod logging;
mod output;
mod pieces;
mod preview;
mod refs;
mod remote;
mod session;
mod stats;
mod status;
mod store;
mod switch;
mod trust;
mod versions;
mod watch;
