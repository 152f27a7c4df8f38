//! Pay-per-use: records pushed by sellers and validated (intake), closed
//! periods rated and charged (rating), and the usage buyers and sellers see
//! (views).

pub mod intake;
pub mod rating;
pub mod views;
