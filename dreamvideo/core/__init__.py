"""The dream itself: backends, models and their weights, the octave core, the engine."""
