//! One file per page, named after the route it serves.

pub mod desk;
pub mod hris;
pub mod not_found;
pub mod signin;
