//! kiro-infra: the AWS infrastructure of the Kiro CD pipeline as a typed Rust model.
