//! The three stacks of every environment. (Minimal: the assets they embed.)

pub mod assets;
