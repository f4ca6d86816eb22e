"""Trợ lý Lãnh sự (Consular Assistant): settings, errors and the command line."""
