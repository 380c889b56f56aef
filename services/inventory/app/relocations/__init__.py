"""relocations"""
