//! The remote suite: the same cases against a shared folder, SeaweedFS (S3) and Azurite (Azure),
//! started by the tests on loopback; the read path against fake-gcs-server; faults (a server
//! killed mid-upload, a client killed mid-upload, corrupt objects, wrong credentials).

#[path = "../cli/support.rs"]
#[allow(dead_code)]
mod support;

mod backend;
mod faults;
mod gc_race;
mod gcs;
mod hostile;
mod links;
mod proxy;
mod servers;
mod suite;
mod trust;
mod watch;
