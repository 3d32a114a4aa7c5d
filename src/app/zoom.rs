//! Zoom and pan inside the charts' time range (`+` `-` zoom, `<` `>` pan): which part of the
//! range a chart shows. The range (`[` `]`, `:range`) picks how far back the data reaches; the
//! zoom picks the slice of it on screen, so a burst inside 90 days can be read point by point
//! without losing the 90-day band around it.

/// The visible slice of a chart's time range: the range's span halved `level` times, moved
/// back from the newest point by `pan` steps of half the visible span. The default shows the
/// whole range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Zoom {
    pub level: u8,
    pub pan: u32,
}

impl Zoom {
    /// The deepest zoom: 1/64 of the range (a day of a 90-day range is ~1/90, close enough to
    /// read one backup a day as separate columns).
    pub const MAX_LEVEL: u8 = 6;

    /// How many times the range's span the visible span divides.
    pub fn factor(self) -> u32 {
        1 << self.level
    }

    /// The furthest back `pan` can go at this level: the slice then starts at the range's
    /// first point. Half-slice steps, so `2 × (factor − 1)`.
    pub fn max_pan(self) -> u32 {
        2 * (self.factor() - 1)
    }

    /// `+`: half the span, keeping the slice's newest edge where it is.
    pub fn zoom_in(self) -> Zoom {
        if self.level >= Self::MAX_LEVEL {
            return self;
        }
        Zoom {
            level: self.level + 1,
            pan: self.pan * 2,
        }
    }

    /// `-`: twice the span, keeping the newest edge where it can.
    pub fn zoom_out(self) -> Zoom {
        match self.level {
            0 => self,
            l => Zoom {
                level: l - 1,
                pan: self.pan / 2,
            },
        }
    }

    /// `<` (`older`) or `>`: half a slice back or forward, never past the range's ends.
    pub fn pan(self, older: bool) -> Zoom {
        let pan = if older {
            (self.pan + 1).min(self.max_pan())
        } else {
            self.pan.saturating_sub(1)
        };
        Zoom { pan, ..self }
    }

    /// The slice `[start, end]` of the range `[first, last]` (seconds) this zoom shows.
    pub fn window(self, first: i64, last: i64) -> (i64, i64) {
        if self.level == 0 || last <= first {
            return (first, last);
        }
        let span = last - first;
        let visible = (span >> self.level).max(1);
        let step = (visible / 2).max(1);
        let end = (last - step * i64::from(self.pan.min(self.max_pan()))).max(first + visible);
        (end - visible, end)
    }
}
