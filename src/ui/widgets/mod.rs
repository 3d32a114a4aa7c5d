//! Widgets shared by the views: the band chart and the sparkline column.

pub mod band_chart;
pub mod sparkline;
