//! The reference seller (`mercato isv serve`) and the conformance checker
//! (`mercato isv check`).
