"""Files and streams: images, video sources and writers, safe outputs, work folders."""
