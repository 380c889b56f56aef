"""organisations"""
