//! A fixed xorshift for the tests that compare a fast path with its
//! reference on many drawn inputs: the same inputs on every run, no
//! dependency.

/// xorshift64 from a fixed seed.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    /// A number in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap_or(0)
    }

    /// `at_least + below(up_to)` pieces (strings or chars) drawn from
    /// `pieces`, joined: the drawn texts of those tests (the count is drawn
    /// first, then each piece in turn).
    pub(crate) fn join<T: Copy>(&mut self, pieces: &[T], at_least: usize, up_to: usize) -> String
    where
        String: FromIterator<T>,
    {
        let n = at_least + self.below(up_to);
        (0..n).map(|_| pieces[self.below(pieces.len())]).collect()
    }
}
