"""Files people open: reading CSV/XLSX/ODS into a Sheet (load, workbook_scan) and
writing results, rollback, diff reports and templates (report, diffreport, templates).
Imports the core only.
"""
