"""Spreadsheet files: read .xlsx/.csv uploads as streamed rows, write .xlsx/.csv exports."""
from engine.tabular.reading import FileError, Sheet, Workbook, open_workbook
from engine.tabular.writing import CsvWriter, XlsxWriter, safe_text, unescape_text

__all__ = ["FileError", "Sheet", "Workbook", "open_workbook", "CsvWriter", "XlsxWriter", "safe_text",
           "unescape_text"]
