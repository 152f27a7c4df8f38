//! Being built.

/// Adds this feature's job kinds and periodic tasks.
pub fn register(_registry: &crate::app::jobs::Registry) {}
