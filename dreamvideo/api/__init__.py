"""What a program calls: presets, whole renders, and scoring a dreamed video."""
