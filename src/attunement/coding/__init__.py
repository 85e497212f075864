"""Learned coding: sentence encoders, classification heads, training and evaluation."""
