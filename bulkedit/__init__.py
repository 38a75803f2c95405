"""bulkedit: change the metadata of many Dailymotion videos from one spreadsheet."""

__version__ = "0.1.0"
