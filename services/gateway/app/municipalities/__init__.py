"""The 342 CBS municipalities (gemeenten): public reference data."""
