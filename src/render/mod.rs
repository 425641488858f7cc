pub mod chart;
pub mod html;
pub mod markdown;
pub mod view;
