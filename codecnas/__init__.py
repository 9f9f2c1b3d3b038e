"""The codecnas command line: the composition root that wires storage, Ray and the controller."""
