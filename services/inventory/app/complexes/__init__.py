"""complexes"""
