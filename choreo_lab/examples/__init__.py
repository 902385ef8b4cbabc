"""Finished example systems the notebooks build step by step and import where a lesson needs them."""
