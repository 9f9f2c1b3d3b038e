"""Execution of trials: the trial pipeline (train, evaluate, export, measure) and Ray executors.

The only package that imports `ray`.
"""
